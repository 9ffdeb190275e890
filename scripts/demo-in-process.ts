/**
 * The main job against the built-in sandbox, end to end, with progress on the
 * terminal: migrate both databases, start the sandbox, create the demo account
 * with sandbox credentials, discover its profiles, fully sync their entities,
 * request a week of every report type, poll and load them through Kafka into
 * ClickHouse, then check completeness and print a summary.
 *
 * Run it with `deploy/local/stack demo` (which brings the stack up first).
 */
import { randomUUID } from 'node:crypto';
import { loadBaseConfig } from '@adsync/shared/config/base-config';
import { createLogger } from '@adsync/shared/logger';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { clickhouseDeadLetterSink } from '@adsync/shared/db/dead-letter-index';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';
import { discoverProfiles } from '@adsync/entity-sync/profiles';
import { syncProfiles } from '@adsync/entity-sync/sync-profiles';
import { requestReports } from '@adsync/report-requester/request-reports';
import { pollTick } from '@adsync/report-poller/poll-tick';
import { findGaps } from '@adsync/report-poller/completeness';
import { startLoader } from '@adsync/etl-loader/loader';
import { BIGBUY_API_KEY } from '@adsync/sandbox';
import { upsertWorkflow } from '@adsync/amc-runner/amc-api';
import { amcTick, startExecution } from '@adsync/amc-runner/executions';
import { createJob } from '@adsync/supplier-sync/job-queue';
import { startWorker } from '@adsync/supplier-sync/worker';
import { maintenance } from '@adsync/supplier-sync/maintenance';

const started = Date.now();
const cfg = loadBaseConfig();
const log = createLogger({ name: 'demo', level: process.env.LOG_LEVEL ?? 'error', pretty: false });
const step = (msg: string) => console.log(`\x1b[1m▸ ${msg}\x1b[0m  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-demo' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-demo', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
let exitCode = 0;
try {
  step('checking the stack');
  const pg = await postgresReady(db);
  const chr = await clickhouseReady(ch);
  if (!pg.ok || !chr.ok) throw new Error(`stack not ready: postgres ${pg.detail}, clickhouse ${chr.detail}; run deploy/local/stack up`);
  const m1 = await migratePostgres(db);
  const m2 = await migrateClickHouse(ch);
  console.log(`  postgres ok (${m1.applied.length} migrations applied now), clickhouse ok (${m2.applied.length}), kafka ${cfg.KAFKA_BROKERS.join(',')}, schema registry ${cfg.SCHEMA_REGISTRY_URL ?? 'none (in-repo schemas)'}`);

  step('starting the Amazon Ads sandbox');
  const sandbox = await startSandbox({ seed: 42, scale: { profiles: 2, campaignsPerProfile: 8 }, faults: { reportGenerationMs: 1500, rate429: 0.05, retryAfterSec: 0 } });
  console.log(`  sandbox at ${sandbox.url} (5% of calls answer 429, to show the retries)`);

  const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-demo', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, deadLetterSink: clickhouseDeadLetterSink(ch) });
  await bus.ensureTopics();
  const box = secretBoxFromEnv({ NODE_ENV: cfg.NODE_ENV, ENCRYPTION_KEY: process.env.ENCRYPTION_KEY });
  const clients = new AmazonClients({ db, box, log, baseUrl: sandbox.url });

  step('creating the demo account with sandbox credentials (sealed at rest)');
  let account = await db('accounts').where({ company_name: 'Demo Agency (sandbox)' }).first('id');
  if (!account) [account] = await db('accounts').insert({ company_name: 'Demo Agency (sandbox)', primary_contact_email: 'demo@adsync.invalid' }).returning('id');
  await storeCredentials(db, box, account.id, { region: 'NA', client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET, refresh_token: SANDBOX_REFRESH_TOKEN });

  step('discovering advertising profiles');
  const { profiles } = await discoverProfiles(db, await clients.forAccount(account.id), account.id);
  await db('profiles').whereIn('profile_id', profiles.map((p) => p.profile_id)).update({ status: 'active', status_reason: null });
  for (const p of profiles) console.log(`  profile ${p.profile_id}  ${p.country_code} ${p.currency_code} ${p.timezone}  ${p.account_name}`);

  step('syncing entities (full)');
  const ent = await syncProfiles({ db, ch, clients, log, batchSize: 2000, concurrency: 2, exportPollMs: 250 }, { accountId: account.id, entity: 'all', mode: 'full', trigger: 'demo' });
  for (const r of ent.runs) console.log(`  ${r.profileId} ${r.entityType.padEnd(9)} ${r.status}  fetched ${r.fetched}, upserted ${r.upserted}`);

  step('requesting the last 7 days of every report type');
  const loader = await startLoader({ db, ch, bus, clients, log, rowsPerEvent: 1000, loadBatchMessages: 50, groupPrefix: 'adsync' });
  // A backfill plans the week regardless of earlier runs, so the demo can be run again (a newer pull replaces the older one).
  const run = await requestReports({ db, clients, log }, { runId: randomUUID(), accountId: account.id, reportTypes: REPORT_TYPE_IDS, tiers: [], backfillDays: 7 });
  await relayOutbox(db, bus);
  console.log(`  requested ${run.requested}, already in flight ${run.alreadyInFlight}, failed ${run.failed.length}`);

  step('polling Amazon and loading completed reports through Kafka into ClickHouse');
  const deadline = Date.now() + 180_000;
  let last = '';
  for (;;) {
    await pollTick({ db, clients, log }, { maxReports: 10, minSpacingMs: 1000, maxPolls: 100 });
    await relayOutbox(db, bus);
    const byStatus = await db('pending_amazon_reports').where({ run_id: run.runId }).groupBy('status').select('status', db.raw('count(*)::int as n'));
    const line = byStatus.map((s) => `${s.status} ${s.n}`).join(', ');
    if (line !== last) console.log(`  ${line}`);
    last = line;
    if (byStatus.every((s) => s.status === 'loaded' || s.status === 'failed')) break;
    if (Date.now() > deadline) throw new Error('reports did not finish loading within 3 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  await loader.stop();

  step('running an AMC workflow (saved in AMC first; executions never send ad-hoc SQL)');
  await db('amc_instances').insert({ account_id: account.id, instance_id: 'amcdemo01', advertiser_id: 'ENTITYDEMO', marketplace_id: 'ATVPDKIKX0DER' }).onConflict('instance_id').merge(['account_id']);
  const sql = 'SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign';
  await upsertWorkflow(await clients.forAccount(account.id), { instance_id: 'amcdemo01', advertiser_id: 'ENTITYDEMO', marketplace_id: 'ATVPDKIKX0DER' }, 'demo_reach', sql);
  await db('amc_workflows').insert({ instance_id: 'amcdemo01', workflow_id: 'demo_reach', sql_query: sql }).onConflict(['instance_id', 'workflow_id']).merge(['sql_query']);
  const amcDeps = { db, ch, clients, log, defaultWindowDays: 7 };
  const exec = await startExecution(amcDeps, { instance_id: 'amcdemo01', workflow_id: 'demo_reach' }, { workflowId: 'demo_reach', outputFormat: 'PARQUET' });
  console.log(`  execution ${exec.id}: ${exec.body.timeWindowStart} → ${exec.body.timeWindowEnd} ${exec.body.timeWindowTimeZone}, ${exec.body.outputFormat}`);
  for (;;) {
    await amcTick(amcDeps, { maxPolls: 10, minSpacingMs: 200 });
    const e = await db('amc_executions').where({ id: exec.id }).first();
    if (e.status === 'completed' || e.status === 'failed') {
      console.log(`  ${e.status}: ${e.row_count ?? 0} rows, ${e.size_bytes ?? 0} bytes at ${e.output_location ?? '-'}${e.failure_reason ? ` (${e.failure_reason})` : ''}`);
      if (e.status === 'failed') exitCode = 1;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  step('running a supplier cycle (BigBuy: import, then price and stock updates)');
  let supplier = await db('suppliers').where({ account_id: account.id, kind: 'bigbuy' }).first('id');
  if (!supplier) [supplier] = await db('suppliers').insert({ account_id: account.id, kind: 'bigbuy', name: 'BigBuy (sandbox)', credentials_sealed: box.seal(JSON.stringify({ apiKey: BIGBUY_API_KEY })) }).returning('id');
  const supplierWorker = await startWorker({ db, ch, box, log, bus: null, supplierBaseUrl: () => sandbox.url, policy: { maxAttempts: 6, backoff: { baseMs: 100, maxMs: 2000 } }, leaseMs: 60_000, tickMs: 3_600_000, retryBackoff: { baseMs: 1000, maxMs: 10_000 } });
  const supplierJobs = [];
  for (const jobType of ['supplier_api', 'price_update', 'inventory_update', 'order_sync'] as const) {
    supplierJobs.push(await createJob(db, { accountId: account.id, supplierId: supplier.id, jobType, trigger: 'demo' }));
    if (jobType === 'supplier_api') {
      await supplierWorker.drain();
      sandbox.state.supplierRound++; // the supplier's prices and stock move
    }
  }
  await supplierWorker.drain();
  await supplierWorker.stop();
  for (const j of await db('import_jobs').whereIn('id', supplierJobs.map((j) => j.id)).orderBy('created_at')) {
    console.log(`  ${j.job_type.padEnd(16)} ${j.status}  ${JSON.stringify(j.counts)}`);
    if (j.status !== 'completed') exitCode = 1;
  }
  const m = await maintenance(db, ch);
  console.log(`  maintenance: ${m.scored} products scored, ${m.jobsDeleted} old jobs and ${m.logsDeleted} old logs removed`);

  step('summary');
  const rs = await ch.client.query({
    query: `SELECT report_type, count() AS rows, sum(impressions) AS impressions, sum(clicks) AS clicks, round(sum(cost_micros) / 1e6, 2) AS cost, round(sum(sales_micros) / 1e6, 2) AS sales
            FROM ads_metrics_daily FINAL GROUP BY report_type ORDER BY report_type`,
    format: 'JSONEachRow',
  });
  console.table(await rs.json());
  const today = new Date().toISOString().slice(0, 10);
  const gaps = await findGaps(db, { from: new Date(Date.parse(`${today}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10), to: new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10), reportTypes: REPORT_TYPE_IDS, profileIds: profiles.map((p) => p.profile_id) });
  const counts = await Promise.all(['entity_campaigns', 'entity_ad_groups', 'entity_ads', 'entity_targets'].map(async (t) => `${t} ${(await db(t).count<{ c: string }[]>('* as c'))[0]!.c}`));
  console.log(`  entities in Postgres: ${counts.join(', ')}`);
  console.log(`  completeness: ${gaps.length === 0 ? 'every profile, report type and day of the week is loaded' : `${gaps.length} gaps, e.g. ${JSON.stringify(gaps[0])}`}`);
  console.log(`  Amazon client: ${sandbox.state.counters.injected429} throttled answers absorbed by retries`);
  console.log(`\n  done in ${((Date.now() - started) / 1000).toFixed(1)} s. Look next at:`);
  console.log(`    clickhouse-client --port 19000 -d ${cfg.CLICKHOUSE_DATABASE} -q 'SELECT * FROM ads_metrics_daily FINAL LIMIT 5'`);
  console.log(`    psql ${cfg.DATABASE_URL} -c 'select report_type, status, count(*) from pending_amazon_reports group by 1, 2'`);
  if (gaps.length > 0 || run.failed.length > 0 || ent.failed > 0) exitCode = 1;
  await bus.close();
  await clients.close();
  await sandbox.close();
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await db.destroy();
  await ch.close();
}
process.exit(exitCode);
