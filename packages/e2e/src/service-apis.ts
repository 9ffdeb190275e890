/**
 * Every service's HTTP API registered on its own Fastify app, as each main.ts registers it, with
 * the dependencies given: the suites pass real ones (service-apps.ts), the console's type
 * generator inert ones (it only reads the OpenAPI documents). One list, so a route a service
 * adds reaches both the isolation suite and the console's types.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import { createHttpServer } from '@adsync/shared/http/server';
import { startLoop, type Loop } from '@adsync/shared/runtime/loop';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { DEFAULT_TIERS } from '@adsync/shared/reports/report-plan';
import { SANDBOX_LWA_APP } from '@adsync/shared/amazon/lwa-authorization';
import { registerApi, registerIngestionApi } from '@adsync/entity-sync/api';
import { registerConnectApi } from '@adsync/entity-sync/connect-api';
import { registerRequesterApi } from '@adsync/report-requester/api';
import { registerReportsApi } from '@adsync/report-poller/api';
import { registerAmcRoutes } from '@adsync/amc-runner/routes';
import { registerSupplierApi } from '@adsync/supplier-sync/api';
import { registerDeadLetterApi } from '@adsync/etl-loader/dead-letter-api';
import { registerStreamApi } from '@adsync/stream-consumer/stream-api';
import { destinationPolicies } from '@adsync/supplier-sync/deliveries';
import { SERVICE_NAMES as SERVICES, type ServiceName as Service } from '@adsync/cli/api';

// The services, as the CLI (and the local runner) name them.
export { SERVICE_NAMES as SERVICES, type ServiceName as Service } from '@adsync/cli/api';

export interface ServiceApiDeps {
  db: Knex;
  ch: ClickHouse;
  box: SecretBox;
  clients: AmazonClients;
  log: Logger;
  amazonBaseUrl: string;
  /** Origins webhooks and marketplace endpoints may reach over http (the sandbox's). */
  trustedOrigins: string[];
}

export interface ServiceApis {
  apps: Record<Service, FastifyInstance>;
  /** Stops what registering started (the poller's loop) and closes the apps. */
  close(): Promise<void>;
}

export async function registerServiceApis(d: ServiceApiDeps): Promise<ServiceApis> {
  const { db, ch, box, clients, log } = d;
  const apps = {} as Record<Service, FastifyInstance>;
  for (const s of SERVICES) apps[s] = await createHttpServer({ name: s, log, db, readiness: {} });
  const background = (p: Promise<unknown>) => void p.catch(() => undefined);
  const entityDeps = {
    db,
    ch,
    box,
    clients,
    log,
    batchSize: 100,
    exportPollMs: 20,
    amazonBaseUrl: d.amazonBaseUrl,
    wakeSyncs: () => undefined,
  };
  registerApi(apps['entity-sync'], entityDeps);
  registerIngestionApi(apps['entity-sync'], { ...entityDeps, wakeIngestion: () => undefined });
  registerConnectApi(apps['entity-sync'], {
    ...entityDeps,
    lwa: { ...SANDBOX_LWA_APP, redirectUri: 'http://127.0.0.1:8081/v1/oauth/callback', stateTtlMs: 600_000 },
  });
  registerRequesterApi(apps['report-requester'], {
    db,
    clients,
    log,
    reportTypes: REPORT_TYPE_IDS,
    tiers: DEFAULT_TIERS,
    concurrency: 1,
    background,
    relay: async () => undefined,
  });
  const poller: Loop = startLoop({ name: 'poll', intervalMs: 3_600_000, immediate: false, log, tick: async () => 0 });
  registerReportsApi(apps['report-poller'], { db, poller });
  registerAmcRoutes(apps['amc-runner'], { db, ch, clients, log, defaultWindowDays: 7 });
  registerSupplierApi(apps['supplier-sync'], {
    db,
    box,
    relay: async () => undefined,
    maxAttempts: 3,
    destinations: destinationPolicies(d.trustedOrigins),
  });
  registerStreamApi(apps['stream-consumer'], {
    db,
    clients,
    destinationArn: () => 'arn:aws:sqs:us-east-1:000000000000:isolation-stream',
  });
  // The dead-letter routes are admin-only; the suites only prove an account key is refused
  // before anything is read or sent, so no broker is needed (a replay here would say so).
  const noBroker = new Proxy({} as EventBus, {
    get: () => () => Promise.reject(new Error('no Kafka here; a replay cannot be sent')),
  });
  registerDeadLetterApi(apps['etl-loader'], { db, ch, bus: noBroker });
  for (const app of Object.values(apps)) await app.ready();
  return {
    apps,
    close: async () => {
      await poller.stop();
      for (const app of Object.values(apps)) await app.close();
    },
  };
}
