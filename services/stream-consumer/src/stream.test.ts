// Amazon Marketing Stream end to end on the real stack: ElasticMQ as the advertiser's SQS queue,
// ClickHouse and Postgres, the sandbox playing Amazon (managing-subscriptions.md,
// onboarding/sqs/get-started.md, datasets/*.md, aggregating-data.md). Subscribe, confirm, then
// hours of every dataset delivered with duplicates, revisions and out of order: the hourly sums
// equal what the sandbox sent, exactly, per profile, entity and hour.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxSnsGate } from './sns-gate.ts';
import { ingestTick } from './ingest.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { signAsSns } from '@adsync/sandbox/sns-signing';
import type { FastifyInstance } from 'fastify';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireSqs,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { ServiceProcess, freePort } from '@adsync/shared/testing/service-process';
import type { StreamQueue } from './queue.ts';
import { freshQueue } from './test-queue.ts';
import { drainQueue, ProfileMap, type IngestDeps } from './ingest.ts';
import { registerStreamApi } from './stream-api.ts';
import { CONVERSION_COLUMNS, SB_ENGAGEMENT_COLUMNS, SPONSORED_STREAM_DATASETS } from './records.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_stream_test_admin_key_0123456789';
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let app: FastifyInstance;
let clients: AmazonClients;
let queue: StreamQueue;
let queueName: string;
let deps: IngestDeps;
let profiles: ProfileMap;
let profileIds: string[];
const encryptionKey = randomBytes(32);

before(async () => {
  const endpoint = await requireSqs();
  sandbox = await startSandbox({ seed: 19, scale: { profiles: 2, campaignsPerProfile: 3 }, sqsEndpoint: endpoint });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  const box = createSecretBox(encryptionKey);
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'stream' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  // The profiles entity-sync would have discovered (GET /v2/profiles), with the advertiser ids Stream records carry.
  const found = sandbox.state.dataset.profiles();
  await pg.db('profiles').insert(
    found.map((p) => ({
      profile_id: p.profileId,
      account_id: accountId,
      country_code: p.countryCode,
      currency_code: p.currencyCode,
      timezone: p.timezone,
      marketplace_id: p.accountInfo.marketplaceStringId,
      amazon_account_id: p.accountInfo.id,
      account_type: p.accountInfo.type,
      account_name: p.accountInfo.name,
    })),
  );
  profileIds = found.map((p) => p.profileId);
  const log = testLogger('stream');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  const fresh = await freshQueue(endpoint, 'stream-test');
  [queue, queueName] = [fresh, fresh.name];
  deps = { db: pg.db, ch: ch.ch, clients, log, queue, queueName: 'test', sns: sandboxSnsGate(sandbox.url) };
  profiles = new ProfileMap(pg.db);
  app = await createHttpServer({ name: 'stream-consumer', log, db: pg.db, readiness: {} });
  registerStreamApi(app, { db: pg.db, clients, destinationArn: () => queue.arn });
  await app.ready();
});

after(async () => {
  await app?.close();
  await clients?.close();
  queue?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${ADMIN}` } });
/** Ticks until the queue has given everything (two empty receives in a row). */
const drain = () => drainQueue(deps, profiles);
/** Whether SQS holds nothing, in flight included. */
async function queueEmpty(): Promise<true | undefined> {
  const a = await queue.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return a.Attributes?.ApproximateNumberOfMessages === '0' &&
    a.Attributes?.ApproximateNumberOfMessagesNotVisible === '0'
    ? true
    : undefined;
}

/** Drains until SQS holds nothing: a message a tick gave back comes round again. */
async function drainEmpty(): Promise<void> {
  await eventually(
    async () => {
      await drain();
      return queueEmpty();
    },
    { what: 'the queue empty', timeoutMs: 60_000, intervalMs: 500 },
  );
}
const chRows = async (sql: string) =>
  (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, string | number>>();
const micros = (v: number) => Math.round(v * 1_000_000);

/** Every sum in ClickHouse equals what the sandbox sent in [fromMs, toMs), per profile, dataset, entity and hour. */
async function assertExact(fromMs: number, toMs: number): Promise<Record<string, unknown>[]> {
  const inRange = (r: Record<string, unknown>) => {
    // A campaign recommendation is the week's, whichever hour sent it.
    if (r.dataset_id === 'sponsored-ads-campaign-diagnostics-recommendations') return true;
    const t = Date.parse(String(r.time_window_start ?? r.usage_updated_timestamp ?? r.recommendation_time));
    return t >= fromMs && t < toMs;
  };
  const expected = sandbox.stream.expected().filter(inRange);
  const hourFilter = `hour >= toDateTime(${Math.floor(fromMs / 1000)}) AND hour < toDateTime(${Math.floor(toMs / 1000)})`;
  const datasets = new Set(expected.map((r) => r.dataset_id));
  assert.equal(datasets.size, 11, `every dataset delivered (${[...datasets]})`);
  assert.ok(
    expected.some((r) => String(r.idempotency_id ?? '').endsWith('-1')),
    'revisions were sent',
  );
  assert.ok(
    expected.some((r) => Number(r.clicks) < 0),
    'a revision takes invalid clicks back',
  );

  // Traffic: per profile, dataset, target and hour.
  const key = (r: Record<string, unknown>) =>
    `${r.profile_id}|${r.dataset_id}|${r.campaign_id}|${r.ad_group_id}|${r.ad_id}|${r.keyword_id ?? r.target_id}|${Date.parse(String(r.time_window_start))}`;
  const want = new Map<string, { impressions: number; clicks: number; cost_micros: number }>();
  for (const r of expected.filter((x) => String(x.dataset_id).endsWith('-traffic'))) {
    const w = want.get(key(r)) ?? { impressions: 0, clicks: 0, cost_micros: 0 };
    w.impressions += Number(r.impressions);
    w.clicks += Number(r.clicks);
    w.cost_micros += micros(Number(r.cost));
    want.set(key(r), w);
  }
  const got = await chRows(
    `SELECT profile_id, dataset_id, campaign_id, ad_group_id, ad_id, target_id, toUnixTimestamp(hour) AS h,
            sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost_micros) AS cost_micros
       FROM stream_traffic_hourly FINAL WHERE ${hourFilter} GROUP BY profile_id, dataset_id, campaign_id, ad_group_id, ad_id, target_id, h`,
  );
  const have = new Map(
    got.map((r) => [
      `${r.profile_id}|${r.dataset_id}|${r.campaign_id}|${r.ad_group_id}|${r.ad_id}|${r.target_id}|${Number(r.h) * 1000}`,
      { impressions: Number(r.impressions), clicks: Number(r.clicks), cost_micros: Number(r.cost_micros) },
    ]),
  );
  assert.equal(have.size, want.size, 'one row group per entity and hour');
  for (const [k, w] of want) assert.deepEqual(have.get(k), w, k);

  // Conversions: every attributed metric, per entity and hour.
  const conv = new Map<string, Record<string, number>>();
  for (const r of expected.filter((x) => String(x.dataset_id).endsWith('-conversion'))) {
    const w = conv.get(key(r)) ?? {};
    for (const [col, spec] of Object.entries(CONVERSION_COLUMNS))
      if (r[spec.field] !== undefined)
        w[col] = (w[col] ?? 0) + (spec.money ? micros(Number(r[spec.field])) : Number(r[spec.field]));
    conv.set(key(r), w);
  }
  const convRows = await chRows(
    `SELECT profile_id, dataset_id, campaign_id, ad_group_id, ad_id, target_id, toUnixTimestamp(hour) AS h,
            ${Object.keys(CONVERSION_COLUMNS)
              .map((c) => `sum(${c}) AS ${c}`)
              .join(', ')}
       FROM stream_conversion_hourly FINAL WHERE ${hourFilter} GROUP BY profile_id, dataset_id, campaign_id, ad_group_id, ad_id, target_id, h`,
  );
  assert.equal(convRows.length, conv.size);
  for (const r of convRows) {
    const w = conv.get(
      `${r.profile_id}|${r.dataset_id}|${r.campaign_id}|${r.ad_group_id}|${r.ad_id}|${r.target_id}|${Number(r.h) * 1000}`,
    )!;
    assert.ok(w, `an expected entity-hour for ${JSON.stringify(r).slice(0, 120)}`);
    for (const [col, v] of Object.entries(w)) assert.equal(Number(r[col]), v, `${col} of ${r.campaign_id}`);
  }

  // Budget recommendations: each once, however often it came, with what Amazon estimated.
  const recs = expected.filter((x) => x.dataset_id === 'sp-budget-recommendations');
  const [rec] = await chRows(
    `SELECT count() AS n, sum(suggested_budget_micros) AS suggested, sum(missed_sales_upper_micros) AS missed,
            sum(missed_clicks_lower) AS clicks
       FROM stream_budget_recommendations FINAL
      WHERE recommendation_time >= toDateTime(${Math.floor(fromMs / 1000)}) AND recommendation_time < toDateTime(${Math.floor(toMs / 1000)})`,
  );
  assert.ok(recs.length > 0, 'Amazon recommended budgets');
  assert.deepEqual(
    [Number(rec!.n), Number(rec!.suggested), Number(rec!.missed), Number(rec!.clicks)],
    [
      recs.length,
      recs.reduce((s, r) => s + micros(Number(r.suggested_budget)), 0),
      recs.reduce((s, r) => s + micros(Number(r.estimated_missed_sales_upper)), 0),
      recs.reduce((s, r) => s + Number(r.estimated_missed_clicks_lower), 0),
    ],
  );

  // Sponsored Brands clickstream and rich media: every measure, per entity and hour.
  for (const [dataset, table] of [
    ['sb-clickstream', 'stream_sb_clickstream_hourly'],
    ['sb-rich-media', 'stream_sb_rich_media_hourly'],
  ] as const) {
    const columns = SB_ENGAGEMENT_COLUMNS[dataset];
    const engaged = new Map<string, Record<string, number>>();
    for (const r of expected.filter((x) => x.dataset_id === dataset)) {
      const w = engaged.get(key(r)) ?? {};
      for (const [col, field] of Object.entries(columns)) w[col] = (w[col] ?? 0) + Number(r[field] ?? 0);
      engaged.set(key(r), w);
    }
    assert.ok(engaged.size > 0, `${dataset} delivered`);
    const got = await chRows(
      `SELECT profile_id, '${dataset}' AS dataset_id, campaign_id, ad_group_id, ad_id, target_id, toUnixTimestamp(hour) AS h,
              ${Object.keys(columns)
                .map((c) => `sum(${c}) AS ${c}`)
                .join(', ')}
         FROM ${table} FINAL WHERE ${hourFilter} GROUP BY profile_id, campaign_id, ad_group_id, ad_id, target_id, h`,
    );
    assert.equal(got.length, engaged.size, dataset);
    for (const r of got) {
      const w = engaged.get(
        `${r.profile_id}|${r.dataset_id}|${r.campaign_id}|${r.ad_group_id}|${r.ad_id}|${r.target_id}|${Number(r.h) * 1000}`,
      );
      assert.ok(w, `an expected ${dataset} entity-hour for ${JSON.stringify(r).slice(0, 120)}`);
      for (const [col, v] of Object.entries(w))
        assert.equal(Number(r[col]), v, `${dataset} ${col} of ${r.campaign_id}`);
    }
  }

  // Campaign recommendations: each once (a resend is the same recommendation), with what the campaign missed.
  const diagnosed = expected.filter((x) => x.dataset_id === 'sponsored-ads-campaign-diagnostics-recommendations');
  assert.ok(diagnosed.length > 0, 'Amazon recommended campaign changes');
  const byId = new Map(diagnosed.map((r) => [String(r.recommendation_id), r]));
  const loaded = await chRows(
    `SELECT recommendation_id, type, ad_product, campaign_id, missed_clicks_upper, description, recommended_settings
       FROM stream_campaign_recommendations FINAL`,
  );
  assert.deepEqual(loaded.map((r) => String(r.recommendation_id)).sort(), [...byId.keys()].sort());
  for (const r of loaded) {
    const sent = byId.get(String(r.recommendation_id)) as Record<string, any>;
    assert.equal(r.type, sent.type);
    assert.equal(r.campaign_id, sent.campaign_id);
    assert.equal(Number(r.missed_clicks_upper), sent.explanation.missed_opportunities?.clicks.upper_bound ?? 0);
    assert.equal(r.description, sent.explanation.description);
    assert.deepEqual(JSON.parse(String(r.recommended_settings)), sent.recommended_campaign_settings);
  }

  // Budget usage: each notification once, however often it came.
  const budget = expected.filter((x) => x.dataset_id === 'budget-usage');
  const [usage] = await chRows(
    `SELECT count() AS n, sum(usage_percentage) AS pct FROM stream_budget_usage FINAL WHERE ${hourFilter}`,
  );
  assert.equal(Number(usage!.n), budget.length);
  assert.equal(
    Number(usage!.pct),
    budget.reduce((s, r) => s + Number(r.budget_usage_percentage), 0),
  );
  return expected;
}

test('subscribing records the subscription, Amazon sends a confirmation to the queue, and confirming it makes it ACTIVE', async () => {
  const res = await call('POST', '/v1/streams/subscriptions', { profileId: profileIds[0] });
  assert.equal(res.statusCode, 201, res.body);
  const items = res.json().items as { dataSetId: string; status: string; destinationArn: string }[];
  assert.equal(items.length, 15, 'every dataset: eleven of hours and recommendations, four campaign management');
  assert.ok(items.every((s) => s.status === 'PENDING_CONFIRMATION' && s.destinationArn === queue.arn));
  const atAmazon = [...sandbox.state.stream.subscriptions.values()];
  assert.deepEqual(atAmazon.map((s) => s.dataSetId).sort(), items.map((s) => s.dataSetId).sort());
  // Asking again answers the same subscriptions (no second one at Amazon).
  assert.equal((await call('POST', '/v1/streams/subscriptions', { profileId: profileIds[0] })).statusCode, 201);
  assert.equal(sandbox.state.stream.subscriptions.size, 15);
  assert.equal(
    (
      await call('POST', '/v1/streams/subscriptions', {
        profileId: profileIds[1],
        dataSets: [...SPONSORED_STREAM_DATASETS],
      })
    ).statusCode,
    201,
  );
  await drain();
  const listed = (await call('GET', '/v1/streams/subscriptions')).json().items as { status: string }[];
  assert.equal(listed.length, 26);
  assert.deepEqual([...new Set(listed.map((s) => s.status))], ['ACTIVE']);
  assert.ok(
    [...sandbox.state.stream.subscriptions.values()].every((s) => s.status === 'ACTIVE'),
    'confirmed at Amazon',
  );
});

test('hours of every dataset, with duplicates, revisions and out-of-order delivery, sum exactly to what Amazon sent', async () => {
  // Five fixed hours that hold a record of every dataset: budget recommendations come only in the
  // hours a campaign ran short, and about one in four windows of five hours has none for this seed.
  const sent = await sandbox.stream.publish({
    hours: 5,
    fromHourMs: Date.parse('2026-02-02T00:00:00Z'),
    duplicates: 0.3,
    revisions: true,
    shuffle: true,
  });
  assert.ok(
    sent.messages > sent.records,
    `some records were sent twice (${sent.messages} messages for ${sent.records} records)`,
  );
  await drain();
  const expected = await assertExact(Date.parse(sent.fromHour), Date.parse(sent.fromHour) + sent.hours * 3600_000);
  // The local day and hour are the profile's, as Amazon stamped them; `hour` is the same instant in UTC.
  const sample = expected.find((r) => r.dataset_id === 'sp-traffic' && r.profile_id === profileIds[0])!;
  const [stamped] = await chRows(
    `SELECT toString(local_date) AS d, local_hour AS h, toString(hour) AS utc FROM stream_traffic_hourly FINAL WHERE idempotency_id = '${sample.idempotency_id}'`,
  );
  const tws = String(sample.time_window_start);
  assert.deepEqual(
    [stamped!.d, Number(stamped!.h), stamped!.utc],
    [
      tws.slice(0, 10),
      Number(tws.slice(11, 13)),
      new Date(Date.parse(tws)).toISOString().slice(0, 19).replace('T', ' '),
    ],
  );
  assert.match(tws, /-0[78]:00$/, 'a Los Angeles profile: the offset is in the record');
});

/** A notification as SNS sends it: signed (the sandbox's test key), its certificate on the sandbox's origin. */
const signed = (record: Record<string, unknown>, topic = 'arn:aws:sns:us-east-1:906013806264:sp-traffic') =>
  JSON.stringify(
    signAsSns(
      {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topic,
        Message: JSON.stringify(record),
        Timestamp: new Date().toISOString(),
      },
      sandbox.url,
      '2',
    ),
  );

test('a malformed or unknown-dataset message is a dead letter with the reason, and the queue keeps flowing', async () => {
  const bodies = [
    'not json at all',
    signed({ dataset_id: 'sp-hourly-magic', idempotency_id: 'x' }),
    signed({
      dataset_id: 'sp-traffic',
      idempotency_id: 'bad-1',
      advertiser_id: sandbox.state.dataset.profiles()[0]!.accountInfo.id,
      marketplace_id: 'ATVPDKIKX0DER',
      campaign_id: '1',
      time_window_start: '2026-11-24T10:00:00-08:00',
      clicks: 'twelve',
    }),
    signed({
      dataset_id: 'sd-traffic',
      idempotency_id: 'who-1',
      advertiser_id: 'ANOBODY',
      marketplace_id: 'ATVPDKIKX0DER',
      campaign_id: '1',
      time_window_start: '2026-11-24T10:00:00-08:00',
      clicks: 1,
    }),
    // Raw delivery: a record with no envelope carries no signature; anyone who may send to the queue could forge it.
    JSON.stringify({
      dataset_id: 'sp-traffic',
      idempotency_id: 'raw-forged',
      advertiser_id: sandbox.state.dataset.profiles()[0]!.accountInfo.id,
      marketplace_id: 'ATVPDKIKX0DER',
      campaign_id: '1',
      time_window_start: '2026-11-24T10:00:00-08:00',
      clicks: 1_000_000,
    }),
  ];
  await queue.client.send(
    new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
    }),
  );
  await sandbox.stream.publish({ hours: 1, fromHourMs: Date.parse('2026-01-01T00:00:00Z') });
  await drain();
  const letters = await chRows(`SELECT reason FROM dead_letters FINAL WHERE topic = 'sqs:test' ORDER BY reason`);
  assert.deepEqual(
    letters.map((l) => l.reason),
    [
      'a record without its SNS envelope: it carries no signature, so it is not acted on (set STREAM_ACCEPT_RAW_RECORDS=true only for a queue that gets raw delivery)',
      'no profile for advertiser ANOBODY in marketplace ATVPDKIKX0DER',
      'sp-traffic: clicks must be a number, not "twelve"',
      'the message body is not JSON',
      'unknown dataset "sp-hourly-magic"',
    ],
  );
  const [raw] = await chRows(
    `SELECT count() AS n FROM stream_traffic_hourly FINAL WHERE idempotency_id = 'raw-forged'`,
  );
  assert.equal(Number(raw!.n), 0, 'an unsigned raw record is never stored');
  const [loaded] = await chRows(
    `SELECT count() AS n FROM stream_traffic_hourly FINAL WHERE hour = toDateTime('2026-01-01 00:00:00')`,
  );
  assert.ok(Number(loaded!.n) > 0, 'the good messages after them were loaded');
  const attrs = await queue.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  assert.deepEqual(
    [attrs.Attributes?.ApproximateNumberOfMessages, attrs.Attributes?.ApproximateNumberOfMessagesNotVisible],
    ['0', '0'],
    'nothing left on the queue',
  );
});

/** stream-consumer as its own process on this test's queue; what it held when killed comes back in 3 s. */
async function consumerProcess(): Promise<ServiceProcess> {
  return new ServiceProcess('stream-consumer', {
    port: await freePort(),
    env: {
      DATABASE_URL: pg.url,
      CLICKHOUSE_DATABASE: ch.ch.database,
      AMAZON_ADS_BASE_URL: sandbox.url,
      ENCRYPTION_KEY: encryptionKey.toString('base64'),
      ADMIN_API_KEY: ADMIN,
      SQS_ENDPOINT: process.env.SQS_ENDPOINT!,
      STREAM_QUEUE_NAME: queueName,
      STREAM_CREATE_QUEUE: 'false',
      STREAM_WAIT_SECONDS: '1',
      STREAM_VISIBILITY_TIMEOUT_SEC: '3',
      STREAM_RECEIVERS: '2',
      LOG_LEVEL: 'info',
    },
  });
}

test('kill -9 of the stream consumer mid-delivery, then a restart: nothing lost, nothing doubled', async () => {
  const consumer = await consumerProcess();
  const from = Date.parse('2026-03-01T00:00:00Z');
  const sent = await sandbox.stream.publish({
    hours: 24,
    fromHourMs: from,
    duplicates: 0.2,
    revisions: true,
    shuffle: true,
  });
  const loaded = async () =>
    Number(
      (await chRows(`SELECT count() AS n FROM stream_traffic_hourly WHERE hour >= toDateTime(${from / 1000})`))[0]!.n,
    );
  try {
    await consumer.start(60_000);
    await eventually(async () => ((await loaded()) > 0 ? true : undefined), {
      what: 'the first rows',
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    await consumer.kill9();
    const atKill = await loaded();
    const left = await queue.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    assert.ok(
      Number(left.Attributes?.ApproximateNumberOfMessages) > 0,
      `killed mid-delivery (${atKill} rows in, messages left)`,
    );
    await consumer.start(60_000);
    await eventually(queueEmpty, { what: 'the queue drained after the restart', timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    await consumer.stop();
  }
  await assertExact(from, from + sent.hours * 3600_000);
});

test('two stream-consumer replicas share one queue, one killed mid-delivery and restarted: nothing lost, nothing doubled', async () => {
  // A fleet runs several: SQS hides a message from the others while one handles it and deletes it
  // only after the write, so replicas need nothing of each other.
  const replicas = await Promise.all([0, 1].map(() => consumerProcess()));
  const from = Date.parse('2026-04-01T00:00:00Z');
  const sent = await sandbox.stream.publish({
    hours: 24,
    fromHourMs: from,
    duplicates: 0.2,
    revisions: true,
    shuffle: true,
  });
  const loaded = async () =>
    Number(
      (await chRows(`SELECT count() AS n FROM stream_traffic_hourly WHERE hour >= toDateTime(${from / 1000})`))[0]!.n,
    );
  try {
    await Promise.all(replicas.map((r) => r.start(60_000)));
    await eventually(async () => ((await loaded()) > 0 ? true : undefined), {
      what: 'the first rows',
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    await replicas[0]!.kill9();
    await replicas[0]!.start(60_000);
    await eventually(queueEmpty, { what: 'the queue drained by both', timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
  await assertExact(from, from + sent.hours * 3600_000);
});

test('an SNS message is acted on only once SNS signed it, and a SubscribeURL or certificate URL reaches only SNS', async (t) => {
  // A listener where every trick of the SSRF findings pointed: nothing may ever arrive here.
  const { createServer } = await import('node:http');
  let hits = 0;
  const listener = createServer((_req, res) => {
    hits++;
    res.end('<ConfirmSubscriptionResponse/>');
  });
  listener.on('connection', () => hits++);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => listener.close(() => r())));
  const port = (listener.address() as { port: number }).port;
  const topic = 'arn:aws:sns:us-east-1:906013806264:sp-traffic-evil';
  const confirmation = (subscribeUrl: string) =>
    signAsSns(
      {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: 'a'.repeat(64),
        TopicArn: topic,
        Message: 'confirm me',
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
      },
      sandbox.url,
      '1',
    );
  const hostile = [
    `http://127.0.0.1:${port}/`,
    `http://localhost:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://127.1:${port}/`,
    `http://127.0.0.1:${port}\\@sns.us-east-1.amazonaws.com/`,
    `https://169.254.169.254/latest/meta-data/`,
    `https://sns.us-east-1.amazonaws.com.evil.example/`,
  ].map((u) => JSON.stringify(confirmation(u)));
  const good = confirmation(`${sandbox.url}/_sns/?Action=ConfirmSubscription&Token=x`);
  const tampered = JSON.stringify({ ...good, SubscribeURL: `http://127.0.0.1:${port}/` });
  const unsigned = JSON.stringify({
    Type: 'SubscriptionConfirmation',
    SubscribeURL: `http://127.0.0.1:${port}/`,
    TopicArn: topic,
    Token: 't',
  });
  const foreignCert = JSON.stringify({
    ...JSON.parse(signed({ dataset_id: 'sp-traffic' })),
    SigningCertURL: `http://127.0.0.1:${port}/SimpleNotificationService-${'0'.repeat(32)}.pem`,
  });
  const forgedRecord = JSON.stringify({
    ...JSON.parse(signed({ dataset_id: 'sp-traffic', idempotency_id: 'forged' })),
    Message: JSON.stringify({ dataset_id: 'sp-traffic', idempotency_id: 'forged', clicks: 1e9 }),
  });
  const bodies = [...hostile, tampered, unsigned, foreignCert, forgedRecord];
  for (let k = 0; k < bodies.length; k += 10)
    await queue.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies.slice(k, k + 10).map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
  await drainEmpty();
  const letters = await chRows(
    `SELECT reason FROM dead_letters FINAL WHERE topic = 'sqs:test' AND reason LIKE '%SNS%' ORDER BY reason`,
  );
  const reasons = letters.map((l) => String(l.reason));
  assert.equal(
    reasons.filter((r) => /^SNS SubscribeURL .* refused: /.test(r)).length,
    hostile.length,
    reasons.join('\n'),
  );
  assert.equal(
    reasons.filter((r) => r === 'SNS signature refused: the signature does not verify').length,
    2,
    'tampered URL and forged record',
  );
  assert.equal(
    reasons.filter((r) => /^an SNS SubscriptionConfirmation without its signature fields$/.test(r)).length,
    1,
  );
  assert.equal(reasons.filter((r) => /^SNS SigningCertURL .* refused: /.test(r)).length, 1);
  assert.equal(hits, 0, 'nothing reached the listener');
  const [forged] = await chRows(`SELECT count() AS n FROM stream_traffic_hourly FINAL WHERE idempotency_id = 'forged'`);
  assert.equal(Number(forged!.n), 0, 'a record whose signature does not verify is never stored');
});

test('a confirmation that keeps failing is a dead letter after STREAM_CONFIRM_ATTEMPTS, not fetched forever', async () => {
  const gate = sandboxSnsGate(sandbox.url, 2);
  const body = JSON.stringify(
    signAsSns(
      {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: 'no-such-token',
        TopicArn: 'arn:aws:sns:us-east-1:906013806264:sp-traffic-gone',
        Message: 'confirm me',
        // The sandbox's SNS answers 400 to a token it never issued, every time.
        SubscribeURL: `${sandbox.url}/_sns/?Action=ConfirmSubscription&Token=no-such-token`,
        Timestamp: new Date().toISOString(),
      },
      sandbox.url,
      '1',
    ),
  );
  await queue.client.send(
    new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: '0', MessageBody: body }] }),
  );
  const shape = { receivers: 1, waitSeconds: 1, visibilitySec: 1 };
  const outcomes: { retried: number; deadLetters: number }[] = [];
  for (let k = 0; k < 10 && !outcomes.some((o) => o.deadLetters > 0); k++)
    outcomes.push(await ingestTick({ ...deps, sns: gate }, profiles, shape));
  assert.deepEqual(
    outcomes.filter((o) => o.retried + o.deadLetters > 0).map((o) => [o.retried, o.deadLetters]),
    [
      [1, 0],
      [0, 1],
    ],
    'tried once more, then given up',
  );
  const [letter] = await chRows(
    `SELECT reason FROM dead_letters FINAL WHERE topic = 'sqs:test' AND reason LIKE '%tried 2 times%'`,
  );
  assert.match(String(letter!.reason), /^the SubscribeURL answered 400 \(tried 2 times\)$/);
});

test('a DSP advertiser reached only through the manager account subscribes by dspAccountId; neither or both named is a 400, an unknown one a 404', async () => {
  const [{ account_id: accountId }] = await pg.db('profiles').limit(1).select('account_id');
  const linked = sandbox.state.dataset.dspAdvertisers(0)[0]!.advertiserId;
  await pg.db('dsp_advertisers').insert({ advertiser_id: linked, account_id: accountId, name: 'linked' });
  const neither = await call('POST', '/v1/streams/subscriptions', {});
  assert.equal(neither.statusCode, 400);
  assert.match(neither.json().message, /profileId or a dspAccountId/);
  const both = await call('POST', '/v1/streams/subscriptions', { profileId: profileIds[0], dspAccountId: linked });
  assert.equal(both.statusCode, 400);
  assert.equal((await call('POST', '/v1/streams/subscriptions', { dspAccountId: '4242' })).statusCode, 404);
  const made = await call('POST', '/v1/streams/subscriptions', { dspAccountId: linked });
  assert.equal(made.statusCode, 201, made.body);
  const items = made.json().items as { profileId: string | null; dspAdvertiserId: string; dataSetId: string }[];
  assert.deepEqual(
    items.map((i) => [i.profileId, i.dspAdvertiserId, i.dataSetId]),
    [
      [null, linked, 'adsp-traffic'],
      [null, linked, 'adsp-conversion'],
    ],
    "DSP's datasets by default, kept without a profile",
  );
  const listed = (await call('GET', `/v1/streams/subscriptions?dspAccountId=${linked}`)).json().items as {
    id: string;
  }[];
  assert.deepEqual(
    listed.map((i) => i.id).sort(),
    made
      .json()
      .items.map((i: { id: string }) => i.id)
      .sort(),
  );
  const one = await call('GET', `/v1/streams/subscriptions/${listed[0]!.id}`);
  assert.equal(one.statusCode, 200, one.body);
});
