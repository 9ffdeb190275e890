/**
 * One chaos world: a fresh Postgres database, ClickHouse database and Kafka topic
 * prefix on the real stack; the sandbox playing Amazon, AMC and BigBuy; the six
 * services as real processes; and the main job a user runs, started through their
 * HTTP APIs: an ingestion (profiles, entities, report requests), a report backfill,
 * AMC executions and a supplier import. Faults act on it; the judge reads it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox, type Scale } from '@adsync/sandbox';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, BIGBUY_API_KEY } from '@adsync/sandbox';
import {
  freshClickHouse,
  freshPostgres,
  testConfig,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { ServiceProcess, SERVICE_NAMES, freePort, type ServiceName } from '@adsync/shared/testing/service-process';
import type { KafkaCluster } from '@adsync/shared/testing/kafka-cluster';
import type { ClickHouseCluster } from '@adsync/shared/testing/clickhouse-cluster';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface WorldOptions {
  name: string;
  seed: number;
  scale: Partial<Scale>;
  /** Amazon's report generation time and added latency: what makes the job take tens of seconds. */
  reportGenerationMs: number;
  latencyMs: number;
  supplierProducts: number;
  /** Extra environment for every service (a benchmark's wider poll batches). */
  env?: Record<string, string>;
  /** Processes of each service (the fleet subset runs two). */
  replicas?: number;
  /** The fleet's servers, when the world runs on them (KAFKA_BROKERS and CLICKHOUSE_URL name them too). */
  fleet?: Fleet;
}

/** The replicated servers the fleet subset runs on: three Kafka nodes, two ClickHouse replicas. */
export interface Fleet {
  kafka: KafkaCluster;
  clickhouse: ClickHouseCluster;
}

export const DEFAULT_WORLD: Omit<WorldOptions, 'name'> = {
  seed: 1234,
  scale: {
    profiles: 3,
    campaignsPerProfile: 5,
    adGroupsPerCampaign: 3,
    keywordsPerAdGroup: 8,
    searchTermsPerKeyword: 2,
  },
  reportGenerationMs: 1_500,
  latencyMs: 5,
  supplierProducts: 400,
};

/** The backfill the job asks report-requester for, beyond the scheduled windows. */
export const BACKFILL_TYPES = ['spCampaigns', 'sbCampaigns'];
export const BACKFILL_DAYS = 60;

export interface Job {
  accountId: string;
  ingestionRunId: string;
  backfillRunId: string | null;
  amcExecutionIds: string[];
  supplierJobId: string;
  startedAt: number;
}

export class World {
  readonly options: WorldOptions;
  readonly sandbox: Sandbox;
  readonly pg: FreshPostgres;
  readonly ch: FreshClickHouse;
  readonly prefix: string;
  readonly adminKey: string;
  /** Each service's first process (the only one, unless the world runs replicas). */
  readonly services: Record<ServiceName, ServiceProcess>;
  /** Every process of each service. */
  readonly replicas: Record<ServiceName, ServiceProcess[]>;
  readonly logDir: string;
  job: Job | null = null;
  /**
   * Each consumer group and topic seen with committed offsets: one that shows none later (a
   * restarted broker still loading its offsets) is not finished with it, only not visible yet.
   */
  readonly readers = new Set<string>();
  /**
   * Each consumer group ever listed (before the fault struck, and since): the lag is asked of each
   * one's coordinator, since a group can be missing from the brokers' lists while it moves.
   */
  readonly groups = new Set<string>();

  private constructor(o: {
    options: WorldOptions;
    sandbox: Sandbox;
    pg: FreshPostgres;
    ch: FreshClickHouse;
    prefix: string;
    adminKey: string;
    replicas: Record<ServiceName, ServiceProcess[]>;
    logDir: string;
  }) {
    this.options = o.options;
    this.sandbox = o.sandbox;
    this.pg = o.pg;
    this.ch = o.ch;
    this.prefix = o.prefix;
    this.adminKey = o.adminKey;
    this.replicas = o.replicas;
    this.services = Object.fromEntries(SERVICE_NAMES.map((n) => [n, o.replicas[n][0]!])) as Record<
      ServiceName,
      ServiceProcess
    >;
    this.logDir = o.logDir;
  }

  static async create(options: WorldOptions): Promise<World> {
    const sandbox = await startSandbox({
      seed: options.seed,
      scale: options.scale,
      faults: { reportGenerationMs: options.reportGenerationMs, latencyMs: options.latencyMs, amcExecutionMs: 3_000 },
    });
    sandbox.state.supplierScale = { products: options.supplierProducts, orders: 20 };
    const pg = await freshPostgres();
    const ch = await freshClickHouse();
    const prefix = `${uniqueName(`chaos_${options.name.replace(/[^a-z0-9]/gi, '')}`)}.`;
    const adminKey = `adsk_${randomBytes(24).toString('base64url')}`;
    const logDir = join(ROOT, '.stack', 'logs', 'chaos', prefix.slice(0, -1));
    mkdirSync(logDir, { recursive: true });
    const cfg = testConfig();
    const env: Record<string, string> = {
      DATABASE_URL: pg.url,
      CLICKHOUSE_DATABASE: ch.ch.database,
      KAFKA_TOPIC_PREFIX: prefix,
      SCHEMA_REGISTRY_URL: cfg.SCHEMA_REGISTRY_URL ?? '',
      AMAZON_ADS_BASE_URL: sandbox.url,
      BIGBUY_BASE_URL: sandbox.url,
      ALIEXPRESS_BASE_URL: sandbox.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'info',
      // The production defaults are minutes; a fault suite wants seconds.
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      POLL_MIN_SPACING_MS: '1000',
      ENTITY_SYNC_LEASE_MS: '5000',
      ENTITY_SYNC_EXPORT_POLL_MS: '300',
      AMC_POLL_INTERVAL_MS: '1000',
      AMC_POLL_MIN_SPACING_MS: '500',
      SUPPLIER_LEASE_MS: '5000',
      ...options.env,
    };
    const replicas = {} as Record<ServiceName, ServiceProcess[]>;
    for (const name of SERVICE_NAMES) {
      replicas[name] = [];
      for (let i = 0; i < (options.replicas ?? 1); i++)
        replicas[name].push(new ServiceProcess(name, { port: await freePort(), env, logDir }));
    }
    // Started together, as an orchestrator would: migrations and topic creation race, and must not mind.
    await Promise.all(
      Object.values(replicas)
        .flat()
        .map((s) => s.start(180_000)),
    );
    return new World({ options, sandbox, pg, ch, prefix, adminKey, replicas, logDir });
  }

  /** Calls a service's API with the admin key; throws with the answer on anything but 2xx. */
  async api<T = Record<string, unknown>>(
    service: ServiceName,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    // Whichever process of the service runs (a fault may have one down), as a load balancer would.
    const target = this.replicas[service].find((r) => r.running) ?? this.services[service];
    const res = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${service} ${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Like api(), retried while the service is down (a fault may be in progress). */
  async apiEventually<T>(
    service: ServiceName,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 120_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.api<T>(service, method, path, body);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** A new account with the sandbox's Login with Amazon credentials stored: its id. */
  async connectedAccount(companyName: string): Promise<string> {
    const { id } = await this.api<{ id: string }>('entity-sync', 'POST', '/v1/accounts', { company_name: companyName });
    await this.api('entity-sync', 'POST', `/v1/accounts/${id}/credentials`, {
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
      refresh_token: SANDBOX_REFRESH_TOKEN,
    });
    return id;
  }

  /** Starts the main job: what a user does on the first day. */
  async startJob(): Promise<Job> {
    const startedAt = Date.now();
    const accountId = await this.connectedAccount('Chaos Agency');
    // DSP in the job: the first advertiser the sandbox links to the manager account (its reports
    // are its own, asked with Amazon-Ads-AccountId); the others are left out, so the judge's
    // DSP share (every measure of every owner, type and day) stays small enough for CI.
    const ds = this.sandbox.state.dataset;
    const linked = ds
      .profiles()
      .filter((p) => p.accountInfo.type !== 'agency')
      .flatMap((p) => ds.dspAdvertisers(p.index).map((a) => a.advertiserId));
    await this.api('entity-sync', 'PUT', `/v1/accounts/${accountId}/profile-selection`, {
      excludeDspAdvertiserIds: linked.slice(1),
    });
    const { runId: ingestionRunId } = await this.api<{ runId: string }>(
      'entity-sync',
      'POST',
      `/v1/ingestion/sync-account/${accountId}`,
    );
    await this.api('amc-runner', 'POST', '/v1/amc/instances', {
      accountId,
      instanceId: 'amcchaos01',
      advertiserId: 'ENTITYCHAOS',
      marketplaceId: 'ATVPDKIKX0DER',
    });
    await this.api('amc-runner', 'POST', '/v1/amc/workflows', {
      instanceId: 'amcchaos01',
      workflowId: 'chaos_reach',
      sqlQuery: 'SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign',
    });
    const amcExecutionIds: string[] = [];
    for (const [from, to] of [
      [40, 30],
      [29, 20],
    ]) {
      const day = (n: number) => `${new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)}T00:00:00`;
      const e = await this.api<{ id: string }>('amc-runner', 'POST', '/v1/amc/executions', {
        workflowId: 'chaos_reach',
        timeWindowStart: day(from!),
        timeWindowEnd: day(to!),
      });
      amcExecutionIds.push(e.id);
    }
    const supplier = await this.api<{ id: string }>('supplier-sync', 'POST', '/v1/suppliers', {
      accountId,
      kind: 'bigbuy',
      name: 'BigBuy (sandbox)',
      credentials: { apiKey: BIGBUY_API_KEY },
    });
    const { id: supplierJobId } = await this.api<{ id: string }>('supplier-sync', 'POST', '/v1/jobs', {
      supplierId: supplier.id,
      jobType: 'supplier_api',
    });
    this.job = { accountId, ingestionRunId, backfillRunId: null, amcExecutionIds, supplierJobId, startedAt };
    return this.job;
  }

  /**
   * Once the ingestion has found the profiles, a backfill of two report types beyond
   * the scheduled windows, through report-requester (so its process has work too).
   */
  async requestBackfill(): Promise<void> {
    const job = this.job!;
    for (;;) {
      const run = await this.apiEventually<{ stages: { profiles?: { status: string } }; status: string }>(
        'entity-sync',
        'GET',
        `/v1/ingestion/runs/${job.ingestionRunId}`,
      );
      if (run.stages.profiles?.status === 'done' || ['succeeded', 'partial', 'failed'].includes(run.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const { runId } = await this.apiEventually<{ runId: string }>('report-requester', 'POST', '/v1/reports/request', {
      accountId: job.accountId,
      reportTypes: BACKFILL_TYPES,
      backfillDays: BACKFILL_DAYS,
    });
    job.backfillRunId = runId;
  }

  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.replicas)
        .flat()
        .map((s) => s.stop().catch(() => undefined)),
    );
    // Answers off Amazon's models stay in sandbox.state.violations for runCell to report.
    await this.sandbox.close().catch(() => undefined);
    await this.ch.drop().catch(() => undefined);
    await this.pg.drop().catch(() => undefined);
  }
}

export { SERVICE_NAMES, type ServiceName };
