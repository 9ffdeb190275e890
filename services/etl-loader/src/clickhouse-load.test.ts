// rows.parsed → ClickHouse on the real server: what the loader sends as TabSeparated text
// reads back exactly as the rows carried it, whatever characters the text holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import {
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { insertSlices, loadRowsParsed, readRowsParsed, type RowsParsedIn } from './clickhouse-load.ts';
import { InRepoSchemaCodec } from '@adsync/shared/kafka/codec';
import { isDependencyOutage } from '@adsync/shared/runtime/errors';
import { FACT_COLUMNS } from './fact-rows.ts';
import { measureColumnsOf, type FactTable } from '@adsync/shared/amazon/report-catalog';

let pg: FreshPostgres;
let ch: FreshClickHouse;
const log = testLogger('clickhouse-load');
const select = async <T>(query: string): Promise<T[]> =>
  (await ch.ch.client.query({ query, format: 'JSONEachRow' })).json<T>();

before(async () => {
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
});
after(async () => {
  await ch?.drop();
  await pg?.drop();
});

const NASTY = [
  'tab\there',
  'line\nbreak',
  'carriage\rreturn',
  'back\\slash \\t not a tab',
  'trailing backslash\\',
  '"double" and \'single\' quotes',
  'Ünïcödé 🛒 日本語',
  '',
  '\\N',
];

const event = (
  reportType: string,
  entityLevel: string,
  rows: MetricRow[],
): Omit<RowsParsed, 'rows'> & { rows: MetricRow[] } => ({
  eventId: `e-${reportType}`,
  occurredAt: '2026-11-02T00:00:00Z',
  pendingReportId: '00000000-0000-4000-8000-000000000001',
  profileId: 'p1',
  reportId: 'r1',
  reportType,
  entityLevel,
  batchIndex: 0,
  lastBatch: false,
  pulledAt: '2026-11-02T03:04:05Z',
  rows,
});

test('text with tabs, line breaks, backslashes, quotes and any script reads back exactly; absent measures are 0', async () => {
  const now = new Date('2026-11-05T00:00:00Z');
  const rows: MetricRow[] = NASTY.map((text, i) => ({
    date: '2026-11-01',
    entityId: `kw-${i}`,
    campaignId: `c${i}`,
    adGroupId: i % 2 ? `ag${i}` : null,
    currency: 'USD',
    impressions: 1000 + i,
    clicks: i,
    costMicros: i * 10_000,
    salesMicros: 2_000_000 * i,
    orders: i,
    units: 2 * i,
    attributes: { searchTerm: text, keyword: text },
    // Rows of one report may carry different measures: what a row lacks is 0.
    measures: (i % 2 ? { purchases_7d: i, sales_7d_micros: 7 * i } : { purchases_14d: 14 * i }) as Record<
      string,
      number
    >,
  }));
  const evs = [event('spSearchTerm', 'search_term', rows)].map((value) => ({ value }) as never);
  const res = await loadRowsParsed({ db: pg.db, ch: ch.ch, log, now: () => now }, evs);
  assert.equal(res.rows, NASTY.length);
  const back = await select<
    Record<string, string | number>
  >(`SELECT entity_id, search_term, attributes, ad_group_id, cost_micros, purchases_7d, sales_7d_micros, purchases_14d,
                     pulled_at, version FROM ads_metrics_daily ORDER BY entity_id`);
  assert.equal(back.length, NASTY.length);
  for (const [i, text] of NASTY.entries()) {
    const b = back.find((r) => r.entity_id === `kw-${i}`)!;
    assert.equal(b.search_term, text, `search term ${JSON.stringify(text)}`);
    assert.deepEqual(JSON.parse(String(b.attributes)), { searchTerm: text, keyword: text });
    assert.equal(b.ad_group_id, i % 2 ? `ag${i}` : '');
    assert.equal(Number(b.cost_micros), i * 10_000);
    assert.equal(Number(b.purchases_7d), i % 2 ? i : 0);
    assert.equal(Number(b.sales_7d_micros), i % 2 ? 7 * i : 0);
    assert.equal(Number(b.purchases_14d), i % 2 ? 0 : 14 * i);
    assert.equal(b.pulled_at, '2026-11-02 03:04:05');
    assert.equal(Number(b.version), Date.parse('2026-11-02T03:04:05Z'));
  }
  // The streaming table holds the recent days, its search terms as exact.
  const recent = await select<{ entity_id: string; search_term: string; clicks: string }>(
    'SELECT entity_id, search_term, clicks FROM ads_metrics_recent ORDER BY entity_id',
  );
  assert.deepEqual(
    recent.map((r) => [r.entity_id, r.search_term, Number(r.clicks)]),
    NASTY.map((t, i) => [`kw-${i}`, t, i]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
});

test('every column the loader names exists in its table as the migrations made it', async () => {
  for (const table of Object.keys(FACT_COLUMNS) as FactTable[]) {
    const have = new Set(
      (
        await select<{ name: string }>(
          `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '${table}'`,
        )
      ).map((c) => c.name),
    );
    assert.ok(have.size > 0, table);
    for (const c of FACT_COLUMNS[table]) assert.ok(have.has(c), `${table}.${c}`);
    if (table !== 'ads_traffic_quality')
      for (const c of measureColumnsOf(table)) assert.ok(have.has(c), `${table}.${c} (a catalogue measure)`);
  }
});

test('purchased-product and traffic-quality rows read back as sent, a measure named like a fixed column written once', async () => {
  const base = {
    date: '2026-10-20',
    entityId: 'Summer Sale\tCampaign',
    campaignId: 'c1',
    adGroupId: 'ag1',
    currency: 'EUR',
    impressions: 0,
    clicks: 0,
    costMicros: 0,
    salesMicros: 12_340_000,
    orders: 3,
    units: 4,
  };
  const purchased: MetricRow = {
    ...base,
    attributes: { advertisedAsin: 'B0ADV', purchasedAsin: 'B0PUR', attributionType: 'Halo', keywordId: 'k\n1' },
    // `orders` is also a fixed column: the fixed value (3) is the one stored.
    measures: { orders: 99, units_sold_clicks_14d: 4 } as Record<string, number>,
  };
  const traffic: MetricRow = {
    ...base,
    attributes: { campaignStatus: 'ENABLED' },
    measures: {
      impressions: 1000,
      clicks: 50,
      gross_impressions: 1100,
      gross_click_throughs: 60,
      invalid_impressions: 100,
      invalid_click_throughs: 10,
    },
  };
  const evs = [
    { ...event('spPurchasedProduct', 'purchased_product', [purchased]), eventId: 'pp' },
    { ...event('spGrossAndInvalids', 'campaign', [traffic]), eventId: 'tq' },
  ].map((value) => ({ value }) as never);
  const res = await loadRowsParsed({ db: pg.db, ch: ch.ch, log, now: () => new Date('2026-11-05T00:00:00Z') }, evs);
  assert.equal(res.rows, 2);
  const [pp] = await select<
    Record<string, string | number>
  >(`SELECT advertised_asin, purchased_asin, attribution_type, keyword_id, currency, sales_micros, orders, units,
                     units_sold_clicks_14d FROM ads_purchased_products`);
  assert.deepEqual(
    {
      ...pp,
      sales_micros: Number(pp!.sales_micros),
      orders: Number(pp!.orders),
      units: Number(pp!.units),
      units_sold_clicks_14d: Number(pp!.units_sold_clicks_14d),
    },
    {
      advertised_asin: 'B0ADV',
      purchased_asin: 'B0PUR',
      attribution_type: 'Halo',
      keyword_id: 'k\n1',
      currency: 'EUR',
      sales_micros: 12_340_000,
      orders: 3,
      units: 4,
      units_sold_clicks_14d: 4,
    },
  );
  const [tq] = await select<
    Record<string, string | number>
  >(`SELECT campaign_name, campaign_status, impressions, clicks, gross_impressions, gross_click_throughs,
                     invalid_impressions, invalid_click_throughs FROM ads_traffic_quality`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(tq!).map(([k, v]) => [k, k.startsWith('campaign') ? v : Number(v)])),
    {
      campaign_name: 'Summer Sale\tCampaign',
      campaign_status: 'ENABLED',
      impressions: 1000,
      clicks: 50,
      gross_impressions: 1100,
      gross_click_throughs: 60,
      invalid_impressions: 100,
      invalid_click_throughs: 10,
    },
  );
});

/** A row in the compact form producers write: its measure values in the batch's measureColumns order. */
const compactRow = (patch: Partial<MetricRow>): MetricRow => ({
  date: '2026-10-01',
  entityId: 'e',
  campaignId: 'c',
  adGroupId: null,
  currency: 'USD',
  impressions: 1,
  clicks: 1,
  costMicros: 0,
  salesMicros: 0,
  orders: 0,
  units: 0,
  attributes: {},
  measures: {},
  measureValues: [],
  ...patch,
});

/** Messages as the consumer reads them: encoded by the codec, read back with their rows still bytes. */
async function asConsumed(evs: RowsParsed[]) {
  const codec = new InRepoSchemaCodec();
  await codec.init();
  return Promise.all(
    evs.map(async (e) => ({ value: await readRowsParsed(codec, await codec.encode('rows.parsed', e)) }) as never),
  );
}

test('rows read as bytes load exactly into both tables, text with tabs and line breaks and any script included', async () => {
  const now = new Date('2026-11-05T00:00:00Z');
  const rows: MetricRow[] = NASTY.map((text, i) => ({
    date: i % 3 ? '2026-11-01' : '2026-09-01', // some older than the streaming table keeps
    entityId: `bytes-${i}`,
    campaignId: `c ${text}`,
    adGroupId: i % 2 ? text : null,
    currency: 'USD',
    impressions: 2 ** 40 + i,
    clicks: i,
    costMicros: i * 10_000,
    salesMicros: 2_000_000 * i,
    orders: i,
    units: 2 * i,
    attributes: { keyword: `kw ${i}`, matchType: 'EXACT' },
    measures: {},
    measureValues: [i, -7 * i || 0],
  }));
  const ev = {
    ...event('spTargeting', 'target', rows),
    profileId: 'p-bytes',
    measureColumns: ['purchases_7d', 'sales_7d_micros'],
  };
  const consumed = await asConsumed([ev]);
  assert.ok(
    !Array.isArray((consumed[0] as unknown as { value: { rows: unknown } }).value.rows),
    'the rows stayed bytes',
  );
  const res = await loadRowsParsed({ db: pg.db, ch: ch.ch, log, now: () => now }, consumed);
  assert.deepEqual(res.problems, [null]);
  assert.equal(res.rows, NASTY.length);
  const back = await select<Record<string, string>>(
    `SELECT entity_id, campaign_id, ad_group_id, impressions, attributes, purchases_7d, sales_7d_micros
       FROM ads_metrics_daily WHERE profile_id = 'p-bytes' ORDER BY entity_id`,
  );
  assert.equal(back.length, NASTY.length);
  for (const [i, text] of NASTY.entries()) {
    const b = back.find((r) => r.entity_id === `bytes-${i}`)!;
    assert.equal(b.campaign_id, `c ${text}`);
    assert.equal(b.ad_group_id, i % 2 ? text : '');
    assert.equal(String(b.impressions), String(2 ** 40 + i));
    assert.deepEqual(JSON.parse(b.attributes!), { keyword: `kw ${i}`, matchType: 'EXACT' });
    assert.equal(Number(b.purchases_7d), i);
    assert.equal(Number(b.sales_7d_micros), -7 * i || 0);
  }
  const recent = await select<{ entity_id: string }>(
    `SELECT entity_id FROM ads_metrics_recent WHERE profile_id = 'p-bytes' ORDER BY entity_id`,
  );
  assert.deepEqual(
    recent.map((r) => r.entity_id),
    NASTY.map((_, i) => `bytes-${i}`)
      .filter((_, i) => i % 3)
      .sort(),
  );
});

test('an impossible message read as bytes is refused with the reason, the rest loads; one that does not decode says so', async () => {
  const good = { ...event('spTargeting', 'target', []), profileId: 'p-mixed', measureColumns: ['purchases_7d'] };
  const row = (clicks: number) =>
    compactRow({ date: '2026-10-01', entityId: `m${clicks}`, clicks, measureValues: [1] });
  const codec = new InRepoSchemaCodec();
  await codec.init();
  // A value avsc writes but will not read back (2^53): the largest it writes, made 2^53 in the bytes.
  const past = await codec.encode('rows.parsed', {
    ...good,
    batchIndex: 2,
    rows: [{ ...row(4), measureValues: [9007199254740990] }],
  });
  const largest = Buffer.from([0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]); // zig-zag varint of 2^53 - 2
  const at = past.indexOf(largest);
  assert.ok(at > 0);
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]).copy(past, at);
  const consumed = [
    ...(await asConsumed([
      { ...good, rows: [row(1)] },
      { ...good, batchIndex: 1, rows: [row(2), row(-3)] },
    ])),
    { value: await readRowsParsed(codec, past) } as never,
  ];
  const res = await loadRowsParsed({ db: pg.db, ch: ch.ch, log }, consumed);
  assert.equal(res.problems[0], null);
  assert.equal(res.problems[1]!.step, 'validate');
  assert.match(res.problems[1]!.reason, /batch 1: row 1: clicks -3 is not a count/);
  assert.equal(res.problems[2]!.step, 'decode');
  assert.match(res.problems[2]!.reason, /do not decode/);
  const back = await select<{ entity_id: string }>(
    `SELECT entity_id FROM ads_metrics_daily WHERE profile_id = 'p-mixed'`,
  );
  assert.deepEqual(
    back.map((r) => r.entity_id),
    ['m1'],
  );
});

test('when ClickHouse refuses the insert, its refusal is the error (not an outage), even with recent rows streaming beside it', async () => {
  // A column the loader names, gone from the table: ClickHouse refuses every such insert.
  await ch.ch.client.command({ query: 'ALTER TABLE ads_metrics_daily DROP COLUMN purchases_14d' });
  try {
    const ev = {
      ...event('spTargeting', 'target', []),
      profileId: 'p-refused',
      measureColumns: ['purchases_14d'],
      rows: [compactRow({ date: '2026-11-04', entityId: 'r1', measureValues: [5] })],
    };
    const err = await loadRowsParsed(
      { db: pg.db, ch: ch.ch, log, now: () => new Date('2026-11-05T00:00:00Z') },
      await asConsumed([ev]),
    ).then(
      () => assert.fail('the insert should have been refused'),
      (e: unknown) => e,
    );
    assert.match((err as Error).message, /purchases_14d/);
    assert.equal(isDependencyOutage(err), false, 'a refusal must not be waited out as an outage');
  } finally {
    await ch.ch.client.command({
      query: "ALTER TABLE ads_metrics_daily ADD COLUMN purchases_14d Int64 DEFAULT CAST(0, 'Int64')",
    });
  }
});

test('a batch past 6 MiB of rows loads as two inserts side by side, every row exactly once in both tables', async () => {
  const now = new Date('2026-11-05T00:00:00Z');
  const perMessage = 15_000;
  const messages = 10; // 150,000 rows of about 70 bytes: past the line where one insert becomes two
  const events = Array.from({ length: messages }, (_, m) => ({
    ...event(
      'spTargeting',
      'target',
      Array.from({ length: perMessage }, (_, k): MetricRow => {
        const i = m * perMessage + k;
        return {
          date: i % 2 ? '2026-11-01' : '2025-01-01', // 2025-01: a partition of this test's own
          entityId: `split-${i}`,
          campaignId: `c${i % 7}`,
          adGroupId: null,
          currency: 'USD',
          impressions: i,
          clicks: i % 3,
          costMicros: i * 10,
          salesMicros: 0,
          orders: 0,
          units: 0,
          attributes: { keyword: `keyword ${i}` },
          measures: {},
          measureValues: [i % 5],
        };
      }),
    ),
    eventId: `split-${m}`,
    profileId: 'p-split',
    batchIndex: m,
    measureColumns: ['purchases_7d'],
  }));
  const res = await loadRowsParsed({ db: pg.db, ch: ch.ch, log, now: () => now }, await asConsumed(events));
  const total = perMessage * messages;
  assert.deepEqual(
    res.problems,
    events.map(() => null),
  );
  assert.equal(res.rows, total);
  const [daily] = await select<{ n: string; distinct: string; impressions: string; purchases: string }>(
    `SELECT count() AS n, uniqExact(entity_id) AS distinct, sum(impressions) AS impressions, sum(purchases_7d) AS purchases
       FROM ads_metrics_daily WHERE profile_id = 'p-split'`,
  );
  assert.deepEqual(
    [Number(daily!.n), Number(daily!.distinct), Number(daily!.impressions)],
    [total, total, (total * (total - 1)) / 2],
  );
  let purchases = 0;
  for (let i = 0; i < total; i++) purchases += i % 5;
  assert.equal(Number(daily!.purchases), purchases);
  const [recent] = await select<{ n: string }>(
    `SELECT count() AS n FROM ads_metrics_recent WHERE profile_id = 'p-split'`,
  );
  assert.equal(Number(recent!.n), total / 2);
  // Two inserts ran: each wrote a part of its own (level 0; merged or not, system.parts lists it a while).
  const [inserts] = await select<{ n: string }>(
    `SELECT count() AS n FROM system.parts
      WHERE database = '${ch.ch.database}' AND table = 'ads_metrics_daily' AND partition = '202501' AND level = 0`,
  );
  assert.equal(Number(inserts!.n), 2, 'two inserts of ads_metrics_daily');
});

test('insertSlices: one insert below 6 MiB of rows; above, two of about equal bytes, every message once and in order', () => {
  const MiB = 1024 * 1024;
  const encoded = (bytes: number) => ({ ev: { rows: { start: 10, end: 10 + bytes } } as unknown as RowsParsedIn });
  const decoded = (rows: number) => ({ ev: { rows: new Array(rows) } as unknown as RowsParsedIn });
  const shape = (slices: { ev: RowsParsedIn }[][], all: { ev: RowsParsedIn }[]) => {
    assert.deepEqual(slices.flat(), all, 'every message once, in order');
    assert.ok(
      slices.every((s) => s.length > 0),
      'no empty slice',
    );
    return slices.map((s) => s.length);
  };
  const small = [encoded(MiB), encoded(2 * MiB), encoded(2 * MiB)];
  assert.deepEqual(shape(insertSlices(small), small), [3]);
  const even = Array.from({ length: 8 }, () => encoded(MiB));
  assert.deepEqual(shape(insertSlices(even), even), [4, 4]);
  const firstBig = [encoded(7 * MiB), encoded(MiB), encoded(MiB)];
  assert.deepEqual(shape(insertSlices(firstBig), firstBig), [1, 2]);
  const lastBig = [encoded(MiB), encoded(MiB), encoded(7 * MiB)];
  assert.deepEqual(shape(insertSlices(lastBig), lastBig), [2, 1]);
  const one = [encoded(50 * MiB)];
  assert.deepEqual(shape(insertSlices(one), one), [1]);
  // Rows already decoded weigh about 100 bytes each: 70,000 of them are past the line.
  const objects = [decoded(35_000), decoded(35_000)];
  assert.deepEqual(shape(insertSlices(objects), objects), [1, 1]);
  const fewer = [decoded(20_000), decoded(20_000)];
  assert.deepEqual(shape(insertSlices(fewer), fewer), [2]);
});
