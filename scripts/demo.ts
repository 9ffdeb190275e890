/**
 * The main job, as a user would run adsync: the sandbox and every service start as
 * their own processes (their real entry points), and the demo drives them through
 * their HTTP APIs — account, credentials, ingestion (profiles, entities, report
 * requests), reports polled and loaded through Kafka into ClickHouse, an AMC
 * execution, a supplier cycle — printing progress and a closing summary.
 *
 * Run it with `deploy/local/stack demo`. Service logs go to .stack/logs/demo-*.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBaseConfig } from '@adsync/shared/config/base-config';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { ALL_TOPICS, subjectFor } from '@adsync/shared/events/contracts';
import { BIGBUY_API_KEY } from '@adsync/sandbox';
import { localProcess, localServices, takenPorts, waitReady, type ServiceName } from '@adsync/local-run/local-services';

const root = fileURLToPath(new URL('../', import.meta.url));
const logs = `${process.env.ADSYNC_STACK_DIR ?? `${root}.stack`}/logs`;
mkdirSync(logs, { recursive: true });
const started = Date.now();
const step = (msg: string) => console.log(`\x1b[1m▸ ${msg}\x1b[0m  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const ADMIN = process.env.ADMIN_API_KEY ?? 'adsk_local_demo_admin_key_change_me_in_production';
// Every port the demo listens on, each moved by its variable (local-services.ts).
const sandboxProcess = localProcess('sandbox');
const SANDBOX_PORT = sandboxProcess.port;
const SANDBOX = `http://127.0.0.1:${SANDBOX_PORT}`;
const PORTS = Object.fromEntries(localServices().map((p) => [p.name, p.port])) as Record<ServiceName, number>;

/** Refuses to start when a port is taken, naming it and the variable that moves it. */
async function checkPorts(): Promise<void> {
  const taken = await takenPorts([sandboxProcess, ...localServices()]);
  if (taken.length) throw new Error(`cannot start the demo:\n  ${taken.join('\n  ')}`);
}
const children: { name: string; proc: ChildProcess }[] = [];
const cfg = loadBaseConfig();
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-demo' });
const ch = await createClickHouse({
  url: cfg.CLICKHOUSE_URL,
  cluster: cfg.CLICKHOUSE_CLUSTER,
  database: cfg.CLICKHOUSE_DATABASE,
  application: 'adsync-demo',
  username: cfg.CLICKHOUSE_USER,
  password: cfg.CLICKHOUSE_PASSWORD,
});

function start(name: string, entry: string, env: Record<string, string>) {
  const out = createWriteStream(`${logs}/demo-${name}.log`, { flags: 'w' });
  const proc = spawn(process.execPath, [entry], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      ADMIN_API_KEY: ADMIN,
      AMAZON_ADS_BASE_URL: SANDBOX,
      BIGBUY_BASE_URL: SANDBOX,
      ALIEXPRESS_BASE_URL: SANDBOX,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.pipe(out);
  proc.stderr!.pipe(out);
  proc.on('exit', (code, signal) => {
    if (!stopping) console.error(`  ${name} exited unexpectedly (${code ?? signal}); see ${logs}/demo-${name}.log`);
  });
  children.push({ name, proc });
}

async function api<T = Record<string, unknown>>(
  service: ServiceName,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${PORTS[service]}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What the services registered at start-up: one subject per event topic, each BACKWARD. */
async function registrySummary(): Promise<string> {
  const url = cfg.SCHEMA_REGISTRY_URL;
  if (!url) return 'schema registry: none configured, events use the in-repo schemas (SCHEMA_REGISTRY_URL unset)';
  const parts: string[] = [];
  for (const topic of ALL_TOPICS) {
    const subject = subjectFor(topic);
    const latest = (await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions/latest`)).json()) as {
      id?: number;
      version?: number;
    };
    const config = (await (await fetch(`${url}/config/${encodeURIComponent(subject)}`)).json()) as {
      compatibilityLevel?: string;
    };
    if (latest.id === undefined)
      throw new Error(`the services started but ${subject} is not in the schema registry at ${url}`);
    parts.push(`${subject} v${latest.version} id ${latest.id} ${config.compatibilityLevel}`);
  }
  return `schema registry ${url}: events encoded with registered schemas (${parts.join('; ')})`;
}

/** What the stack's Prometheus scraped from the services while the demo ran. */
async function prometheusSummary(): Promise<string> {
  const url = process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:19090';
  const q = 'count by (__name__) ({job="adsync", __name__=~"adsync_.*"})';
  let names: string[] = [];
  let up = 0;
  for (let i = 0; i < 30; i++) {
    try {
      const get = async (query: string) =>
        (
          (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
            data: { result: { metric: Record<string, string>; value: [number, string] }[] };
          }
        ).data.result;
      names = (await get(q)).map((r) => r.metric.__name__!).sort();
      up = (await get('sum(up{job="adsync"})')).map((r) => Number(r.value[1]))[0] ?? 0;
      if (names.length >= 8 && up === Object.keys(PORTS).length) break;
    } catch {
      return `prometheus: not reachable at ${url} (deploy/local/stack up starts it)`;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return `prometheus ${url}: ${up} of ${Object.keys(PORTS).length} services scraped, ${names.length} adsync metric families (${names.map((n) => n.replace(/^adsync_/, '')).join(', ')})`;
}

let stopping = false;
let exitCode = 0;
try {
  step('checking the stack and migrating both databases');
  const pg = await postgresReady(db);
  const chr = await clickhouseReady(ch);
  if (!pg.ok || !chr.ok)
    throw new Error(`stack not ready: postgres ${pg.detail}, clickhouse ${chr.detail}; run deploy/local/stack up`);
  const m1 = await migratePostgres(db);
  const m2 = await migrateClickHouse(ch);
  console.log(
    `  postgres ok (${m1.applied.length} migrations applied now), clickhouse ok (${m2.applied.length}), kafka ${cfg.KAFKA_BROKERS.join(',')}, schema registry ${cfg.SCHEMA_REGISTRY_URL ?? 'none (in-repo schemas)'}`,
  );

  step('starting the sandbox (Amazon Ads, AMC, BigBuy, AliExpress) and every service');
  await checkPorts();
  start('sandbox', 'packages/sandbox/src/main.ts', {
    SANDBOX_PORT: String(SANDBOX_PORT),
    SANDBOX_REPORT_GENERATION_MS: '1500',
    // Marketing Stream delivers to the stack's ElasticMQ.
    SANDBOX_SQS_ENDPOINT: process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:19324',
  });
  await waitReady(sandboxProcess, `${logs}/demo-sandbox.log`);
  await fetch(`${SANDBOX}/_sandbox/faults`, {
    method: 'POST',
    body: JSON.stringify({ rate429: 0.05, retryAfterSec: 0, amcExecutionMs: 3000 }),
  });
  start('entity-sync', 'services/entity-sync/src/main.ts', { ENTITY_SYNC_EXPORT_POLL_MS: '500' });
  start('report-requester', 'services/report-requester/src/main.ts', {});
  start('report-poller', 'services/report-poller/src/main.ts', {
    POLL_MIN_SPACING_MS: '1000',
    POLL_MAX_REPORTS: '30',
  });
  start('etl-loader', 'services/etl-loader/src/main.ts', {});
  start('amc-runner', 'services/amc-runner/src/main.ts', {
    AMC_POLL_INTERVAL_MS: '1000',
    AMC_POLL_MIN_SPACING_MS: '500',
    AMC_DASHBOARD_FILE: `${logs}/amc-dashboard.json`,
  });
  start('supplier-sync', 'services/supplier-sync/src/main.ts', {});
  start('stream-consumer', 'services/stream-consumer/src/main.ts', { STREAM_WAIT_SECONDS: '1' });
  for (const p of localServices()) await waitReady(p, `${logs}/demo-${p.name}.log`);
  console.log(`  ${Object.keys(PORTS).join(', ')} ready (logs: ${logs}/demo-*.log)`);
  console.log(`  ${await registrySummary()}`);

  step('creating the demo account');
  const accounts = await api<{ accounts: { id: string; company_name: string }[] }>(
    'entity-sync',
    'GET',
    '/v1/accounts',
  );
  let accountId = accounts.accounts.find((a) => a.company_name === 'Demo Agency (sandbox)')?.id;
  accountId ??= (
    await api<{ id: string }>('entity-sync', 'POST', '/v1/accounts', {
      company_name: 'Demo Agency (sandbox)',
      primary_contact_email: 'demo@adsync.invalid',
    })
  ).id;
  step("connecting it through Amazon's consent page (the sandbox plays Login with Amazon)");
  const connect = await api<{ consent_url: string }>('entity-sync', 'POST', `/v1/accounts/${accountId}/connect`, {
    region: 'NA',
  });
  console.log(`  consent URL: ${connect.consent_url.slice(0, 110)}…`);
  // What the advertiser does in a browser: open adsync's consent link (which binds the consent to
  // this browser with a cookie and sends it to Amazon), press Allow, follow Amazon's redirect back.
  const linkPage = await (await fetch(connect.consent_url)).text();
  const state = /name="state" value="([^"]+)"/.exec(linkPage)?.[1]?.replaceAll('&amp;', '&');
  if (!state) throw new Error(`the consent link's page has no button: ${linkPage.slice(0, 200)}`);
  const link = await fetch(new URL('start', connect.consent_url), {
    method: 'POST',
    body: new URLSearchParams({ state }),
    redirect: 'manual',
  });
  const amazonPage = link.headers.get('location');
  if (link.status !== 302 || !amazonPage) throw new Error(`the consent link answered ${link.status}`);
  const cookie = link.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const page = await (await fetch(amazonPage)).text();
  const form = new URLSearchParams(
    [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
      ([, k, v]) =>
        [k!, v!.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&')] as [string, string],
    ),
  );
  form.set('consent', 'allow');
  const allowed = await fetch(new URL('/ap/oa', amazonPage), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  const callback = allowed.headers.get('location');
  if (allowed.status !== 302 || !callback) throw new Error(`the consent page answered ${allowed.status}`);
  const landed = await fetch(callback, { headers: { cookie } });
  const html = await landed.text();
  if (landed.status !== 200)
    throw new Error(`the callback answered ${landed.status}: ${html.replace(/<[^>]+>/g, ' ')}`);
  console.log(`  ${/<h1>([^<]+)<\/h1>/.exec(html)?.[1] ?? 'connected'}: refresh token sealed, profiles discovered`);

  step('ingestion: profiles, entities, report requests, Amazon Attribution');
  const { runId } = await api<{ runId: string }>('entity-sync', 'POST', `/v1/ingestion/sync-account/${accountId}`);
  let lastLine = '';
  const run = await until('the ingestion run', async () => {
    const r = await api<{ status: string; stages: Record<string, Record<string, unknown>> }>(
      'entity-sync',
      'GET',
      `/v1/ingestion/runs/${runId}`,
    );
    const line = (['profiles', 'entities', 'reports', 'attribution'] as const)
      .filter((k) => r.stages[k])
      .map((k) => [k, r.stages[k]!] as const)
      .map(
        ([k, v]) =>
          `${k}: ${Object.entries(v)
            .filter(([x]) => x !== 'failed' || Number(v.failed))
            .map(([x, y]) => `${x}=${Array.isArray(y) ? y.length : y}`)
            .join(' ')}`,
      )
      .join(' | ');
    if (line !== lastLine) console.log(`  ${line}`);
    lastLine = line;
    return r.status === 'running' || r.status === 'queued' ? undefined : r;
  });
  if (run.status !== 'succeeded') exitCode = 1;

  step('waiting for the reports: polled by report-poller, loaded by etl-loader through Kafka');
  let last = '';
  await until('the reports to load', async () => {
    const byStatus = await db('pending_amazon_reports')
      .where({ run_id: runId })
      .groupBy('status')
      .select('status', db.raw('count(*)::int as n'));
    const line = byStatus.map((s) => `${s.status} ${s.n}`).join(', ') || 'none due (already requested recently)';
    if (line !== last) console.log(`  ${line}`);
    last = line;
    return byStatus.every((s) => s.status === 'loaded' || s.status === 'failed') ? true : undefined;
  });

  step('AMC: saving a workflow and running it (Parquet)');
  await api('amc-runner', 'POST', '/v1/amc/instances', {
    accountId,
    instanceId: 'amcdemo01',
    advertiserId: 'ENTITYDEMO',
    marketplaceId: 'ATVPDKIKX0DER',
  });
  await api('amc-runner', 'POST', '/v1/amc/workflows', {
    instanceId: 'amcdemo01',
    workflowId: 'demo_reach',
    sqlQuery:
      'SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign',
  });
  const exec = await api<{ id: string; request: Record<string, string> }>('amc-runner', 'POST', '/v1/amc/executions', {
    workflowId: 'demo_reach',
    outputFormat: 'PARQUET',
    timeWindowStart: new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00',
    timeWindowEnd: new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00',
  }).catch(async (err) => {
    // A previous demo run may still hold this window; AMC refuses overlaps.
    console.log(`  ${(err as Error).message}`);
    return null;
  });
  if (exec) {
    console.log(
      `  execution ${exec.id}: ${exec.request.timeWindowStart} → ${exec.request.timeWindowEnd} ${exec.request.timeWindowTimeZone}`,
    );
    const done = await until('the AMC execution', async () => {
      const e = await api<{
        status: string;
        row_count: number;
        size_bytes: number;
        output_location: string;
        failureReason: string | null;
      }>('amc-runner', 'GET', `/v1/amc/executions/${exec.id}`);
      return e.status === 'completed' || e.status === 'failed' ? e : undefined;
    });
    console.log(
      `  ${done.status}: ${done.row_count ?? 0} rows, ${done.size_bytes ?? 0} bytes at ${done.output_location ?? '-'}${done.failureReason ? ` (${done.failureReason})` : ''}`,
    );
    if (done.status !== 'completed') exitCode = 1;
  }

  step('AMC: a weekly schedule, and its first run found, loaded and kept per window');
  const runAt = new Date(Date.now() + 3600_000);
  // A database kept from an earlier demo holds that demo's runs too: this one's are those found from now on.
  const scheduledSince = new Date(Date.now() - 1000).toISOString();
  const scheduleBody = {
    aggregationPeriod: 'Weekly',
    aggregationHourUtc: runAt.getUTCHours(),
    aggregationStartDay: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][
      runAt.getUTCDay()
    ],
    enabled: true,
  };
  const saved = await fetch(`http://127.0.0.1:${PORTS['amc-runner']}/v1/amc/schedules`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      instanceId: 'amcdemo01',
      scheduleId: 'demo_reach_weekly',
      workflowId: 'demo_reach',
      ...scheduleBody,
    }),
  });
  // A previous demo made it already (in this database, not in this sandbox): start it afresh.
  if (saved.status === 409) {
    await db('amc_schedules').where({ instance_id: 'amcdemo01', schedule_id: 'demo_reach_weekly' }).delete();
    await api('amc-runner', 'POST', '/v1/amc/schedules', {
      instanceId: 'amcdemo01',
      scheduleId: 'demo_reach_weekly',
      workflowId: 'demo_reach',
      ...scheduleBody,
    });
  } else if (saved.status !== 201) throw new Error(`creating the schedule: ${saved.status} ${await saved.text()}`);
  console.log(
    `  schedule demo_reach_weekly: every ${scheduleBody.aggregationStartDay} at ${scheduleBody.aggregationHourUtc}:00 UTC; the sandbox's clock jumps a week so AMC runs it`,
  );
  const week = 7 * 86_400_000;
  await fetch(`${SANDBOX}/_sandbox/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: week }) });
  try {
    const run = await until('the first scheduled run', async () => {
      const { items } = await api<{
        items: {
          id: string;
          status: string;
          timeWindowStart: string;
          timeWindowEnd: string;
          row_count: number;
          createdAt: string;
        }[];
      }>('amc-runner', 'GET', '/v1/amc/executions?scheduleId=demo_reach_weekly&origin=scheduled');
      return items.find((e) => e.createdAt >= scheduledSince && (e.status === 'completed' || e.status === 'failed'));
    });
    const latest = await ch.client.query({
      query: `SELECT count() AS n FROM amc_results_latest WHERE workflow_id = 'demo_reach' AND execution_id = '${run.id}'`,
      format: 'JSONEachRow',
    });
    const n = (await latest.json<{ n: string }>())[0]?.n ?? '0';
    console.log(
      `  ${run.status}: run ${run.id} over ${run.timeWindowStart} → ${run.timeWindowEnd} UTC, ${run.row_count ?? 0} rows loaded, ${n} serving that window in amc_results_latest`,
    );
    console.log(`  dashboard with a panel per workflow: ${logs}/amc-dashboard.json (GET /v1/amc/dashboard)`);
    if (run.status !== 'completed' || Number(n) !== run.row_count) exitCode = 1;
  } finally {
    await fetch(`${SANDBOX}/_sandbox/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: -week }) });
  }

  step('supplier cycle: BigBuy import, then price, stock and order updates');
  // The demo account's BigBuy supplier (created on the first run).
  if (!(await db('suppliers').where({ account_id: accountId, kind: 'bigbuy' }).first('id')))
    await api('supplier-sync', 'POST', '/v1/suppliers', {
      accountId,
      kind: 'bigbuy',
      name: 'BigBuy (sandbox)',
      credentials: { apiKey: BIGBUY_API_KEY },
    });
  const runJobs = async (jobTypes: string[]) => {
    const { jobs } = await api<{ jobs: { id: string; jobType: string }[] }>('supplier-sync', 'POST', '/v1/sync/run', {
      accountId,
      jobTypes,
    });
    for (const j of jobs) {
      const done = await until(`supplier job ${j.jobType}`, async () => {
        const r = await api<{ status: string; counts: Record<string, number>; error: string | null }>(
          'supplier-sync',
          'GET',
          `/v1/jobs/${j.id}`,
        );
        return r.status === 'completed' || r.status === 'failed' ? r : undefined;
      });
      console.log(
        `  ${j.jobType.padEnd(16)} ${done.status}  ${JSON.stringify(done.counts)}${done.error ? ` (${done.error})` : ''}`,
      );
      if (done.status !== 'completed') exitCode = 1;
    }
  };
  await runJobs(['supplier_api']);
  await fetch(`${SANDBOX}/_sandbox/suppliers/advance`, { method: 'POST' }); // the supplier's prices and stock move
  await runJobs(['price_update', 'inventory_update', 'order_sync']);

  step("Marketing Stream: subscribing every profile, confirming through SQS, and today's hourly spend");
  const profileIds = await db('profiles').where({ account_id: accountId }).pluck('profile_id');
  for (const profileId of profileIds) await api('stream-consumer', 'POST', '/v1/streams/subscriptions', { profileId });
  await until('the subscriptions confirmed (ACTIVE)', async () => {
    const { items } = await api<{ items: { status: string }[] }>(
      'stream-consumer',
      'GET',
      '/v1/streams/subscriptions?limit=1000',
    );
    // Archived ones (a database kept from an earlier demo, whose sandbox is gone) are history.
    const live = items.filter((i) => i.status !== 'ARCHIVED');
    const active = live.filter((i) => i.status === 'ACTIVE').length;
    return active >= profileIds.length * 7 && active === live.length ? active : undefined;
  }).then((n) =>
    console.log(
      `  ${n} subscriptions ACTIVE across ${profileIds.length} profiles (hourly data, SB clickstream and video, budget and campaign recommendations, and campaign, ad group, ad and target changes), delivering to ElasticMQ`,
    ),
  );
  const since = Math.floor(Date.now() / 3600_000) * 3600_000 - 8 * 3600_000;
  const published = (await (
    await fetch(`${SANDBOX}/_sandbox/stream/publish`, {
      method: 'POST',
      body: JSON.stringify({
        hours: 8,
        fromHour: new Date(since).toISOString(),
        duplicates: 0.1,
        revisions: true,
        shuffle: true,
      }),
    })
  ).json()) as { records: number; messages: number };
  console.log(
    `  Amazon sent ${published.records} records as ${published.messages} messages (duplicates, revisions, out of order)`,
  );
  const count = async (table: string, time = 'hour') =>
    Number(
      (
        await (
          await ch.client.query({
            query: `SELECT count() AS n FROM ${table} FINAL WHERE ${time} >= toDateTime(${since / 1000})`,
            format: 'JSONEachRow',
          })
        ).json<{ n: string }>()
      )[0]!.n,
    );
  await until('every record in ClickHouse, once', async () => {
    const n =
      (await count('stream_traffic_hourly')) +
      (await count('stream_conversion_hourly')) +
      (await count('stream_budget_usage')) +
      (await count('stream_budget_recommendations', 'recommendation_time')) +
      (await count('stream_sb_clickstream_hourly')) +
      (await count('stream_sb_rich_media_hourly')) +
      // The week's campaign recommendations: published at the week's start, received now.
      (await count('stream_campaign_recommendations', 'received_at'));
    return n === published.records ? n : undefined;
  });
  console.log(
    `  ${published.records} records in ClickHouse, each once; today's spend by hour (the profile's local day):`,
  );
  const hourly = await (
    await ch.client.query({
      query: `SELECT local_hour AS hour, round(sum(cost_micros) / 1e6, 2) AS spend, sum(clicks) AS clicks, sum(impressions) AS impressions
                FROM stream_traffic_hourly FINAL
               WHERE local_date = (SELECT max(local_date) FROM stream_traffic_hourly) GROUP BY local_hour ORDER BY local_hour`,
      format: 'JSONEachRow',
    })
  ).json<Record<string, string | number>>();
  console.table(hourly);

  step('summary');
  const rs = await ch.client.query({
    query: `SELECT report_type, count() AS rows, sum(impressions) AS impressions, sum(clicks) AS clicks, round(sum(cost_micros) / 1e6, 2) AS cost, round(sum(sales_micros) / 1e6, 2) AS sales
            FROM ads_metrics_daily FINAL GROUP BY report_type ORDER BY report_type`,
    format: 'JSONEachRow',
  });
  console.table(await rs.json());
  const gaps = await api<{ complete: boolean; gaps: unknown[] }>('report-poller', 'GET', '/v1/reports/gaps');
  const counts = await Promise.all(
    ['entity_campaigns', 'entity_ad_groups', 'entity_ads', 'entity_targets', 'imported_products'].map(
      async (t) => `${t} ${(await db(t).count<{ c: string }[]>('* as c'))[0]!.c}`,
    ),
  );
  console.log(`  Postgres: ${counts.join(', ')}`);
  const attribution = await (
    await ch.client.query({
      query: `SELECT count() AS n, uniqExact(profile_id) AS profiles, uniqExact(publisher) AS publishers
                FROM attribution_performance_daily FINAL WHERE level = 'ad_group'`,
      format: 'JSONEachRow',
    })
  ).json<{ n: string; profiles: string; publishers: string }>();
  console.log(
    `  Amazon Attribution: ${attribution[0]!.n} ad-group rows for ${attribution[0]!.profiles} profiles across ${attribution[0]!.publishers} publishers, tags in Postgres (GET /v1/profiles/:profileId/attribution)`,
  );
  if (Number(attribution[0]!.n) === 0) exitCode = 1;
  console.log(
    `  completeness (last 42 days): ${gaps.complete ? 'every profile, report type and day is loaded' : `${gaps.gaps.length} gaps, e.g. ${JSON.stringify(gaps.gaps[0])}`}`,
  );
  if (!gaps.complete) exitCode = 1;
  // The sandbox holds every answer it gave to Amazon's models (strict mode); any it could not is a failure here too.
  const { violations } = (await (await fetch(`${SANDBOX}/_sandbox/violations`)).json()) as {
    violations: { operation: string; status: number; problems: string[] }[];
  };
  console.log(
    violations.length
      ? `  the sandbox answered ${violations.length} time(s) outside Amazon's models, e.g. ${violations[0]!.operation} ${violations[0]!.status}: ${violations[0]!.problems[0]}`
      : "  every answer the sandbox gave was on Amazon's models",
  );
  if (violations.length) exitCode = 1;
  console.log(`  ${await prometheusSummary()}`);
  console.log(`\n  done in ${((Date.now() - started) / 1000).toFixed(1)} s. Look next at:`);
  // The demo stops its services; serve keeps them, and the console, running.
  console.log(
    `    the console: deploy/local/stack serve, then http://127.0.0.1:${localProcess('console').port}/ (sign in with the admin key ${ADMIN})`,
  );
  console.log(
    `    clickhouse-client --port 19000 -d ${cfg.CLICKHOUSE_DATABASE} -q 'SELECT * FROM ads_metrics_daily FINAL LIMIT 5'`,
  );
  console.log(`    curl -H 'Authorization: Bearer ${ADMIN}' http://127.0.0.1:8083/v1/reports/monitor`);
  console.log(
    `    the OpenAPI documents at http://127.0.0.1:808{1..6}/openapi.json (while services run), service logs in ${logs}/demo-*.log`,
  );
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  stopping = true;
  await Promise.all(
    children.map(
      ({ proc }) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGTERM');
          setTimeout(() => proc.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
  await db.destroy();
  await ch.close();
}
process.exit(exitCode);
