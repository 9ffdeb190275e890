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
import { loadRowsParsed } from './clickhouse-load.ts';
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
