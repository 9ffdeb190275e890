// Marketing Stream reconciled with the daily reports, on the real stack: Stream hours delivered
// through ElasticMQ into ClickHouse, the campaign reports requested, polled and loaded through
// Kafka, and stream-consumer's reconciliation fed by the report.loaded events. A day whose hours
// all arrived matches its reports exactly; a day that lost hours is a gap, with the numbers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxSnsGate } from '@adsync/stream-consumer/sns-gate';
import { randomBytes } from 'node:crypto';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { localHour } from '@adsync/sandbox/stream-data';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createEventBus, type EventBus } from '@adsync/shared/kafka/event-bus';
import { InRepoSchemaCodec } from '@adsync/shared/kafka/codec';
import { addDays, localToday } from '@adsync/shared/calendar';
import {
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
import { findGaps } from '@adsync/report-poller/completeness';
import type { StreamQueue } from '@adsync/stream-consumer/queue';
import { freshQueue } from '@adsync/stream-consumer/test-queue';
import { drainQueue, ProfileMap } from '@adsync/stream-consumer/ingest';
import { subscribe } from '@adsync/stream-consumer/subscriptions';
import { reconcileDay, RECONCILED } from '@adsync/stream-consumer/reconcile';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { loadAndReconcile } from './reconciled-reports.ts';

const cfg = testConfig();
const log = testLogger('stream-reconciliation');
// Sponsored ads' (DSP's are reconciled in dsp-stream.test.ts).
const REPORT_TYPES = Object.keys(RECONCILED).filter((t) => !t.startsWith('dsp'));
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let bus: EventBus;
let clients: AmazonClients;
let queue: StreamQueue;
let profileId: string;
let timezone: string;
let full: string;
let lossy: string;
const lostHours: number[] = [];

before(async () => {
  await requireKafka(cfg);
  const endpoint = await requireSqs();
  sandbox = await startSandbox({
    seed: 191,
    scale: { profiles: 1, campaignsPerProfile: 3 },
    faults: { reportGenerationMs: 50 },
    sqsEndpoint: endpoint,
  });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(randomBytes(32));
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  const prefix = `${uniqueName('streamrec')}.`;
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'stream-reconciliation-test',
    codec: new InRepoSchemaCodec(),
    log,
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'streamrec' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  await discoverProfiles(pg.db, await clients.forAccount(accountId), accountId);
  ({ profile_id: profileId, timezone } = await pg.db('profiles').first('profile_id', 'timezone'));

  // Subscribed and confirmed through the queue.
  queue = await freshQueue(endpoint, 'streamrec');
  const deps = { db: pg.db, ch: ch.ch, clients, log, queue, queueName: 'rec', sns: sandboxSnsGate(sandbox.url) };
  const profiles = new ProfileMap(pg.db);
  const drain = () => drainQueue(deps, profiles);
  const subs = await subscribe(
    pg.db,
    clients,
    profileId,
    ['sp-traffic', 'sp-conversion', 'sb-traffic', 'sb-conversion', 'sd-traffic', 'sd-conversion'],
    queue.arn,
  );
  assert.equal(subs.length, 6);
  await drain();
  // Live for a while already: the days compared below began after the subscriptions did.
  await pg.db('stream_subscriptions').update({ confirmed_at: new Date(Date.now() - 10 * 86_400_000) });

  // Two whole local days of Stream; the second loses six hours (10:00–15:59 local), which its report still has.
  const today = localToday(timezone, new Date());
  full = addDays(today, -4);
  lossy = addDays(today, -3);
  const from = Date.parse(`${full}T00:00:00Z`) - 14 * 3600_000;
  const hours = 24 * 2 + 28;
  for (let h = 0; h < hours; h++) {
    const local = localHour(from + h * 3600_000, timezone);
    if (local.startsWith(lossy) && Number(local.slice(11, 13)) >= 10 && Number(local.slice(11, 13)) < 16)
      lostHours.push(h);
  }
  assert.equal(lostHours.length, 6);
  await sandbox.stream.publish({
    hours,
    fromHourMs: from,
    duplicates: 0.2,
    revisions: true,
    shuffle: true,
    omitHours: lostHours,
  });
  await drain();

  // The campaign reports of both days, through the pipeline; each report.loaded reconciles its days.
  await loadAndReconcile(
    { db: pg.db, ch: ch.ch, bus, clients, log, prefix },
    {
      reportTypes: REPORT_TYPES,
      tier: { name: 'rec', fromDaysAgo: 4, toDaysAgo: 3, everyDays: 1 },
      reconciledDays: REPORT_TYPES.length * 2,
    },
  );
});

after(async () => {
  queue?.close();
  await bus?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

/** What the sandbox sent for a local day, per report type, campaign and metric (the reports' headline windows). */
function sentSums(day: string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (const r of sandbox.stream.expected()) {
    if (!String(r.time_window_start ?? '').startsWith(day)) continue;
    const product = String(r.dataset_id).slice(0, 2);
    const type = `${product}Campaigns`;
    const w = RECONCILED[type]!.window;
    const k = (m: string) => `${type}|${r.campaign_id}|${m}`;
    if (String(r.dataset_id).endsWith('-traffic')) {
      add(k('impressions'), Number(r.impressions));
      add(k('clicks'), Number(r.clicks));
      add(k('cost_micros'), Math.round(Number(r.cost) * 1e6));
    } else {
      add(k('orders'), Number(r[`attributed_conversions_${w}`]));
      add(k('sales_micros'), Math.round(Number(r[`attributed_sales_${w}`]) * 1e6));
      add(k('units'), Number(r[`attributed_units_ordered_${w}`]));
    }
  }
  return out;
}

async function reportSums(day: string): Promise<Map<string, number>> {
  const rows = await (
    await ch.ch.client.query({
      query: `SELECT report_type, campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost_micros) AS cost_micros,
                     sum(orders) AS orders, sum(sales_micros) AS sales_micros, sum(units) AS units
                FROM ads_metrics_daily FINAL WHERE entity_level = 'campaign' AND date = toDate('${day}')
               GROUP BY report_type, campaign_id`,
      format: 'JSONEachRow',
    })
  ).json<Record<string, string>>();
  const out = new Map<string, number>();
  for (const r of rows)
    for (const m of ['impressions', 'clicks', 'cost_micros', 'orders', 'sales_micros', 'units'])
      out.set(`${r.report_type}|${r.campaign_id}|${m}`, Number(r[m]));
  return out;
}

test('a day whose every hour arrived equals its campaign reports exactly, for every ad product and metric', async () => {
  const report = await reportSums(full);
  assert.ok(report.size >= REPORT_TYPES.length * 6, `campaign rows to compare (${report.size})`);
  const sent = sentSums(full);
  for (const [k, v] of report) assert.equal(sent.get(k) ?? 0, v, `Stream sent ${k} as the report has it`);
  const days = await pg.db('stream_reconciled_days').where({ day: full }).orderBy('report_type');
  assert.deepEqual(
    days.map((d) => [d.report_type, d.mismatches]),
    REPORT_TYPES.sort().map((t) => [t, 0]),
  );
  assert.ok(days.every((d) => d.campaigns > 0));
});

test('a day that lost hours is a gap naming each campaign and metric, with the report and Stream values', async () => {
  const report = await reportSums(lossy);
  const sent = sentSums(lossy);
  const mismatches = await pg.db('stream_mismatches').where({ day: lossy });
  assert.ok(mismatches.length > 0, 'the lost hours show');
  for (const m of mismatches) {
    const k = `${m.report_type}|${m.campaign_id}|${m.metric}`;
    assert.equal(Number(m.report_value), report.get(k) ?? 0, `${k}: the report's value`);
    assert.equal(Number(m.stream_value), sent.get(k) ?? 0, `${k}: what Stream delivered`);
    assert.ok(Number(m.stream_value) < Number(m.report_value), `${k}: short, not over`);
  }
  // Every metric short by more than 1% is named; no other.
  const named = new Set(mismatches.map((m) => `${m.report_type}|${m.campaign_id}|${m.metric}`));
  for (const [k, v] of report) {
    const short = Math.abs(v - (sent.get(k) ?? 0)) > Math.max(k.endsWith('_micros') ? 10_000 : 0, 0.01 * v);
    assert.equal(named.has(k), short, k);
  }
  const gaps = await findGaps(pg.db, { from: full, to: lossy, reportTypes: REPORT_TYPES, profileIds: [profileId] });
  const streamGaps = gaps.filter((g) => g.kind === 'stream_mismatch');
  assert.deepEqual(
    streamGaps.map((g) => [g.reportType, g.day]).sort(),
    [...new Set(mismatches.map((m) => m.report_type))].sort().map((t) => [t, lossy]),
  );
  assert.match(
    streamGaps[0]!.reason,
    /^Marketing Stream's hourly sums differ from the daily report: campaign \d+ \w+ report [\d.]+, stream [\d.]+/,
  );
});

test('a day the Stream did not cover whole (subscribed during it) is not compared', async () => {
  await pg.db('stream_subscriptions').update({ confirmed_at: new Date(`${lossy}T12:00:00Z`) });
  try {
    const r = await reconcileDay(
      { db: pg.db, ch: ch.ch, log, tolerance: { relative: 0.01, moneyMicros: 10_000 } },
      profileId,
      'spCampaigns',
      lossy,
    );
    assert.deepEqual(r, { compared: false, mismatches: [] });
    assert.equal(
      await pg.db('stream_reconciled_days').where({ report_type: 'spCampaigns', day: lossy }).first(),
      undefined,
      'and the verdict from before is gone',
    );
  } finally {
    await pg.db('stream_subscriptions').update({ confirmed_at: new Date(Date.now() - 10 * 86_400_000) });
  }
});
