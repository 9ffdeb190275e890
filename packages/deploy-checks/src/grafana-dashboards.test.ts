// Every panel of every provisioned dashboard, run against the real ClickHouse and
// Postgres holding sandbox data loaded by the real pipeline: no errors, no empty panels;
// and the ClickHouse panels again on today's engine (chDB), with the same answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxSnsGate } from '@adsync/stream-consumer/sns-gate';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { startSandbox, BIGBUY_API_KEY, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import {
  MIGRATIONS_DIR,
  migrateClickHouse,
  migratePostgres,
  readMigrations,
  splitStatements,
} from '@adsync/shared/db/migrations';
import { runOnChdb } from '@adsync/shared/testing/chdb';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createEventBus, type EventBus } from '@adsync/shared/kafka/event-bus';
import { InRepoSchemaCodec } from '@adsync/shared/kafka/codec';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireKafka,
  requireSqs,
  testConfig,
  testLogger,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { discoverProfiles } from '@adsync/entity-sync/profiles';
import { discoverDspAdvertisers } from '@adsync/entity-sync/dsp-advertisers';
import { syncProfiles } from '@adsync/entity-sync/sync-profiles';
import { syncAttribution } from '@adsync/entity-sync/attribution';
import { activeProfiles, sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { addDays, localToday } from '@adsync/shared/calendar';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { pollTick } from '@adsync/report-poller/poll-tick';
import { startLoader } from '@adsync/etl-loader/loader';
import { createJob } from '@adsync/supplier-sync/job-queue';
import { startWorker } from '@adsync/supplier-sync/worker';
import { freshQueue } from '@adsync/stream-consumer/test-queue';
import { drainQueue, ProfileMap } from '@adsync/stream-consumer/ingest';
import { defaultDatasets, subscribe } from '@adsync/stream-consumer/subscriptions';

import { expandMacros } from './grafana-macros.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { destinationPolicies } from '@adsync/supplier-sync/deliveries';

const dir = fileURLToPath(new URL('../../../deploy/grafana/dashboards/', import.meta.url));
const dashboards = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(dir + f, 'utf8')) }));
const cfg = testConfig();
const log = testLogger('dashboards');
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let bus: EventBus;
let clients: AmazonClients;

before(async () => {
  await requireKafka(cfg);
  const sqsEndpoint = await requireSqs();
  sandbox = await startSandbox({
    sqsEndpoint,
    seed: 77,
    // Five: the fifth is a DSP (agency) profile, for the DSP dashboard; the third and fourth are paused.
    scale: { profiles: 5, campaignsPerProfile: 4 },
    faults: { reportGenerationMs: 50 },
  });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(randomBytes(32));
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  const prefix = `${uniqueName('dash')}.`;
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'dashboards-test',
    codec: new InRepoSchemaCodec(),
    log,
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'dash' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  await discoverProfiles(pg.db, await clients.forAccount(accountId), accountId);
  const [, , third, fourth] = sandbox.state.dataset.profiles();
  await pg.db('profiles').whereIn('profile_id', [third!.profileId, fourth!.profileId]).update({ status: 'paused' });
  // The DSP profile's advertisers, whose DSP report types the DSP dashboard reads.
  await discoverDspAdvertisers(pg.db, await clients.forAccount(accountId), accountId);
  // Marketing Stream for the hourly panels: every profile subscribed through a queue, the last six hours delivered.
  const queue = await freshQueue(sqsEndpoint, 'dash');
  const streamDeps = { db: pg.db, ch: ch.ch, clients, log, queue, queueName: 'dash', sns: sandboxSnsGate(sandbox.url) };
  const drainStream = () => drainQueue(streamDeps, new ProfileMap(pg.db));
  for (const profileId of await pg.db('profiles').where({ status: 'active' }).pluck('profile_id'))
    await subscribe(pg.db, clients, profileId, await defaultDatasets(pg.db, profileId), queue.arn);
  await drainStream();
  await sandbox.stream.publish({ hours: 6, revisions: true, duplicates: 0.1 });
  await drainStream();
  queue.close();
  await syncProfiles(
    { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
    { entity: 'all', mode: 'full', trigger: 'test' },
  );
  // Amazon Attribution for the publisher panel: every active sponsored-ads profile (Amazon serves some).
  for (const profile of (await activeProfiles(pg.db, { accountId })).filter(sponsoredAdsProfile))
    await syncAttribution(
      { db: pg.db, ch: ch.ch, log, options: { backfillDays: 7, restateDays: 7 } },
      await clients.forAccount(accountId),
      profile,
    );
  const loader = await startLoader({
    db: pg.db,
    ch: ch.ch,
    bus,
    clients,
    log,
    rowsPerEvent: 500,
    loadBatchMessages: 20,
    consume: (o) => bus.consume({ ...o, groupId: `${prefix}adsync.${o.groupId}` }),
    consumeDeadLetters: (o) => bus.consumeDeadLetters({ ...o, groupId: `${prefix}adsync.${o.groupId}` }),
  });
  sandbox.setFaults({ badRowEvery: 40 }); // some dead letters for the health dashboard
  const run = await requestReports(
    { db: pg.db, clients, log },
    { runId: randomUUID(), reportTypes: REPORT_TYPE_IDS, tiers: [], backfillDays: 7 },
  );
  await relayOutbox(pg.db, bus);
  await eventually(
    async () => {
      await pollTick({ db: pg.db, clients, log }, { maxReports: 20, minSpacingMs: 20, maxPolls: 100 });
      await relayOutbox(pg.db, bus);
      const rows = await pg.db('pending_amazon_reports').where({ run_id: run.runId }).pluck('status');
      return rows.every((s) => s === 'loaded' || s === 'failed') ? true : undefined;
    },
    { what: 'reports loaded', timeoutMs: 90_000, intervalMs: 100 },
  );
  // The last reports' report.loaded may have been queued after the loop's last relay.
  await relayOutbox(pg.db, bus);
  // The bad rows' dead letters reach the index through the loader's dead-letter consumer.
  await eventually(
    async () => {
      const rs = await ch.ch.client.query({
        query: 'SELECT count() AS n FROM dead_letters FINAL',
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: string }>())[0]!.n) > 0 ? true : undefined;
    },
    { what: 'dead letters indexed', timeoutMs: 30_000 },
  );
  await loader.stop();
  sandbox.setFaults({ badRowEvery: 0 });
  // One failed report for the "failed reports" panel.
  sandbox.setFaults({ failReportTypes: ['sdCampaigns'] });
  const failing = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ['sdCampaigns'], tiers: [{ name: 'fail', fromDaysAgo: 20, toDaysAgo: 20, everyDays: 1 }] },
  );
  await eventually(
    async () => {
      await pollTick({ db: pg.db, clients, log }, { maxReports: 20, minSpacingMs: 20, maxPolls: 100 });
      return (
        (await pg.db('pending_amazon_reports').where({ run_id: failing.runId, status: 'failed' }).first()) ?? undefined
      );
    },
    { what: 'the failing report' },
  );
  sandbox.setFaults({ failReportTypes: [] });
  // A supplier cycle with a price move, for the supplier dashboard.
  const [{ id: supplierId }] = await pg
    .db('suppliers')
    .insert({
      account_id: accountId,
      kind: 'bigbuy',
      name: 'bb',
      credentials_sealed: box.seal(JSON.stringify({ apiKey: BIGBUY_API_KEY })),
    })
    .returning('id');
  const worker = await startWorker({
    db: pg.db,
    ch: ch.ch,
    box,
    log,
    bus: null,
    supplierBaseUrl: () => sandbox.url,
    policy: { maxAttempts: 3, backoff: { baseMs: 5, maxMs: 20 } },
    leaseMs: 30_000,
    tickMs: 3_600_000,
    retryBackoff: { baseMs: 10, maxMs: 20 },
    destinations: destinationPolicies([new URL(sandbox.url).origin]),
  });
  await createJob(pg.db, { accountId, supplierId, jobType: 'supplier_api' });
  await worker.drain();
  sandbox.state.supplierRound = 1;
  await createJob(pg.db, { accountId, supplierId, jobType: 'price_update' });
  await createJob(pg.db, { accountId, supplierId, jobType: 'inventory_update' });
  await worker.drain();
  await worker.stop();
});

after(async () => {
  await bus?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
}

/** A variable's values as Grafana computes them: a query's first column, or a custom list of `text : value` pairs. */
async function variableValues(v: Variable): Promise<string[]> {
  if (v.type === 'custom') return v.query.split(',').map((part) => part.split(' : ').at(-1)!.trim());
  const rs = await ch.ch.client.query({ query: v.query, format: 'JSONEachRow' });
  return (await rs.json<Record<string, string>>()).map((r) => String(Object.values(r)[0]));
}

/**
 * Every selection a panel can be run with: multi-value variables with all their values
 * at once, and each value of a single-value variable in turn (for the panels using it).
 */
async function selections(list: Variable[], sql: string): Promise<Record<string, string[]>[]> {
  let out: Record<string, string[]>[] = [{}];
  for (const v of list) {
    const values = await variableValues(v);
    assert.ok(values.length > 0, `variable ${v.name} has values`);
    const used = sql.includes(`$${v.name}`) || sql.includes(`\${${v.name}`);
    const choices =
      v.multi === false && used ? values.map((x) => [x]) : [v.multi === false ? values.slice(0, 1) : values];
    out = out.flatMap((sel) => choices.map((c) => ({ ...sel, [v.name]: c })));
  }
  return out;
}

test('the provisioning files name the data sources the dashboards use', () => {
  const ds = readFileSync(
    fileURLToPath(new URL('../../../deploy/grafana/provisioning/datasources/clickhouse.yaml', import.meta.url)),
    'utf8',
  );
  for (const { json } of dashboards) {
    for (const p of json.panels) {
      // A panel of mixed sources (Grafana's own "-- Mixed --") names its source per query.
      const uids: string[] =
        p.datasource.uid === '-- Mixed --'
          ? p.targets.map((t: { datasource: { uid: string } }) => t.datasource.uid)
          : [p.datasource.uid];
      for (const uid of uids) assert.match(ds, new RegExp(`uid: ${uid}`), `${json.title} / ${p.title}`);
    }
  }
  assert.equal(dashboards.length, 4);
});

for (const { file, json } of dashboards) {
  test(`${file}: every panel runs and returns data`, async () => {
    const now = new Date();
    const from = new Date(now.getTime() - 30 * 86_400_000);
    for (const panel of json.panels) {
      for (const target of panel.targets) {
        const dialect = target.datasource.uid === 'adsync-postgres' ? 'postgres' : 'clickhouse';
        for (const variables of await selections(json.templating.list, target.rawSql)) {
          const sql = expandMacros(target.rawSql, { from, to: now, variables, dialect });
          let rows: unknown[];
          try {
            if (dialect === 'postgres') rows = (await pg.db.raw(sql)).rows;
            else rows = await (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json();
          } catch (err) {
            assert.fail(`${json.title} / ${panel.title}: ${(err as Error).message}\n${sql}`);
          }
          assert.ok(rows.length > 0, `${json.title} / ${panel.title} returned no rows\n${sql}`);
        }
      }
    }
  });
}

test('the placement panel joins each campaign placement to its bid multiplier by the same campaign and placement names', async () => {
  const { json } = dashboards.find((d) => d.file === 'ads-performance.json')!;
  const panel = json.panels.find((p: { title: string }) => p.title.startsWith('Placements:'));
  assert.deepEqual(
    panel.transformations.map((t: { id: string }) => t.id),
    ['merge', 'filterByValue'],
  );
  const now = new Date();
  const variables: Record<string, string[]> = {};
  for (const v of json.templating.list as Variable[])
    variables[v.name] = v.multi === false ? (await variableValues(v)).slice(0, 1) : await variableValues(v);
  const sql = (i: number, dialect: 'clickhouse' | 'postgres') =>
    expandMacros(panel.targets[i].rawSql, {
      from: new Date(now.getTime() - 30 * 86_400_000),
      to: now,
      variables,
      dialect,
    });
  const performance: { campaign_id: string; placement: string }[] = await (
    await ch.ch.client.query({ query: sql(0, 'clickhouse'), format: 'JSONEachRow' })
  ).json();
  const multipliers: { campaign_id: string; placement: string; bid_multiplier_pct: string }[] = (
    await pg.db.raw(sql(1, 'postgres'))
  ).rows;
  const placements = new Set(performance.map((r) => r.placement));
  assert.deepEqual(
    [...placements].sort(),
    ['Detail Page on-Amazon', 'Other on-Amazon', 'Top of Search on-Amazon'],
    'the placements Amazon reports',
  );
  // Grafana's merge joins rows whose shared fields (campaign_id, placement) are equal: they must meet.
  const keys = new Set(performance.map((r) => `${r.campaign_id}|${r.placement}`));
  const joined = multipliers.filter((m) => keys.has(`${m.campaign_id}|${m.placement}`));
  assert.ok(joined.length > 0, 'some multipliers meet their placement rows');
  assert.ok(
    multipliers.every((m) => placements.has(m.placement)),
    `every multiplier names a reported placement: ${[...new Set(multipliers.map((m) => m.placement))].join(', ')}`,
  );
});

/**
 * The rows of a ClickHouse panel of the performance dashboard, run with every variable's values (the
 * first only where a variable takes one) over the last 30 days, and the variables used.
 */
async function performancePanel<T>(titleStart: string): Promise<{ rows: T[]; variables: Record<string, string[]> }> {
  const { json } = dashboards.find((d) => d.file === 'ads-performance.json')!;
  const panel = json.panels.find((p: { title: string }) => p.title.startsWith(titleStart));
  const variables: Record<string, string[]> = {};
  for (const v of json.templating.list as Variable[])
    variables[v.name] = v.multi === false ? (await variableValues(v)).slice(0, 1) : await variableValues(v);
  const now = new Date();
  const sql = expandMacros(panel.targets[0].rawSql, {
    from: new Date(now.getTime() - 30 * 86_400_000),
    to: new Date(now.getTime() + 3_600_000),
    variables,
    dialect: 'clickhouse',
  });
  const rows = await (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
  return { rows, variables };
}

test("the budget panel puts the recommendations Amazon sent beside their campaigns' usage", async () => {
  const { rows } = await performancePanel<{
    campaign_id: string;
    suggested_budget: number | string;
    usage_pct: number;
  }>('Budget recommendations');
  const recommended = rows.filter((r) => Number(r.suggested_budget) > 0);
  const sent = await (
    await ch.ch.client.query({
      query: 'SELECT DISTINCT campaign_id FROM stream_budget_recommendations',
      format: 'JSONEachRow',
    })
  ).json<{ campaign_id: string }>();
  assert.ok(sent.length > 0, 'Amazon recommended budgets');
  // Every campaign with a recommendation is shown with it (each also had its usage in the window).
  assert.deepEqual(recommended.map((r) => r.campaign_id).sort(), sent.map((r) => r.campaign_id).sort());
});

test('the attribution panel shows each publisher’s clicks as Amazon reported them at ad-group level', async () => {
  const { rows, variables } = await performancePanel<{ publisher: string; clicks: string; sales: number | string }>(
    'Amazon Attribution by publisher',
  );
  // What the sandbox reported for the same profiles and days (clicks are not restated, so the first pull's are final).
  const want = new Map<string, number>();
  const served = await pg
    .db('attribution_profiles as a')
    .join('profiles as p', 'p.profile_id', 'a.profile_id')
    .where({ 'a.state': 'enabled' })
    .whereIn('a.profile_id', variables.profile!)
    .select('a.profile_id', 'p.timezone');
  assert.ok(served.length > 0, 'Amazon Attribution served some profiles');
  for (const { profile_id, timezone } of served) {
    const today = localToday(timezone);
    const res = await fetch(`${sandbox.url}/_sandbox/expected/attribution`, {
      method: 'POST',
      body: JSON.stringify({
        profileId: profile_id,
        request: {
          reportType: 'PERFORMANCE',
          groupBy: 'ADGROUP',
          startDate: addDays(today, -7).replaceAll('-', ''),
          endDate: addDays(today, -1).replaceAll('-', ''),
        },
      }),
    });
    for (const r of ((await res.json()) as { rows: Record<string, string | number>[] }).rows)
      want.set(String(r.publisher), (want.get(String(r.publisher)) ?? 0) + Number(r['Click-throughs']));
  }
  const got = new Map<string, number>();
  for (const r of rows) got.set(r.publisher, (got.get(r.publisher) ?? 0) + Number(r.clicks));
  assert.ok(got.size > 1, 'several publishers');
  assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()));
  assert.ok(rows.some((r) => Number(r.sales) > 0));
});

/** Numbers as numbers (64-bit integers arrive quoted), floats to 9 significant digits (engines sum in different orders). */
function normalise(rows: Record<string, unknown>[]): string[] {
  const value = (v: unknown): unknown => {
    if (typeof v === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return Number(Number(v).toPrecision(9));
    if (typeof v === 'number') return Number(v.toPrecision(9));
    if (Array.isArray(v)) return v.map(value);
    return v;
  };
  return rows.map((r) => JSON.stringify(Object.values(r).map(value))).sort();
}

test("on today's ClickHouse engine (chDB 26.x) the migrations apply and every ClickHouse panel returns what the 18.16 server returns", async () => {
  const setup = readMigrations(join(MIGRATIONS_DIR, 'clickhouse')).flatMap((m) => splitStatements(m.up));
  // The same data the pipeline loaded into the server, table by table.
  const tables = (
    await (
      await ch.ch.client.query({
        query: `SELECT name FROM system.tables WHERE database = '${ch.ch.database}' AND name != 'schema_migrations' AND engine != 'View'`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>()
  ).map((t) => t.name);
  const inserts = [];
  for (const table of tables)
    inserts.push({
      table,
      rows: await (await ch.ch.client.query({ query: `SELECT * FROM ${table}`, format: 'JSONEachRow' })).text(),
    });
  assert.ok(
    inserts.some((i) => i.table === 'ads_metrics_daily' && i.rows.length > 0),
    'metrics to compare on',
  );

  const now = new Date();
  const from = new Date(now.getTime() - 30 * 86_400_000);
  const queries: { id: string; sql: string }[] = [];
  for (const { json } of dashboards) {
    const variables: Record<string, string[]> = {};
    for (const v of json.templating.list as Variable[]) {
      const values = await variableValues(v);
      variables[v.name] = v.multi === false ? values.slice(0, 1) : values;
      if (v.type !== 'custom') queries.push({ id: `${json.title} / variable ${v.name}`, sql: v.query });
    }
    for (const panel of json.panels) {
      panel.targets.forEach((target: { datasource: { uid: string }; rawSql: string }, i: number) => {
        if (target.datasource.uid === 'adsync-postgres') return;
        queries.push({
          id: `${json.title} / ${panel.title} #${i}`,
          sql: expandMacros(target.rawSql, { from, to: now, variables, dialect: 'clickhouse' }),
        });
      });
    }
  }
  assert.ok(queries.length >= 10, `${queries.length} ClickHouse queries`);

  const answer = await runOnChdb({ database: 'adsync', setup, inserts, queries });
  assert.match(answer.engine, /^2[4-9]\.|^[3-9]\d\./, `a current engine (${answer.engine})`);
  assert.deepEqual(
    answer.setup.filter((s) => s.error),
    [],
    'every migration statement and insert succeeds on chDB',
  );
  for (const q of queries) {
    const server = normalise(await (await ch.ch.client.query({ query: q.sql, format: 'JSONEachRow' })).json());
    const today = answer.results[q.id]!;
    assert.ok(
      'rows' in today,
      `${q.id} fails on ClickHouse ${answer.engine}: ${'error' in today ? today.error : ''}\n${q.sql}`,
    );
    assert.deepEqual(normalise(today.rows), server, `${q.id}: the same answer on ${answer.engine} and 18.16`);
  }
});

test('pipeline health counts each row once: a replaced metrics row and a dead letter indexed twice are not extra', async () => {
  const health = dashboards.find((d) => d.file === 'pipeline-health.json')!.json;
  const panelSql = (title: string) => {
    const panel = health.panels.find((p: { title: string }) => p.title === title);
    const now = new Date();
    return expandMacros(panel.targets[0].rawSql, {
      from: new Date(now.getTime() - 30 * 86_400_000),
      to: new Date(now.getTime() + 86_400_000),
      variables: {},
      dialect: 'clickhouse',
    });
  };
  const sum = async (sql: string, column: string) =>
    (await (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, string>>()).reduce(
      (s, r) => s + Number(r[column]),
      0,
    );
  const rowsBefore = await sum(panelSql('Rows loaded per day'), 'rows');
  const lettersBefore = await sum(panelSql('Dead letters by topic and day'), 'dead_letters');
  assert.ok(rowsBefore > 0 && lettersBefore > 0);
  // A restated pull of rows already loaded (same key, newer version), not yet merged by ClickHouse…
  await ch.ch.client.command({
    query: `INSERT INTO ads_metrics_daily SELECT * FROM ads_metrics_daily FINAL WHERE report_type = 'spCampaigns' LIMIT 20`,
  });
  // …and a dead letter the index consumer wrote twice (redelivered before its commit).
  await ch.ch.client.command({ query: `INSERT INTO dead_letters SELECT * FROM dead_letters FINAL LIMIT 3` });
  assert.equal(await sum(panelSql('Rows loaded per day'), 'rows'), rowsBefore);
  assert.equal(await sum(panelSql('Dead letters by topic and day'), 'dead_letters'), lettersBefore);
});
