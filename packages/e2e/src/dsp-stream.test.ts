// Amazon DSP's Marketing Stream on the real stack: a DSP advertiser's adsp-traffic and
// adsp-conversion subscriptions made through /dsp/streams/subscriptions under its account
// (Amazon-Ads-Account-ID; AmazonMarketingStream_prod_3p CreateDspStreamSubscription;
// managing-subscriptions.md: "DSP datasets must be managed with the /dsp/streams/subscriptions
// endpoints"), confirmed through ElasticMQ, hours delivered with duplicates, revisions and out of
// order into the hourly tables, and reconciled with the daily dspCampaign report per order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sandboxSnsGate } from '@adsync/stream-consumer/sns-gate';
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
import { discoverDspAdvertisers } from '@adsync/entity-sync/dsp-advertisers';
import type { StreamQueue } from '@adsync/stream-consumer/queue';
import { freshQueue } from '@adsync/stream-consumer/test-queue';
import { drainQueue, ProfileMap } from '@adsync/stream-consumer/ingest';
import { reconcileDay } from '@adsync/stream-consumer/reconcile';
import { defaultDatasets, subscribe, subscribeAdvertiserAccount } from '@adsync/stream-consumer/subscriptions';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { loadAndReconcile } from './reconciled-reports.ts';
import { findGaps } from '@adsync/report-poller/completeness';

const cfg = testConfig();
const log = testLogger('dsp-stream');
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let bus: EventBus;
let clients: AmazonClients;
let queue: StreamQueue;
let profileId: string;
let advertiserId: string;
let full: string;
let lossy: string;
let window: { from: number; to: number };
let drain: () => Promise<unknown>;

before(async () => {
  await requireKafka(cfg);
  const endpoint = await requireSqs();
  // Five profiles: the fifth is a DSP (agency) profile; the others are paused.
  sandbox = await startSandbox({
    seed: 193,
    scale: { profiles: 5, campaignsPerProfile: 1 },
    faults: { reportGenerationMs: 50 },
    sqsEndpoint: endpoint,
  });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(randomBytes(32));
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  const prefix = `${uniqueName('dspstream')}.`;
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'dsp-stream-test',
    codec: new InRepoSchemaCodec(),
    log,
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'dspstream' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  await discoverProfiles(pg.db, await clients.forAccount(accountId), accountId);
  const agency = sandbox.state.dataset.profiles()[4]!;
  profileId = agency.profileId;
  await pg.db('profiles').whereNot({ profile_id: profileId }).update({ status: 'paused' });
  await discoverDspAdvertisers(pg.db, await clients.forAccount(accountId), accountId);
  advertiserId = sandbox.state.dataset.dspAdvertisers(4)[0]!.advertiserId;
  // Only the DSP profile's advertiser: the ones linked to the manager account would have reports of their own.
  await pg.db('dsp_advertisers').whereNull('via_profile_id').update({ status: 'excluded' });

  queue = await freshQueue(endpoint, 'dspstream');
  const deps = { db: pg.db, ch: ch.ch, clients, log, queue, queueName: 'dsp', sns: sandboxSnsGate(sandbox.url) };
  const profiles = new ProfileMap(pg.db);
  drain = () => drainQueue(deps, profiles);
  // The DSP profile's default datasets include DSP's; only those are subscribed here.
  const datasets = await defaultDatasets(pg.db, profileId);
  assert.deepEqual(
    datasets.filter((d) => d.startsWith('adsp-')),
    ['adsp-traffic', 'adsp-conversion'],
  );
  const subs = await subscribe(pg.db, clients, profileId, ['adsp-traffic', 'adsp-conversion'], queue.arn);
  assert.deepEqual(
    subs.map((s) => [s.dataset_id, s.dsp_advertiser_id, s.status]),
    [
      ['adsp-traffic', advertiserId, 'PENDING_CONFIRMATION'],
      ['adsp-conversion', advertiserId, 'PENDING_CONFIRMATION'],
    ],
  );
  const atAmazon = [...sandbox.state.stream.subscriptions.values()];
  assert.ok(atAmazon.every((s) => s.accountId === advertiserId && s.profileId === ''));
  await drain();
  assert.deepEqual(
    await pg.db('stream_subscriptions').orderBy('dataset_id').pluck('status'),
    ['ACTIVE', 'ACTIVE'],
    'confirmed through the queue',
  );
  await pg.db('stream_subscriptions').update({ confirmed_at: new Date(Date.now() - 10 * 86_400_000) });

  // Two whole local days; the second loses six hours, which its report still has.
  const timezone = agency.timezone;
  const today = localToday(timezone, new Date());
  full = addDays(today, -4);
  lossy = addDays(today, -3);
  const from = Date.parse(`${full}T00:00:00Z`) - 14 * 3600_000;
  const hours = 24 * 2 + 28;
  const lost: number[] = [];
  for (let h = 0; h < hours; h++) {
    const local = localHour(from + h * 3600_000, timezone);
    if (local.startsWith(lossy) && Number(local.slice(11, 13)) >= 10 && Number(local.slice(11, 13)) < 16) lost.push(h);
  }
  window = { from, to: from + hours * 3600_000 };
  await sandbox.stream.publish({
    hours,
    fromHourMs: from,
    duplicates: 0.2,
    revisions: true,
    shuffle: true,
    omitHours: lost,
  });
  await drain();

  const loaded = await loadAndReconcile(
    { db: pg.db, ch: ch.ch, bus, clients, log, prefix },
    {
      reportTypes: ['dspCampaign'],
      tier: { name: 'rec', fromDaysAgo: 4, toDaysAgo: 3, everyDays: 1 },
      reconciledDays: 2,
    },
  );
  assert.equal(loaded.requested, 1);
});

after(async () => {
  queue?.close();
  await bus?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const chRows = async (sql: string) =>
  (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, string>>();
const micros = (v: number) => Math.round(v * 1_000_000);

test('every DSP hour lands once, summing exactly to what Amazon sent, per order, line item, creative and hour', async () => {
  const sent = sandbox.stream.expected().filter((r) => r.account_id === advertiserId);
  assert.ok(
    sent.some((r) => String(r.idempotency_id).endsWith('-1')),
    'revisions were sent',
  );
  const key = (o: string, l: string, c: string, h: number) => `${o}|${l}|${c}|${h}`;
  const traffic = new Map<string, number[]>();
  const conversion = new Map<string, number[]>();
  for (const r of sent) {
    const k = key(
      String(r.campaign_id),
      String(r.adgroup_id),
      String(r.creative_id),
      Date.parse(String(r.time_window_start)),
    );
    if (r.dataset_id === 'adsp-traffic') {
      const w = traffic.get(k) ?? [0, 0, 0];
      traffic.set(k, [w[0]! + Number(r.impressions), w[1]! + Number(r.clicks), w[2]! + micros(Number(r.total_cost))]);
    } else {
      const w = conversion.get(k) ?? [0, 0, 0];
      conversion.set(k, [w[0]! + Number(r.purchases), w[1]! + micros(Number(r.sales)), w[2]! + Number(r.units_sold)]);
    }
  }
  const range = `hour >= toDateTime(${window.from / 1000}) AND hour < toDateTime(${window.to / 1000})`;
  const t = await chRows(
    `SELECT campaign_id, ad_group_id, ad_id, toUnixTimestamp(hour) AS h, any(ad_product) AS product, any(currency) AS currency,
            sum(impressions) AS i, sum(clicks) AS c, sum(cost_micros) AS m
       FROM stream_traffic_hourly FINAL WHERE profile_id = '${profileId}' AND ${range} GROUP BY campaign_id, ad_group_id, ad_id, h`,
  );
  assert.equal(t.length, traffic.size);
  for (const r of t) {
    assert.equal(r.product, 'dsp');
    assert.equal(r.currency, sandbox.state.dataset.profiles()[4]!.currencyCode, "the advertiser's currency");
    assert.deepEqual(
      [Number(r.i), Number(r.c), Number(r.m)],
      traffic.get(key(r.campaign_id!, r.ad_group_id!, r.ad_id!, Number(r.h) * 1000)),
    );
  }
  const c = await chRows(
    `SELECT campaign_id, ad_group_id, ad_id, toUnixTimestamp(hour) AS h,
            sum(conversions_14d) AS o, sum(sales_micros_14d) AS s, sum(units_14d) AS u
       FROM stream_conversion_hourly FINAL WHERE profile_id = '${profileId}' AND ${range} GROUP BY campaign_id, ad_group_id, ad_id, h`,
  );
  assert.equal(c.length, conversion.size);
  for (const r of c)
    assert.deepEqual(
      [Number(r.o), Number(r.s), Number(r.u)],
      conversion.get(key(r.campaign_id!, r.ad_group_id!, r.ad_id!, Number(r.h) * 1000)),
    );
});

test('a DSP day whose every hour arrived equals its dspCampaign report per order; a day that lost hours names the orders short', async () => {
  const days = await pg
    .db('stream_reconciled_days')
    .orderBy('day')
    .select('report_type', 'day', 'campaigns', 'mismatches');
  assert.deepEqual(
    days.map((d) => [d.report_type, Number(d.mismatches) === 0]),
    [
      ['dspCampaign', true],
      ['dspCampaign', false],
    ],
  );
  assert.equal(Number(days[0]!.campaigns), 2, 'two orders compared');
  const short = await pg.db('stream_mismatches').where({ day: lossy });
  assert.ok(short.length > 0);
  for (const m of short) assert.ok(Number(m.stream_value) < Number(m.report_value), `${m.metric} short, not over`);
  const orders = new Set(sandbox.state.dataset.dspAdvertisers(4)[0]!.orders.map((o) => o.orderId));
  assert.ok(short.every((m) => orders.has(m.campaign_id)));
  assert.equal(await pg.db('stream_mismatches').where({ day: full }).first(), undefined);
});

test('a DSP advertiser reached only through the manager account subscribes itself, and its hours land under it, without a profile', async () => {
  // Same route and header (CreateDspStreamSubscription with Amazon-Ads-AccountId); the advertiser has
  // no DSP profile to be kept under (GET /managerAccounts linked it: access "account").
  const linked = sandbox.state.dataset.dspAdvertisers(0)[0]!.advertiserId;
  await pg.db('dsp_advertisers').where({ advertiser_id: linked }).update({ status: 'active' });
  assert.equal((await pg.db('dsp_advertisers').where({ advertiser_id: linked }).first()).via_profile_id, null);
  await assert.rejects(
    subscribeAdvertiserAccount(pg.db, clients, linked, ['sp-traffic'], queue.arn),
    /has DSP datasets only .* sp-traffic belong to a sponsored-ads profile/,
  );
  await assert.rejects(
    subscribeAdvertiserAccount(pg.db, clients, advertiserId, ['adsp-traffic'], queue.arn),
    /not an active advertiser reached only through a manager account/,
    'one a DSP profile reaches subscribes under that profile',
  );
  const subs = await subscribeAdvertiserAccount(pg.db, clients, linked, ['adsp-traffic', 'adsp-conversion'], queue.arn);
  assert.deepEqual(
    subs.map((x) => [x.profile_id, x.dsp_advertiser_id, x.dataset_id, x.status]),
    [
      [null, linked, 'adsp-traffic', 'PENDING_CONFIRMATION'],
      [null, linked, 'adsp-conversion', 'PENDING_CONFIRMATION'],
    ],
  );
  const atAmazon = [...sandbox.state.stream.subscriptions.values()].filter((x) => x.accountId === linked);
  assert.equal(atAmazon.length, 2, 'made at Amazon under the advertiser account');
  // Asked again: the live ones are answered as they are, nothing new made.
  const again = await subscribeAdvertiserAccount(
    pg.db,
    clients,
    linked,
    ['adsp-traffic', 'adsp-conversion'],
    queue.arn,
  );
  assert.deepEqual(
    again.map((x) => x.id),
    subs.map((x) => x.id),
  );
  await drain();
  assert.deepEqual(
    await pg.db('stream_subscriptions').whereNull('profile_id').orderBy('dataset_id').pluck('status'),
    ['ACTIVE', 'ACTIVE'],
    'confirmed through the queue',
  );

  // 48 hours around one whole local day of the advertiser (its marketplace's zone: US, Los Angeles).
  const zone = 'America/Los_Angeles';
  const day = addDays(localToday(zone, new Date()), -9);
  const from = Date.parse(`${day}T00:00:00Z`) - 14 * 3600_000;
  await sandbox.stream.publish({ hours: 48, fromHourMs: from, duplicates: 0.3, revisions: true, shuffle: true });
  await drain();
  const sent = sandbox.stream.expected().filter((r) => r.account_id === linked);
  assert.ok(sent.length > 0, 'Amazon sent the advertiser records');
  // The manager account's listing gave no time zone; its records state it (advertiser_timezone): kept.
  assert.equal(
    (await pg.db('dsp_advertisers').where({ advertiser_id: linked }).first('timezone')).timezone,
    String(sent[0]!.advertiser_timezone),
  );
  const want = { i: 0, m: 0, o: 0, s: 0 };
  for (const r of sent)
    if (r.dataset_id === 'adsp-traffic') {
      want.i += Number(r.impressions);
      want.m += micros(Number(r.total_cost));
    } else {
      want.o += Number(r.purchases);
      want.s += micros(Number(r.sales));
    }
  const [t] = await chRows(
    `SELECT sum(impressions) AS i, sum(cost_micros) AS m FROM stream_traffic_hourly FINAL
      WHERE profile_id = '' AND advertiser_id = '${linked}'`,
  );
  const [c] = await chRows(
    `SELECT sum(conversions_14d) AS o, sum(sales_micros_14d) AS s FROM stream_conversion_hourly FINAL
      WHERE profile_id = '' AND advertiser_id = '${linked}'`,
  );
  assert.deepEqual({ i: Number(t!.i), m: Number(t!.m), o: Number(c!.o), s: Number(c!.s) }, want);
  assert.ok(want.i > 0 && want.o > 0);

  // Its dspCampaign report for that day reconciles with its hours per order, under the advertiser
  // account (the DSP profile's own day is compared too: two more compared days in all).
  await pg
    .db('stream_subscriptions')
    .whereNull('profile_id')
    .update({ confirmed_at: new Date(Date.now() - 12 * 86_400_000) });
  const before = Number((await pg.db('stream_reconciled_days').count<{ c: string }[]>('* as c'))[0]!.c);
  await loadAndReconcile(
    { db: pg.db, ch: ch.ch, bus, clients, log, prefix: `${uniqueName('dspacct')}.` },
    {
      reportTypes: ['dspCampaign'],
      tier: { name: 'rec-account', fromDaysAgo: 9, toDaysAgo: 9, everyDays: 1 },
      reconciledDays: before + 2,
    },
  );
  const compared = await pg
    .db('stream_reconciled_days')
    .where({ dsp_account_id: linked })
    .select('profile_id', 'campaigns', 'mismatches', pg.db.raw(`to_char(day, 'YYYY-MM-DD') as day`));
  assert.deepEqual(
    compared.map((r) => [r.profile_id, r.day, Number(r.campaigns), Number(r.mismatches)]),
    [[null, day, 2, 0]],
    'its two orders compared, every metric equal',
  );
  assert.deepEqual(
    await findGaps(pg.db, { from: day, to: day, dspAccountIds: [linked], reportTypes: ['dspCampaign'] }),
    [],
  );

  // Another advertiser account's hours (no profile either) never count as this one's; an hour of its
  // own that the report does not have is a mismatch, recorded and named as the advertiser's gap.
  const order = sandbox.state.dataset.dspAdvertisers(0)[0]!.orders[0]!.orderId;
  const extraHour = (advertiser: string, id: string) => ({
    profile_id: '',
    dataset_id: 'adsp-traffic',
    ad_product: 'dsp',
    advertiser_id: advertiser,
    marketplace_id: '',
    currency: 'USD',
    campaign_id: order,
    ad_group_id: '',
    ad_id: '',
    target_id: '',
    target_text: '',
    match_type: '',
    placement: '',
    hour: `${day} 12:00:00`,
    local_date: day,
    local_hour: 12,
    idempotency_id: id,
    impressions: 500,
    clicks: 0,
    cost_micros: 0,
    viewable_impressions: 0,
    extra: '{}',
    received_at: `${day} 13:00:00`,
  });
  const deps = { db: pg.db, ch: ch.ch, log, tolerance: { relative: 0.01, moneyMicros: 10_000 } };
  await ch.ch.client.insert({
    table: 'stream_traffic_hourly',
    format: 'JSONEachRow',
    values: [extraHour('999000111', 'other-advertiser-hour')],
  });
  assert.deepEqual((await reconcileDay(deps, { dspAccountId: linked }, 'dspCampaign', day)).mismatches, []);
  await ch.ch.client.insert({
    table: 'stream_traffic_hourly',
    format: 'JSONEachRow',
    values: [extraHour(linked, 'its-own-extra-hour')],
  });
  const { mismatches } = await reconcileDay(deps, { dspAccountId: linked }, 'dspCampaign', day);
  assert.deepEqual(
    mismatches.map((m) => [m.campaignId, m.metric, m.streamValue - m.reportValue]),
    [[order, 'impressions', 500]],
  );
  assert.deepEqual(
    (await pg.db('stream_mismatches').where({ dsp_account_id: linked })).map((m) => [
      m.profile_id,
      m.campaign_id,
      m.metric,
    ]),
    [[null, order, 'impressions']],
  );
  const gaps = await findGaps(pg.db, { from: day, to: day, dspAccountIds: [linked], reportTypes: ['dspCampaign'] });
  assert.deepEqual(
    gaps.map((g) => [g.profileId, g.dspAccountId, g.kind, g.day]),
    [['', linked, 'stream_mismatch', day]],
  );
});
