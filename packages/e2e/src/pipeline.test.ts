// End to end against the sandbox and the real stack: request → poll → ready → parse → load.
import { test, before, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  checkCreateReport,
  reportRows,
  startSandbox,
  SANDBOX_ACCOUNT_CREDENTIALS,
  type Sandbox,
} from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox, parseKey } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createEventBus, type EventBus } from '@adsync/shared/kafka/event-bus';
import { RegistryCodec } from '@adsync/shared/kafka/codec';
import { relayOutbox, enqueue } from '@adsync/shared/db/outbox';
import { sampleEvent } from '@adsync/shared/kafka/sample-events';
import {
  REPORT_TYPE_IDS as ALL_TYPE_IDS,
  DEFAULT_REPORT_TYPE_IDS,
  REPORT_TYPES,
  isDspReportType,
} from '@adsync/shared/amazon/report-catalog';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireKafka,
  requireRegistry,
  testConfig,
  testLogger,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';
import { pollTick } from '@adsync/report-poller/poll-tick';
import { findGaps } from '@adsync/report-poller/completeness';
import { startLoader, type Loader } from '@adsync/etl-loader/loader';
import { syncProfiles } from '@adsync/entity-sync/sync-profiles';
import { clickhouseDayTotals, expectedDayTotals, zeroTotals, type DayTotals } from '@adsync/chaos/expected';
import { refreshRecentMetrics } from '@adsync/entity-sync/recent-metrics';
import { reconcile } from '@adsync/report-poller/reconciliation';
import { listLetters, replayLetters } from '@adsync/etl-loader/dead-letters';
import { beforeScrape, metrics, metricsContentType, scrape, watchQueue } from '@adsync/shared/runtime/metrics';
import { POLL_QUEUE } from '@adsync/shared/reports/pending-reports';
import { profilesFailingForADay } from '@adsync/entity-sync/sync-runs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { discoverDspAdvertisers } from '@adsync/entity-sync/dsp-advertisers';

const KEY = 'dGVzdC1vbmx5LWtleS1mb3ItdGhlLXBpcGVsaW5lLXQ=';
// Sponsored ads: these profiles are sellers and vendors (DSP has its own test, dsp-reports.test.ts).
const REPORT_TYPE_IDS = ALL_TYPE_IDS.filter((t) => REPORT_TYPES[t]!.adProduct !== 'DEMAND_SIDE_PLATFORM');
const cfg = testConfig();
const prefix = `${uniqueName('pl')}.`;
const log = testLogger('pipeline');
const scale = {
  // Five, so that the fifth is a DSP (agency) profile; the sponsored-ads tests use the first two.
  profiles: 5,
  campaignsPerProfile: 4,
  adGroupsPerCampaign: 3,
  adsPerAdGroup: 2,
  keywordsPerAdGroup: 10,
  productTargetsPerAdGroup: 2,
  // Three, so each profile has one SB campaign from before multi-ad-group campaigns (every third).
  sbCampaignsPerProfile: 3,
  // Enough SD and Sponsored TV entities that each report type has something delivering.
  sdCampaignsPerProfile: 4,
  sdTargetsPerAdGroup: 3,
  stCampaignsPerProfile: 4,
  searchTermsPerKeyword: 3,
};
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let bus: EventBus;
let clients: AmazonClients;
let loader: Loader | null = null;
let profileIds: string[];
let accountId: string;

before(async () => {
  await requireKafka(cfg);
  sandbox = await startSandbox({ seed: 21, scale, faults: { reportGenerationMs: 150 } });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(parseKey(KEY));
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'pipeline' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  const sponsored = sandbox.state.dataset.profiles().slice(0, 2);
  profileIds = sponsored.map((p) => p.profileId);
  await pg.db('profiles').insert(
    sponsored.map((p) => ({
      profile_id: p.profileId,
      account_id: accountId,
      country_code: p.countryCode,
      currency_code: p.currencyCode,
      timezone: 'UTC',
    })),
  );
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  // Entities first, as in production, so loads can roll recent metrics onto them.
  const entities = await syncProfiles(
    { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
    { entity: 'all', mode: 'full', trigger: 'test' },
  );
  assert.equal(entities.failed, 0);
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'pipeline-test',
    codec: new RegistryCodec(await requireRegistry(cfg)),
    log,
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
});

after(async () => {
  await loader?.stop();
  await bus?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const consume: Parameters<typeof startLoader>[0]['consume'] = (o) =>
  bus.consume({ ...o, groupId: `${prefix}${o.groupId}`, sessionTimeoutMs: 6000 });

/** The loader plus entity-sync's report.loaded consumer, as the two services run them. */
async function startInProcessLoader(): Promise<Loader> {
  const l = await startLoader({
    db: pg.db,
    ch: ch.ch,
    bus,
    clients,
    log,
    consume,
    consumeDeadLetters: (o) =>
      bus.consumeDeadLetters({ ...o, groupId: `${prefix}${o.groupId}`, sessionTimeoutMs: 6000 }),
    rowsPerEvent: 100,
    loadBatchMessages: 20,
  });
  const recent = await consume({
    topic: 'report.loaded',
    groupId: 'adsync.entity-sync.recent-metrics',
    handle: async (e) => void (await refreshRecentMetrics({ db: pg.db, ch: ch.ch }, e.value, new Date())),
  });
  const reconciler = await consume({
    topic: 'report.loaded',
    groupId: 'adsync.report-poller.reconcile',
    handle: async (e) => void (await reconcile({ db: pg.db, ch: ch.ch }, e.value)),
  });
  return {
    consumers: [...l.consumers, recent, reconciler],
    stop: async () => {
      await reconciler.stop();
      await recent.stop();
      await l.stop();
    },
  };
}

/** Drives the poller until every report of the given run is loaded (or failed), and announced. */
async function drive(runId: string, timeoutMs = 60_000) {
  const rows = await eventually(
    async () => {
      await pollTick({ db: pg.db, clients, log }, { maxReports: 10, minSpacingMs: 50, maxPolls: 100 });
      await relayOutbox(pg.db, bus);
      const rows = await pg.db('pending_amazon_reports').where({ run_id: runId }).select('status');
      return rows.length > 0 && rows.every((r) => r.status === 'loaded' || r.status === 'failed') ? rows : undefined;
    },
    { what: `run ${runId} loaded`, timeoutMs, intervalMs: 100 },
  );
  // A report turns loaded with its report.loaded queued in the same transaction, possibly after
  // the loop's last relay: one more relay announces every report seen loaded (as the services'
  // relay loop would), so what reacts to report.loaded (reconciliation, recent metrics) runs.
  await relayOutbox(pg.db, bus);
  return rows;
}

type Sums = DayTotals;

const chSums = (where: string): Promise<Map<string, Sums>> => clickhouseDayTotals(ch.ch, where);

/** What the sandbox generated for one profile, type and day, at the generation it last served. */
const sandboxSums = (profileId: string, reportTypeId: string, day: string, generation: number): Sums =>
  expectedDayTotals(sandbox, profileId, reportTypeId, day, generation);

const days = (from: number, to: number) => {
  const today = new Date().toISOString().slice(0, 10);
  const out: string[] = [];
  for (let d = from; d >= to; d--)
    out.push(new Date(Date.parse(`${today}T00:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10));
  return out;
};

test('every report type lands in ClickHouse with exactly the sandbox totals, per profile and day', async () => {
  loader = await startInProcessLoader();
  const summary = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: REPORT_TYPE_IDS, tiers: [], backfillDays: 5 },
  );
  // Five days a profile: one report of each type, or five of a type Amazon gives as a SUMMARY only.
  const perProfile = REPORT_TYPE_IDS.reduce((n, t) => n + Math.ceil(5 / Math.min(5, REPORT_TYPES[t]!.maxDays)), 0);
  assert.equal(summary.requested, 2 * perProfile);
  assert.equal(summary.failed.length, 0);
  await relayOutbox(pg.db, bus);
  const final = await drive(summary.runId);
  assert.ok(final.every((r) => r.status === 'loaded'));
  const got = await chSums('1');
  let compared = 0;
  let measures = 0;
  const nonEmpty = new Set<string>();
  for (const profileId of profileIds) {
    for (const type of REPORT_TYPE_IDS) {
      for (const day of days(5, 1)) {
        const want = sandboxSums(profileId, type, day, 3);
        // Every column: the headline figures and each attribution window's measure.
        const have = got.get(`${profileId}|${type}|${day}`) ?? zeroTotals(type);
        assert.deepEqual(have, want, `${profileId} ${type} ${day}`);
        compared++;
        measures += Object.keys(want.measures).length;
        if (want.rows > 0) nonEmpty.add(type);
      }
    }
  }
  assert.equal(compared, 2 * REPORT_TYPE_IDS.length * 5);
  assert.ok(measures > 2 * 5 * 500, `${measures} measure columns compared`);
  assert.deepEqual([...nonEmpty].sort(), [...REPORT_TYPE_IDS].sort(), 'every report type carried rows');
  // Completeness: every day of every type has a pull recorded, no gaps.
  const gaps = await findGaps(pg.db, { from: days(5, 5)[0]!, to: days(1, 1)[0]!, reportTypes: REPORT_TYPE_IDS });
  assert.deepEqual(gaps, []);
  // Recent metrics are rolled onto the Postgres entity rows, equal to ClickHouse's 7- and 30-day sums.
  // entity-sync refreshes them from report.loaded, after the load, so wait for the last announcement to be consumed.
  await relayOutbox(pg.db, bus);
  const campaign = await eventually(
    async () => {
      const unannounced = await pg
        .db('event_outbox')
        .whereNull('published_at')
        .count<{ count: string }[]>('* as count');
      const targetsDone = await pg.db('entity_targets').whereNotNull('recent_metrics').first();
      return Number(unannounced[0]!.count) === 0 && targetsDone
        ? pg.db('entity_campaigns').whereNotNull('recent_metrics').where({ ad_product: 'SPONSORED_PRODUCTS' }).first()
        : undefined;
    },
    { what: 'campaigns carry recent metrics', timeoutMs: 30_000 },
  );
  const rm = await ch.ch.client.query({
    query: `SELECT sum(cost_micros) AS cost, sum(clicks) AS clicks FROM ads_metrics_daily FINAL WHERE profile_id = '${campaign.profile_id}' AND report_type = 'spCampaigns' AND entity_id = '${campaign.campaign_id}' AND date >= toDate('${days(30, 30)[0]}')`,
    format: 'JSONEachRow',
  });
  const sums = (await rm.json<{ cost: string; clicks: string }>())[0]!;
  assert.equal(campaign.recent_metrics.cost_30d_micros, Number(sums.cost));
  assert.equal(campaign.recent_metrics.clicks_30d, Number(sums.clicks));
  const target = await pg.db('entity_targets').whereNotNull('recent_metrics').first();
  assert.ok(target && target.recent_metrics.impressions_30d > 0, 'targets carry recent metrics');
  const loaded = await pg
    .db('pending_amazon_reports')
    .where({ run_id: summary.runId })
    .sum<{ sum: number }[]>('row_count as sum');
  assert.equal(
    Number(loaded[0]!.sum),
    [...got.values()].reduce((s, v) => s + v.rows, 0),
  );
});

/** Sends report.ready for a report already loaded again (a redelivery), and waits until it has loaded again. */
async function loadAgain(report: Record<string, any>) {
  const loadedAt = new Date(report.loaded_at).getTime();
  await pg.db.transaction(async (tx) => {
    await enqueue(tx, 'report.ready', report.id, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      pendingReportId: report.id,
      profileId: report.profile_id,
      reportId: report.amazon_report_id,
      reportType: report.report_type,
      startDate: report.start_date,
      endDate: report.end_date,
      downloadUrl: report.download_url,
      fileSize: null,
      runId: null,
    });
  });
  await relayOutbox(pg.db, bus);
  await eventually(
    async () => {
      const r = await pg.db('pending_amazon_reports').where({ id: report.id }).first('loaded_at');
      return new Date(r.loaded_at).getTime() > loadedAt ? true : undefined;
    },
    { what: 'second load', timeoutMs: 30_000 },
  );
}

test('loading the same report twice leaves the same totals, not the sum', async () => {
  const before = await chSums('1');
  const report = await pg.db('pending_amazon_reports').where({ status: 'loaded', report_type: 'spTargeting' }).first();
  await loadAgain(report);
  assert.deepEqual(await chSums('1'), before);
});

test('a re-pull of a restated window replaces the old values exactly, and rows it no longer has are gone, with FINAL and without', async () => {
  // Amazon restates conversions for weeks (reporting/v3 guides: "metrics may be restated"), and
  // traffic it later judges invalid is removed from a day; a row with no impressions left is not
  // reported at all. The sandbox plays that with restateAwayEvery (one in three rows, after the
  // first pull). One table of each kind: entity metrics (and its streaming table, with placements
  // there too), purchased products, traffic quality and audiences.
  sandbox.setFaults({ restatement: true, restateAwayEvery: 3 });
  try {
    const types = ['spCampaigns', 'spCampaignPlacement', 'spPurchasedProduct', 'spGrossAndInvalids', 'spAudiences'];
    const window = { reportTypes: types, profileIds: [profileIds[0]!] };
    const d = days(12, 10);
    const inWindow = `profile_id = '${profileIds[0]}' AND date >= toDate('${d[0]}') AND date <= toDate('${d[2]}')`;
    const first = await requestReports(
      { db: pg.db, clients, log },
      { ...window, tiers: [{ name: 'restate-a', fromDaysAgo: 12, toDaysAgo: 10, everyDays: 1 }] },
    );
    await relayOutbox(pg.db, bus);
    await drive(first.runId);
    const afterFirst = await chSums(inWindow);
    const second = await requestReports(
      { db: pg.db, clients, log },
      { ...window, tiers: [{ name: 'restate-b', fromDaysAgo: 12, toDaysAgo: 10, everyDays: 1 }] },
    );
    assert.equal(second.requested, types.length, 'the loaded window may be asked for again');
    await relayOutbox(pg.db, bus);
    await drive(second.runId);
    const afterSecond = await chSums(inWindow);
    const rows = (m: Map<string, Sums>, type: string) =>
      [...m].filter(([k]) => k.split('|')[1] === type).reduce((t, [, v]) => t + v.rows, 0);
    for (const type of types) {
      for (const day of d) {
        const key = `${profileIds[0]}|${type}|${day}`;
        assert.deepEqual(afterFirst.get(key), sandboxSums(profileIds[0]!, type, day, 0), `${type} ${day}: first pull`);
        assert.deepEqual(
          afterSecond.get(key),
          sandboxSums(profileIds[0]!, type, day, 1),
          `${type} ${day}: second pull`,
        );
      }
      // The knob removed rows, and so did the loader: fewer rows than the first pull had.
      assert.ok(
        rows(afterSecond, type) < rows(afterFirst, type),
        `${type}: ${rows(afterFirst, type)} → ${rows(afterSecond, type)} rows`,
      );
    }
    const orders = (m: Map<string, Sums>) =>
      [...m].filter(([k]) => k.includes('|spCampaigns|')).reduce((t, [, v]) => t + v.orders, 0);
    assert.ok(
      orders(afterSecond) > orders(afterFirst),
      `restated upwards: ${orders(afterFirst)} → ${orders(afterSecond)}`,
    );

    // Without FINAL: only the latest pull is left, so plain sums and counts agree with FINAL.
    const plain = async (table: string, measure: string, final: boolean) => {
      const rs = await ch.ch.client.query({
        query: `SELECT report_type, count() AS n, sum(${measure}) AS total FROM ${table} ${final ? 'FINAL' : ''}
                WHERE ${inWindow} AND report_type IN (${types.map((t) => `'${t}'`).join(', ')}) GROUP BY report_type ORDER BY report_type`,
        format: 'JSONEachRow',
      });
      return rs.json();
    };
    for (const [table, measure] of [
      ['ads_metrics_daily', 'impressions'],
      ['ads_metrics_recent', 'impressions'],
      ['ads_purchased_products', 'orders'],
      ['ads_traffic_quality', 'invalid_impressions'],
      ['ads_audience_daily', 'impressions'],
    ] as const) {
      const final = await plain(table, measure, true);
      assert.ok(final.length > 0, `${table} has the window`);
      assert.deepEqual(await plain(table, measure, false), final, `${table}: the same without FINAL`);
    }
    // The streaming table holds what the daily table holds for these days.
    const recent = (await plain('ads_metrics_recent', 'impressions', true)) as {
      report_type: string;
      n: string;
      total: string;
    }[];
    const daily = afterSecond.get(`${profileIds[0]}|spCampaigns|${d[0]}`)!;
    assert.ok(daily.rows > 0);
    assert.equal(
      Number(recent.find((r) => r.report_type === 'spCampaigns')!.total),
      d.reduce((t, day) => t + afterSecond.get(`${profileIds[0]}|spCampaigns|${day}`)!.impressions, 0),
      'ads_metrics_recent: the latest pull',
    );

    // A third pull removes nothing more (the same rows stay invalid): the totals are its own, and
    // ClickHouse is asked for no delete (a re-pull that has every row again leaves it to replacement).
    const mutations = async () =>
      Number(
        (
          await (
            await ch.ch.client.query({
              query: 'SELECT count() AS n FROM system.mutations WHERE database = currentDatabase()',
              format: 'JSONEachRow',
            })
          ).json<{ n: string }>()
        )[0]!.n,
      );
    const deletesBefore = await mutations();
    assert.ok(deletesBefore > 0, 'the second pull deleted what it no longer had');
    const third = await requestReports(
      { db: pg.db, clients, log },
      { ...window, tiers: [{ name: 'restate-c', fromDaysAgo: 12, toDaysAgo: 10, everyDays: 1 }] },
    );
    await relayOutbox(pg.db, bus);
    await drive(third.runId);
    const afterThird = await chSums(inWindow);
    for (const type of types)
      for (const day of d)
        assert.deepEqual(
          afterThird.get(`${profileIds[0]}|${type}|${day}`),
          sandboxSums(profileIds[0]!, type, day, 2),
          `${type} ${day}: third pull`,
        );
    assert.equal(await mutations(), deletesBefore, 'the third pull deleted nothing');

    // The first pull delivered again (a redelivery, a late replica): its rows the later pulls no
    // longer have do not come back; the newest pull stays the truth.
    const firstReports = await pg.db('pending_amazon_reports').where({ run_id: first.runId });
    for (const r of firstReports) await loadAgain(r);
    const afterRedelivery = await chSums(inWindow);
    for (const type of types)
      for (const day of d)
        assert.deepEqual(
          afterRedelivery.get(`${profileIds[0]}|${type}|${day}`),
          sandboxSums(profileIds[0]!, type, day, 2),
          `${type} ${day}: after the first pull came again`,
        );
  } finally {
    sandbox.setFaults({ restatement: false, restateAwayEvery: 0 });
  }
});

test('a campaign Amazon leaves out of the SB campaign report is named as a gap, and a complete re-pull clears it', async () => {
  // Amazon's v3 Sponsored Brands reports may omit campaigns created before multi-ad-group
  // campaigns (en-us/guides/sponsored-brands/campaigns/managing-multi-ad-group-campaigns.md);
  // the sandbox plays that with dropNonMultiAdGroupSbFrom. The ad-group report still has them.
  const dropped = profileIds.map((_, p) =>
    [...sandbox.state.dataset.all('sb', 'campaign', p)].filter((c) => c.isMultiAdGroupsEnabled === false),
  );
  assert.ok(
    dropped.every((d) => d.length > 0),
    'each profile has an SB campaign from before multi-ad-group',
  );
  // Make them and their ad groups enabled (a gap only matters where money was spent), then
  // sync campaigns so the entity tables agree.
  for (const [p, d] of dropped.entries())
    for (const c of d) {
      sandbox.state.dataset.override(c.id, { state: 'ENABLED' });
      for (const g of sandbox.state.dataset.all('sb', 'adGroup', p))
        if (g.campaignId === c.id) sandbox.state.dataset.override(g.id, { state: 'ENABLED' });
    }
  const synced = await syncProfiles(
    { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
    { entity: 'campaigns', mode: 'full', trigger: 'test' },
  );
  assert.equal(synced.failed, 0);
  const window = { from: days(40, 40)[0]!, to: days(39, 39)[0]! };
  const pull = async (name: string) => {
    const run = await requestReports(
      { db: pg.db, clients, log },
      { reportTypes: ['sbCampaigns', 'sbAdGroup'], tiers: [{ name, fromDaysAgo: 40, toDaysAgo: 39, everyDays: 1 }] },
    );
    assert.equal(run.failed.length, 0);
    await relayOutbox(pg.db, bus);
    await drive(run.runId);
  };
  const campaignGaps = () =>
    findGaps(pg.db, { ...window, reportTypes: ['sbCampaigns'] }).then((g) =>
      g.filter((x) => x.kind === 'campaign_missing'),
    );

  sandbox.setFaults({ dropNonMultiAdGroupSbFrom: ['sbCampaigns'] });
  try {
    await pull('reconcile-a');
  } finally {
    sandbox.setFaults({ dropNonMultiAdGroupSbFrom: [] });
  }
  // What should be named: each dropped campaign on each day the ad-group report shows it spending.
  const rs = await ch.ch.client.query({
    query: `SELECT profile_id, toString(date) AS day, campaign_id, sum(cost_micros) AS cost
            FROM ads_metrics_daily FINAL
            WHERE report_type = 'sbAdGroup' AND date >= toDate('${window.from}') AND date <= toDate('${window.to}')
            GROUP BY profile_id, day, campaign_id HAVING cost > 0`,
    format: 'JSONEachRow',
  });
  const droppedIds = new Set(dropped.flat().map((c) => c.id));
  const want = (await rs.json<{ profile_id: string; day: string; campaign_id: string }>())
    .filter((r) => droppedIds.has(r.campaign_id))
    .map((r) => `${r.profile_id} ${r.day} ${r.campaign_id}`)
    .sort();
  assert.ok(want.length > 0, 'the dropped campaigns spent in the window');
  const gaps = await eventually(
    async () => {
      const g = await campaignGaps();
      return g.length >= want.length ? g : undefined;
    },
    { what: 'reconciliation findings', timeoutMs: 30_000 },
  );
  assert.deepEqual(
    gaps.map((g) => `${g.profileId} ${g.day} ${/campaign (\S+)/.exec(g.reason)![1]}`).sort(),
    want,
    'exactly the dropped campaigns, per day',
  );
  for (const g of gaps)
    assert.match(g.reason, /is enabled and spent [\d.]+ in sbAdGroup but is absent from sbCampaigns/);
  const listed = await pg.db('report_reconciliation').where({ missing_from: 'sbCampaigns' }).first();
  assert.ok(listed.campaign_name, 'the campaign is named, not only numbered');

  // Replicas reconcile one profile's days at once when its reports load together: none collides
  // (two of them deleting and inserting the same findings did), and the findings stay.
  const profileId = gaps[0]!.profileId!;
  const again = await Promise.all(
    Array.from({ length: 6 }, () =>
      reconcile(
        { db: pg.db, ch: ch.ch },
        { profileId, reportType: 'sbAdGroup', startDate: window.from, endDate: window.to },
      ),
    ),
  );
  assert.ok(
    again.every((f) => f.length > 0),
    'each reconciliation found the dropped campaigns',
  );
  assert.equal((await campaignGaps()).length, gaps.length);

  // Amazon fixes the report: the next pull of those days clears the findings.
  await pull('reconcile-b');
  await eventually(async () => ((await campaignGaps()).length === 0 ? true : undefined), {
    what: 'findings cleared by a complete pull',
    timeoutMs: 30_000,
  });
});

test('an empty report is a gap only where the profile had something that could deliver; a complete re-pull clears it', async () => {
  // Profile 1's SD ad groups are all paused: its empty sdAdGroup reports are right, not gaps.
  for (const g of sandbox.state.dataset.all('sd', 'adGroup', 1))
    sandbox.state.dataset.override(g.id, { state: 'PAUSED' });
  const synced = await syncProfiles(
    { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
    { entity: 'ad_groups', mode: 'full', trigger: 'test' },
  );
  assert.equal(synced.failed, 0);
  const live = [...sandbox.state.dataset.all('sd', 'adGroup', 0)].filter((g) => sandbox.state.dataset.delivering(g));
  assert.ok(live.length > 0, 'profile 0 has an SD ad group that can deliver');
  const window = { from: days(45, 45)[0]!, to: days(44, 44)[0]! };
  const pull = async (name: string) => {
    const run = await requestReports(
      { db: pg.db, clients, log },
      { reportTypes: ['sdAdGroup'], tiers: [{ name, fromDaysAgo: 45, toDaysAgo: 44, everyDays: 1 }] },
    );
    assert.equal(run.failed.length, 0);
    await relayOutbox(pg.db, bus);
    await drive(run.runId);
  };
  const empty = async () =>
    (await findGaps(pg.db, { ...window, reportTypes: ['sdAdGroup'] }))
      .filter((g) => g.kind === 'empty')
      .map((g) => `${g.profileId} ${g.day}`)
      .sort();

  sandbox.setFaults({ emptyReportTypes: ['sdAdGroup'] });
  try {
    await pull('empty-a');
  } finally {
    sandbox.setFaults({ emptyReportTypes: [] });
  }
  assert.deepEqual(
    await empty(),
    [window.from, window.to].map((d) => `${profileIds[0]} ${d}`),
    'profile 0 (live ad groups) has gaps on both days; profile 1 (all paused) has none',
  );
  const [gap] = (await findGaps(pg.db, { ...window, reportTypes: ['sdAdGroup'] })).filter((g) => g.kind === 'empty');
  assert.match(gap!.reason, /no rows for this day although the profile has ad groups that can deliver/);

  await pull('empty-b');
  assert.deepEqual(await empty(), [], 'a pull with rows clears the gaps');
});

test('a backfill of 60 days asks once per window and loads exact totals for every day', async () => {
  const window = { from: days(61, 61)[0]!, to: days(2, 2)[0]! };
  const types = ['spCampaigns', 'sdCampaigns'];
  const run = await requestReports({ db: pg.db, clients, log }, { reportTypes: types, tiers: [], window });
  // 60 days in windows of at most 31: two per type and profile.
  assert.equal(run.planned, profileIds.length * types.length * 2);
  assert.equal(run.requested, run.planned);
  assert.equal(run.failed.length, 0);
  // Asked again while in flight (a double click, a second replica): nothing is asked twice.
  const again = await requestReports({ db: pg.db, clients, log }, { reportTypes: types, tiers: [], window });
  assert.equal(again.requested, 0);
  assert.equal(again.alreadyInFlight, again.planned);
  await relayOutbox(pg.db, bus);
  await drive(run.runId, 120_000);
  const got = await chSums(`date >= toDate('${window.from}') AND date <= toDate('${window.to}')`);
  let compared = 0;
  for (const profileId of profileIds)
    for (const type of types)
      for (const day of days(61, 2)) {
        const want = sandboxSums(profileId, type, day, 3);
        assert.deepEqual(
          got.get(`${profileId}|${type}|${day}`) ?? zeroTotals(type),
          want,
          `${profileId} ${type} ${day}`,
        );
        compared++;
      }
  assert.equal(compared, profileIds.length * types.length * 60);
  assert.deepEqual(await findGaps(pg.db, { ...window, reportTypes: types }), [], 'every day recorded as loaded');
});

test('a report stuck PENDING past the poll limit and a FAILED report end failed with reasons, without blocking others', async () => {
  sandbox.setFaults({ failReportTypes: ['sbCampaigns'] });
  try {
    const failing = await requestReports(
      { db: pg.db, clients, log },
      {
        reportTypes: ['sbCampaigns', 'sdCampaigns'],
        profileIds: [profileIds[1]!],
        tiers: [{ name: 'fail-test', fromDaysAgo: 20, toDaysAgo: 19, everyDays: 1 }],
      },
    );
    await relayOutbox(pg.db, bus);
    const rows = await drive(failing.runId);
    const byType = Object.fromEntries(
      (
        await pg
          .db('pending_amazon_reports')
          .where({ run_id: failing.runId })
          .select('report_type', 'status', 'failure_reason')
      ).map((r) => [r.report_type, r]),
    );
    assert.equal(rows.length, 2);
    assert.equal(byType.sbCampaigns.status, 'failed');
    assert.match(byType.sbCampaigns.failure_reason, /Amazon reported FAILED/);
    assert.equal(byType.sdCampaigns.status, 'loaded');
    const gaps = await findGaps(pg.db, {
      from: days(20, 20)[0]!,
      to: days(19, 19)[0]!,
      reportTypes: ['sbCampaigns'],
      profileIds: [profileIds[1]!],
    });
    assert.equal(gaps.length, 2);
    assert.ok(gaps.every((g) => g.kind === 'failed'));
  } finally {
    sandbox.setFaults({ failReportTypes: [] });
  }
  sandbox.setFaults({ reportGenerationMs: 3_600_000 });
  try {
    const stuck = await requestReports(
      { db: pg.db, clients, log },
      {
        reportTypes: ['spCampaigns'],
        profileIds: [profileIds[1]!],
        tiers: [{ name: 'stuck', fromDaysAgo: 30, toDaysAgo: 30, everyDays: 1 }],
      },
    );
    for (let i = 0; i < 6; i++)
      await pollTick({ db: pg.db, clients, log }, { maxReports: 10, minSpacingMs: 0, maxPolls: 5 });
    const r = await pg.db('pending_amazon_reports').where({ run_id: stuck.runId }).first();
    assert.equal(r.status, 'failed');
    assert.match(r.failure_reason, /gave up after 5 polls; Amazon still says PENDING/);
  } finally {
    sandbox.setFaults({ reportGenerationMs: 150 });
  }
});

test('rows that do not parse are dead-lettered with the reason; the rest of the report loads', async () => {
  sandbox.setFaults({ badRowEvery: 7 });
  try {
    const run = await requestReports(
      { db: pg.db, clients, log },
      {
        reportTypes: ['spAdvertisedProduct'],
        profileIds: [profileIds[1]!],
        tiers: [{ name: 'bad-rows', fromDaysAgo: 15, toDaysAgo: 14, everyDays: 1 }],
      },
    );
    await relayOutbox(pg.db, bus);
    await drive(run.runId);
    const report = await pg.db('pending_amazon_reports').where({ run_id: run.runId }).first();
    assert.equal(report.status, 'loaded');
    const want = sandbox.state.reports.get(report.amazon_report_id)!;
    assert.ok((want.badRows ?? 0) > 0);
    const got = await chSums(`pending_report_id = '${report.id}'`);
    const sum = (k: Exclude<keyof Sums, 'measures'>) => [...got.values()].reduce((s, v) => s + v[k], 0);
    assert.equal(sum('rows'), want.totals!.rows);
    assert.equal(sum('clicks'), want.totals!.sums.clicks);
    assert.equal(sum('cost'), want.totals!.sums.cost);
    const dl = await eventually(
      async () => {
        const rs = await ch.ch.client.query({
          query: `SELECT count() AS c, any(reason) AS reason FROM dead_letters FINAL WHERE message_key = '${report.id}'`,
          format: 'JSONEachRow',
        });
        const r = (await rs.json<{ c: string; reason: string }>())[0]!;
        return Number(r.c) === want.badRows ? r : undefined;
      },
      { what: 'dead letters indexed' },
    );
    assert.match(dl.reason, /date is missing or not YYYY-MM-DD/);
  } finally {
    sandbox.setFaults({ badRowEvery: 0 });
  }
});

test('impossible messages on rows.parsed and report.ready are dead-lettered with the reason; the reports behind them load', async () => {
  // Well-formed to the schema, impossible in fact, on every partition (several keys), ahead of real reports.
  const keys = Array.from({ length: 6 }, (_, i) => `poison-${i}-${randomUUID()}`);
  const poisonRows = keys.map((k) => {
    const ev = sampleEvent('rows.parsed', k);
    return { ...ev, pendingReportId: k, rows: [{ ...ev.rows[0]!, clicks: -5 }] };
  });
  const ghostReady = keys.map((k) => ({ ...sampleEvent('report.ready', k), pendingReportId: k }));
  await bus.publish('rows.parsed', poisonRows, (e) => e.pendingReportId);
  await bus.publish('report.ready', ghostReady, (e) => e.pendingReportId);
  const run = await requestReports(
    { db: pg.db, clients, log },
    {
      reportTypes: ['spCampaigns', 'spTargeting'],
      profileIds,
      tiers: [{ name: 'behind-poison', fromDaysAgo: 17, toDaysAgo: 16, everyDays: 1 }],
    },
  );
  assert.equal(run.requested, 4);
  await relayOutbox(pg.db, bus);
  const final = await drive(run.runId);
  assert.deepEqual(
    final.map((r) => r.status),
    ['loaded', 'loaded', 'loaded', 'loaded'],
  );
  const letters = await eventually(
    async () => {
      const rs = await ch.ch.client.query({
        query: `SELECT topic, step, reason FROM dead_letters FINAL WHERE message_key IN (${keys.map((k) => `'${k}'`).join(', ')})`,
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ topic: string; step: string; reason: string }>();
      return rows.length === 2 * keys.length ? rows : undefined;
    },
    { what: 'both kinds of poison indexed', timeoutMs: 30_000 },
  );
  const rowsLetters = letters.filter((l) => l.topic === 'rows.parsed');
  assert.equal(rowsLetters.length, keys.length);
  for (const l of rowsLetters) {
    assert.equal(l.step, 'validate');
    assert.match(l.reason, /row 0: clicks -5 is not a count/);
  }
  const readyLetters = letters.filter((l) => l.topic === 'report.ready');
  assert.equal(readyLetters.length, keys.length);
  for (const l of readyLetters) {
    assert.equal(l.step, 'handle');
    assert.match(l.reason, /^pending report poison-\d-[0-9a-f-]+ is not recorded$/);
  }
  // Nothing of the poison reached ClickHouse.
  const leaked = await ch.ch.client.query({
    query: `SELECT count() AS c FROM ads_metrics_daily WHERE pending_report_id IN (${keys.map((k) => `'${k}'`).join(', ')})`,
    format: 'JSONEachRow',
  });
  assert.equal(Number((await leaked.json<{ c: string }>())[0]!.c), 0);
});

test('a dead letter replayed after its cause is fixed loads exactly once; replaying it again sends nothing', async () => {
  // A real report, loaded; then its report.ready arrives again naming a pending report that
  // is not recorded yet (the requester's write lost): the loader dead-letters it.
  const run = await requestReports(
    { db: pg.db, clients, log },
    {
      reportTypes: ['spCampaigns'],
      profileIds: [profileIds[0]!],
      tiers: [{ name: 'replay', fromDaysAgo: 12, toDaysAgo: 11, everyDays: 1 }],
    },
  );
  await relayOutbox(pg.db, bus);
  await drive(run.runId);
  const r = await pg.db('pending_amazon_reports').where({ run_id: run.runId }).first();
  const ghost = randomUUID();
  const ready = {
    ...sampleEvent('report.ready', ghost),
    pendingReportId: ghost,
    profileId: r.profile_id,
    reportId: r.amazon_report_id,
    reportType: r.report_type,
    startDate: days(12, 12)[0]!,
    endDate: days(11, 11)[0]!,
    downloadUrl: r.download_url,
    runId: null,
  };
  await bus.publish('report.ready', [ready], (e) => e.pendingReportId);
  const sel = { topic: 'report.ready', reason: ghost };
  await eventually(
    async () => ((await listLetters({ db: pg.db, ch: ch.ch }, sel, 10)).length === 1 ? true : undefined),
    { what: 'the letter indexed' },
  );
  const [letter] = await listLetters({ db: pg.db, ch: ch.ch }, sel, 10);
  assert.equal(letter!.state, 'active');
  assert.ok(letter!.replayable);
  assert.match(letter!.reason, /is not recorded/);

  // Replayed before the cause is fixed, it would only fail again: fix it first.
  const { id: _id, ...copy } = r;
  await pg.db('pending_amazon_reports').insert({ ...copy, id: ghost, run_id: null, status: 'completed' });
  const first = await replayLetters({ db: pg.db, ch: ch.ch, bus }, sel, { limit: 10 });
  assert.deepEqual(
    { selected: first.selected, done: first.done, skipped: first.skipped },
    { selected: 1, done: 1, skipped: [] },
  );
  await eventually(
    async () =>
      (await pg.db('pending_amazon_reports').where({ id: ghost }).first()).status === 'loaded' ? true : undefined,
    { what: 'the replayed report loaded' },
  );
  const window = `date >= toDate('${days(12, 12)[0]}') AND date <= toDate('${days(11, 11)[0]}')`;
  const exact = async () => {
    const got = await chSums(window);
    for (const day of days(12, 11))
      assert.deepEqual(
        got.get(`${r.profile_id}|spCampaigns|${day}`),
        sandboxSums(r.profile_id, 'spCampaigns', day, 3),
        `${day} exact, not doubled`,
      );
  };
  await exact();

  const second = await replayLetters({ db: pg.db, ch: ch.ch, bus }, sel, { limit: 10 });
  assert.equal(second.done, 0);
  assert.deepEqual(
    second.skipped.map((x) => x.reason),
    ['already replayed'],
  );
  assert.equal((await listLetters({ db: pg.db, ch: ch.ch }, { ...sel, state: 'replayed' }, 10)).length, 1);
  assert.equal((await listLetters({ db: pg.db, ch: ch.ch }, sel, 10)).length, 0, 'no longer active');
  await exact();
});

test('the real Prometheus scrapes every metric family this process produced while it ran the pipeline', async () => {
  const prometheus = process.env.PROMETHEUS_URL;
  const targets = process.env.ADSYNC_PROMETHEUS_TARGETS;
  assert.ok(
    prometheus && targets,
    'PROMETHEUS_URL and ADSYNC_PROMETHEUS_TARGETS (deploy/local/stack up starts Prometheus)',
  );
  // What report-poller and entity-sync report at each scrape, read from this test's database.
  watchQueue('reports_in_flight', pg.db, POLL_QUEUE);
  beforeScrape(async () => metrics.profilesFailing.set(await profilesFailingForADay(pg.db)));
  const server = createServer((_req, res) => {
    void scrape().then((text) => {
      res.writeHead(200, { 'content-type': metricsContentType });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const instance = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = `${targets}/${prefix.replace(/\W/g, '_')}.json`;
  mkdirSync(targets, { recursive: true });
  writeFileSync(file, JSON.stringify([{ targets: [instance], labels: { service: 'pipeline-test' } }]));
  const families = [
    'adsync_messages_total',
    'adsync_consumer_lag',
    'adsync_rows_loaded_total',
    'adsync_clickhouse_insert_seconds_count',
    'adsync_amazon_calls_total',
    'adsync_lwa_token_refreshes_total',
    'adsync_queue_depth',
    'adsync_queue_oldest_age_seconds',
    'adsync_report_requested_to_queryable_seconds_count',
    'adsync_profiles_failing_for_a_day',
  ];
  const query = async (q: string) => {
    const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  };
  try {
    const seen = await eventually(
      async () => {
        const r = await query(`count by (__name__) ({instance="${instance}", __name__=~"adsync_.*"})`);
        const names = new Set(r.map((x) => x.metric.__name__));
        return families.every((f) => names.has(f)) ? names : undefined;
      },
      { what: `Prometheus scraping ${instance}`, timeoutMs: 60_000, intervalMs: 1000 },
    );
    assert.ok(families.every((f) => seen.has(f)));
    // Values that mean what they say: rows were loaded, Amazon answered 200s, reports became queryable.
    const rows = await query(`sum(adsync_rows_loaded_total{instance="${instance}"})`);
    assert.ok(Number(rows[0]!.value[1]) > 1000, `rows loaded ${rows[0]?.value[1]}`);
    const calls = await query(`sum by (status) (adsync_amazon_calls_total{instance="${instance}"})`);
    assert.ok(calls.some((c) => c.metric.status === '200'));
    const dlq = await query(`sum(adsync_messages_total{instance="${instance}", outcome="dlq"})`);
    assert.ok(Number(dlq[0]!.value[1]) > 0, 'the dead letters of the tests above are counted');
  } finally {
    rmSync(file, { force: true });
    await new Promise((r) => server.close(r));
  }
});

test('killing the etl-loader in the middle of a report and starting it again ends with exact totals', async () => {
  await loader?.stop();
  loader = null;
  const main = fileURLToPath(new URL('../../../services/etl-loader/src/main.ts', import.meta.url));
  const env = {
    ...process.env,
    DATABASE_URL: pg.url,
    CLICKHOUSE_DATABASE: ch.ch.database,
    KAFKA_TOPIC_PREFIX: prefix,
    AMAZON_ADS_BASE_URL: sandbox.url,
    ENCRYPTION_KEY: KEY,
    ETL_ROWS_PER_EVENT: '10',
    ETL_LOAD_BATCH_MESSAGES: '1',
    ETL_LOADER_PORT: '0',
    LOG_LEVEL: 'warn',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  };
  const child: ChildProcess = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const run = await requestReports(
      { db: pg.db, clients, log },
      {
        reportTypes: ['spSearchTerm'],
        profileIds: [profileIds[0]!],
        tiers: [{ name: 'kill', fromDaysAgo: 30, toDaysAgo: 22, everyDays: 1 }],
      },
    );
    await relayOutbox(pg.db, bus);
    // Poll until Amazon says COMPLETED and report.ready is out; the child starts loading.
    const reportRow = await eventually(
      async () => {
        await pollTick({ db: pg.db, clients, log }, { maxReports: 10, minSpacingMs: 50, maxPolls: 100 });
        await relayOutbox(pg.db, bus);
        return pg.db('pending_amazon_reports').where({ run_id: run.runId, status: 'completed' }).first();
      },
      { what: 'report completed' },
    );
    await eventually(
      async () => {
        const rs = await ch.ch.client.query({
          query: `SELECT count() AS c FROM ads_metrics_daily WHERE pending_report_id = '${reportRow.id}'`,
          format: 'JSONEachRow',
        });
        return Number((await rs.json<{ c: string }>())[0]!.c) > 0 ? true : undefined;
      },
      { what: 'first rows loaded by the child', timeoutMs: 60_000, intervalMs: 20 },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const mid = await pg.db('pending_amazon_reports').where({ id: reportRow.id }).first('status');
    assert.notEqual(mid.status, 'loaded', 'killed before the report finished loading');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  loader = await startInProcessLoader();
  const done = await eventually(
    async () => (await pg.db('pending_amazon_reports').where({ tier: 'kill', status: 'loaded' }).first()) ?? undefined,
    { what: 'loaded after restart', timeoutMs: 90_000 },
  );
  const got = await chSums(`report_type = 'spSearchTerm' AND pending_report_id = '${done.id}'`);
  for (const day of days(30, 22))
    assert.deepEqual(
      got.get(`${profileIds[0]}|spSearchTerm|${day}`),
      sandboxSums(profileIds[0]!, 'spSearchTerm', day, 3),
      day,
    );
});

test('DSP: every DSP report type of a DSP profile lands with exactly the sandbox totals; a restated re-pull replaces them', async () => {
  // Reporting v3 with adProduct DEMAND_SIDE_PLATFORM under the DSP profile's scope, its advertisers
  // in filters.advertiserId (OfflineReport_prod_3p examples DSP*SummaryReport;
  // guides/reporting/dsp/creating-reports).
  const agency = sandbox.state.dataset.profiles()[4]!;
  assert.equal(agency.accountInfo.type, 'agency');
  await pg.db('profiles').insert({
    profile_id: agency.profileId,
    account_id: accountId,
    country_code: agency.countryCode,
    currency_code: agency.currencyCode,
    timezone: 'UTC',
    account_type: 'agency',
  });
  const found = await discoverDspAdvertisers(pg.db, await clients.forAccount(accountId), accountId);
  assert.ok(found.advertisers.some((a) => a.via_profile_id === agency.profileId));
  const types = ALL_TYPE_IDS.filter(isDspReportType);
  // The seven report types, eight more of their documented breakdowns (geo, inventory and tech
  // pages), reach and frequency asked by its three groupBy sets (guide reach.md), and bid
  // adjustments (guide bid-adjustment.md).
  assert.equal(types.length, 19);
  const run = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ALL_TYPE_IDS, profileIds: [agency.profileId], tiers: [], backfillDays: 3 },
  );
  assert.equal(run.failed.length, 0, JSON.stringify(run.failed));
  // Audio and video is a SUMMARY: one report per day; the others one 3-day report each.
  const dspReports = await pg
    .db('pending_amazon_reports')
    .where({ run_id: run.runId, ad_product: 'DEMAND_SIDE_PLATFORM' })
    .select('report_type', 'start_date', 'end_date');
  assert.equal(dspReports.length, 18 + 3);
  // A DSP profile has no sponsored ads: none of its types are asked for under its scope.
  assert.equal(
    await pg
      .db('pending_amazon_reports')
      .where({ run_id: run.runId })
      .whereNot({ ad_product: 'DEMAND_SIDE_PLATFORM' })
      .first(),
    undefined,
  );
  await assert.rejects(
    syncProfiles(
      { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
      { profileId: agency.profileId, entity: 'all', mode: 'full', trigger: 'test' },
    ),
    /is a DSP or Amazon Attribution \(agency\) profile: it has no sponsored-ads entities/,
  );
  await relayOutbox(pg.db, bus);
  const final = await drive(run.runId);
  assert.ok(
    final.every((r) => r.status === 'loaded'),
    'every report loaded',
  );
  const got = await chSums(`profile_id = '${agency.profileId}'`);
  let rows = 0;
  for (const type of types)
    for (const day of days(3, 1)) {
      const want = sandboxSums(agency.profileId, type, day, 3);
      assert.ok(want.rows > 0, `${type} ${day}: the sandbox serves rows`);
      assert.deepEqual(got.get(`${agency.profileId}|${type}|${day}`), want, `${type} ${day}`);
      rows += want.rows;
    }
  // Every breakdown kept apart: the rows stored are the rows served, and the columns carry them.
  const stored = await ch.ch.client.query({
    query: `SELECT report_type, count() AS c, uniqExact(country) AS countries, uniqExact(supply_source) AS sources,
                   uniqExact(device) AS devices, uniqExact(creative_id) AS creatives, any(advertiser_id) AS advertiser,
                   uniqExact(frequency_group) AS groups, uniqExact(dma_name) AS dmas, uniqExact(deal_id) AS deals,
                   uniqExact(browser) AS browsers, uniqExact(postal_code) AS postcodes
            FROM dsp_metrics_daily FINAL WHERE profile_id = '${agency.profileId}' GROUP BY report_type`,
    format: 'JSONEachRow',
  });
  const byType = new Map((await stored.json<Record<string, string>>()).map((r) => [r.report_type, r]));
  assert.equal(
    types.reduce((t, type) => t + Number(byType.get(type)?.c ?? 0), 0),
    rows,
  );
  const advertiser = sandbox.state.dataset.dspAdvertisers(4)[0]!;
  assert.equal(byType.get('dspCampaign')!.advertiser, advertiser.advertiserId);
  assert.equal(Number(byType.get('dspCampaign')!.creatives), 8, 'two orders × two line items × two creatives');
  assert.ok(Number(byType.get('dspGeo')!.countries) > 1, 'geo rows by country');
  assert.ok(Number(byType.get('dspInventory')!.sources) > 1, 'inventory rows by supply source');
  assert.ok(Number(byType.get('dspTech')!.devices) > 1, 'tech rows by device');
  assert.ok(Number(byType.get('dspReachFrequencyBySupplySource')!.sources) > 1, 'reach by supply source');
  assert.ok(Number(byType.get('dspReachFrequencyByFrequencyGroup')!.groups) > 1, 'reach by frequency group');
  assert.ok(Number(byType.get('dspGeoByDma')!.dmas) > 1, 'geo rows by DMA');
  assert.ok(Number(byType.get('dspGeoByPostalCode')!.postcodes) > 1, 'geo rows by postal code');
  assert.ok(Number(byType.get('dspInventoryByDeal')!.deals) > 1, 'inventory rows by deal');
  assert.ok(Number(byType.get('dspTechByBrowser')!.browsers) > 1, 'tech rows by browser');
  // Reach and frequency are the report's own figures for the row, not sums: each stored as served.
  const reachDay = days(1, 1)[0]!;
  const asked = checkCreateReport(
    reportRequestBody({
      reportTypeId: 'dspReachFrequency',
      startDate: reachDay,
      endDate: reachDay,
      advertiserIds: [advertiser.advertiserId],
    }),
    new Date().toISOString().slice(0, 10),
  );
  assert.ok(asked.ok);
  const served = reportRows(sandbox.state.dataset, {
    profileIndex: 4,
    startDate: reachDay,
    endDate: reachDay,
    configuration: asked.request.configuration,
    generationOf: () => 3,
  }).next().value as { reach: number; frequencyAverage: number };
  assert.ok(served.frequencyAverage >= 1, `a frequency is at least one (${served.frequencyAverage})`);
  const reachRow = await ch.ch.client.query({
    query: `SELECT reach, frequency_average, frequency_average_millionths FROM dsp_metrics_daily FINAL
            WHERE profile_id = '${agency.profileId}' AND report_type = 'dspReachFrequency'
              AND advertiser_id = '${advertiser.advertiserId}' AND date = toDate('${reachDay}')`,
    format: 'JSONEachRow',
  });
  assert.deepEqual(
    (await reachRow.json<{ reach: string; frequency_average: number; frequency_average_millionths: string }>()).map(
      (r) => [Number(r.reach), r.frequency_average, Number(r.frequency_average_millionths)],
    ),
    [[served.reach, served.frequencyAverage, Math.round(served.frequencyAverage * 1e6)]],
  );
  // Completeness knows DSP types are due for this profile only (not the sponsored-ads ones), and
  // finds nothing missing. (The advertisers linked to the manager account are the next test's.)
  const gaps = await findGaps(pg.db, {
    from: days(3, 3)[0]!,
    to: days(1, 1)[0]!,
    reportTypes: types,
    profileIds: [...profileIds, agency.profileId],
  });
  assert.deepEqual(gaps, []);

  // DSP conversions restate for weeks: a re-pull replaces the day's rows with the newer values,
  // and a row the re-pull no longer has (restateAwayEvery) is gone.
  sandbox.setFaults({ restatement: true, restateAwayEvery: 3 });
  try {
    const tier = (name: string) => [{ name, fromDaysAgo: 12, toDaysAgo: 12, everyDays: 1 }];
    const where = `profile_id = '${agency.profileId}' AND report_type = 'dspCampaign' AND date = toDate('${days(12, 12)[0]}')`;
    const window = { reportTypes: ['dspCampaign'], profileIds: [agency.profileId] };
    const first = await requestReports({ db: pg.db, clients, log }, { ...window, tiers: tier('dsp-restate-a') });
    await relayOutbox(pg.db, bus);
    await drive(first.runId);
    const afterFirst = await chSums(where);
    const second = await requestReports({ db: pg.db, clients, log }, { ...window, tiers: tier('dsp-restate-b') });
    await relayOutbox(pg.db, bus);
    await drive(second.runId);
    const afterSecond = await chSums(where);
    const key = `${agency.profileId}|dspCampaign|${days(12, 12)[0]}`;
    assert.deepEqual(afterFirst.get(key), sandboxSums(agency.profileId, 'dspCampaign', days(12, 12)[0]!, 0));
    assert.deepEqual(afterSecond.get(key), sandboxSums(agency.profileId, 'dspCampaign', days(12, 12)[0]!, 1));
    // (Fewer rows, so the day's orders can go either way; the values are exact above.)
    assert.ok(afterSecond.get(key)!.rows < afterFirst.get(key)!.rows, 'rows restated away are gone');
  } finally {
    sandbox.setFaults({ restatement: false, restateAwayEvery: 0 });
  }

  // Asked as CSV (DSP_REPORT_FORMAT=CSV), Amazon's other DSP format: the same exact totals.
  const csv = await requestReports(
    { db: pg.db, clients, log },
    {
      reportTypes: types,
      profileIds: [agency.profileId],
      tiers: [{ name: 'dsp-csv', fromDaysAgo: 20, toDaysAgo: 19, everyDays: 1 }],
      dspFormat: 'CSV',
    },
  );
  await relayOutbox(pg.db, bus);
  const csvDone = await drive(csv.runId);
  assert.ok(csvDone.every((r) => r.status === 'loaded'));
  const urls = await pg.db('pending_amazon_reports').where({ run_id: csv.runId }).pluck('download_url');
  assert.ok(
    urls.length > 0 && urls.every((u: string) => /\.csv\.gz$/.test(new URL(u).pathname)),
    `CSV files: ${urls.join(' ')}`,
  );
  const fromCsv = await chSums(`profile_id = '${agency.profileId}'`);
  for (const type of types)
    for (const day of days(20, 19))
      assert.deepEqual(
        fromCsv.get(`${agency.profileId}|${type}|${day}`),
        sandboxSums(agency.profileId, type, day, 3),
        `${type} ${day} from CSV`,
      );
});

test('DSP: an advertiser reached only through the manager account has reports of its own, asked with Amazon-Ads-AccountId, exact per advertiser, type and day', async () => {
  // The Reporting model's Amazon-Ads-AccountId header ("the identifier of a DSP advertiser account");
  // guides/reporting/dsp/creating-reports.md: the advertiser goes "in the Amazon-Ads-AccountId header
  // AND in the configuration.filters.values array", one advertiser per report. The previous test's
  // discovery stored the advertisers GET /managerAccounts links (access "account": no profile).
  const linked: string[] = await pg
    .db('dsp_advertisers')
    .where({ account_id: accountId, status: 'active' })
    .whereNull('via_profile_id')
    .orderBy('advertiser_id')
    .pluck('advertiser_id');
  assert.ok(linked.length >= 2, `advertisers linked to the manager account: ${linked.join(', ')}`);
  const [target, other] = linked as [string, string];
  // Their days are planned in their marketplace's zone; in UTC here, as the tests' days() are.
  await pg.db('dsp_advertisers').whereIn('advertiser_id', linked).update({ timezone: 'UTC' });
  const owner = `dsp:${target}`;
  const types = ALL_TYPE_IDS.filter(isDspReportType);
  const run = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ALL_TYPE_IDS, dspAccountIds: [target], tiers: [], backfillDays: 3 },
  );
  assert.equal(run.failed.length, 0, JSON.stringify(run.failed));
  assert.deepEqual([run.profiles, run.advertiserAccounts], [0, 1]);
  const asked = await pg
    .db('pending_amazon_reports')
    .where({ run_id: run.runId })
    .select('profile_id', 'dsp_account_id', 'ad_product', 'amazon_report_id');
  // DSP types only (an advertiser account has no sponsored ads), as many as under a DSP profile.
  assert.equal(asked.length, 18 + 3);
  for (const r of asked)
    assert.deepEqual([r.profile_id, r.dsp_account_id, r.ad_product], [null, target, 'DEMAND_SIDE_PLATFORM']);
  // Amazon saw each as the advertiser account's, not a profile's.
  for (const r of asked) assert.equal(sandbox.state.reports.get(r.amazon_report_id)?.dspAccountId, target);
  // Asking again finds every report in flight: "ask once" holds per advertiser account too.
  const again = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ALL_TYPE_IDS, dspAccountIds: [target], tiers: [], backfillDays: 3 },
  );
  assert.deepEqual([again.requested, again.alreadyInFlight], [0, 21]);

  await relayOutbox(pg.db, bus);
  const final = await drive(run.runId);
  assert.ok(
    final.every((r) => r.status === 'loaded'),
    'every report loaded',
  );
  // Stored without a profile, under the advertiser; exact per advertiser, type and day.
  const got = await clickhouseDayTotals(ch.ch, `profile_id = '' AND advertiser_id = '${target}'`, types);
  for (const type of types)
    for (const day of days(3, 1)) {
      const want = sandboxSums(owner, type, day, 3);
      assert.ok(want.rows > 0, `${type} ${day}: the sandbox serves rows`);
      assert.deepEqual(got.get(`${owner}|${type}|${day}`), want, `${type} ${day}`);
    }
  // Completeness: the advertiser's days are all loaded. Another linked advertiser, never asked,
  // misses every default DSP type's days.
  const window = { from: days(3, 3)[0]!, to: days(1, 1)[0]! };
  assert.deepEqual(await findGaps(pg.db, { ...window, dspAccountIds: [target] }), []);
  const missing = await findGaps(pg.db, { ...window, dspAccountIds: [other] });
  const dspDefaults = DEFAULT_REPORT_TYPE_IDS.filter(isDspReportType);
  assert.equal(missing.length, dspDefaults.length * 3);
  assert.ok(missing.every((g) => g.kind === 'never_requested' && g.profileId === '' && g.dspAccountId === other));
  // A breakdown its schedule asks (REPORT_TYPES names it) is checked by default too; a backfill's are not.
  const scheduled = await requestReports(
    { db: pg.db, clients, log },
    {
      reportTypes: ['dspTechByBrowser'],
      dspAccountIds: [other],
      tiers: [{ name: 'recent', fromDaysAgo: 1, toDaysAgo: 1, everyDays: 1 }],
    },
  );
  assert.equal(scheduled.requested, 1);
  const withBreakdown = await findGaps(pg.db, { ...window, dspAccountIds: [other] });
  assert.deepEqual(
    withBreakdown.filter((g) => g.reportType === 'dspTechByBrowser').map((g) => [g.day, g.kind]),
    [
      [days(3, 3)[0], 'never_requested'],
      [days(2, 2)[0], 'never_requested'],
    ],
    'the day asked is in flight; the two before it were never asked',
  );

  // Amazon refusing the advertiser (401 "Not authorized to access account", as it answers an
  // Amazon-Ads-AccountId the login cannot reach) marks it inaccessible with the
  // reason; completeness names its days so, and nothing more is asked for it.
  sandbox.setFaults({ forbiddenProfiles: [other] });
  try {
    const refused = await requestReports(
      { db: pg.db, clients, log },
      { reportTypes: ['dspCampaign', 'dspGeo'], dspAccountIds: [other], tiers: [], backfillDays: 1 },
    );
    assert.equal(refused.failed.length, 2, JSON.stringify(refused.failed));
    assert.ok(refused.failed.every((f) => f.dspAccountId === other));
    const row = await pg.db('dsp_advertisers').where({ advertiser_id: other }).first('status', 'status_reason');
    assert.equal(row.status, 'inaccessible');
    assert.ok(row.status_reason, 'the reason is kept');
    const named = await findGaps(pg.db, { from: days(1, 1)[0]!, to: days(1, 1)[0]!, dspAccountIds: [other] });
    assert.ok(named.length > 0 && named.every((g) => g.kind === 'advertiser_inaccessible'));
    const after = await requestReports(
      { db: pg.db, clients, log },
      { reportTypes: ['dspCampaign'], dspAccountIds: [other], tiers: [], backfillDays: 1 },
    );
    assert.deepEqual([after.advertiserAccounts, after.planned], [0, 0]);
  } finally {
    sandbox.setFaults({ forbiddenProfiles: [] });
  }
});
