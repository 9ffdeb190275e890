import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import type { FactTable } from '@adsync/shared/amazon/report-catalog';
import { FACT_COLUMNS, factRow } from './fact-rows.ts';
import { tsvLine } from '@adsync/shared/db/tab-separated';
import { columnFields, factLines, insertColumns } from './fact-lines.ts';

const row = (measures: Record<string, number>, attributes: Record<string, string> = {}): MetricRow => ({
  date: '2026-11-01',
  entityId: '7',
  campaignId: '1',
  adGroupId: null,
  currency: 'USD',
  impressions: 10,
  clicks: 2,
  costMicros: 1_500_000,
  salesMicros: 0,
  orders: 0,
  units: 0,
  attributes,
  measures,
});
const event = (reportType: string, rows: MetricRow[]): RowsParsed => ({
  eventId: 'e',
  occurredAt: '2026-11-02T00:00:00Z',
  pendingReportId: 'p',
  profileId: '1',
  reportId: 'r',
  reportType,
  entityLevel: 'campaign',
  batchIndex: 0,
  lastBatch: true,
  pulledAt: '2026-11-02T00:00:00Z',
  rows,
});
const stamp = { pulledAt: '2026-11-02 00:00:00', version: 1, loadedAt: '2026-11-02 00:00:01' };

test('an insert names the fixed columns, then every measure some row carries, once and sorted', () => {
  const evs = [
    event('spCampaigns', [row({ sales_7d_micros: 1 }), row({ purchases_7d: 2, sales_7d_micros: 1 })]),
    event('spCampaigns', [row({ units_sold_clicks_7d: 3 })]),
  ];
  assert.deepEqual(insertColumns('ads_metrics_daily', evs), [
    ...FACT_COLUMNS.ads_metrics_daily,
    'purchases_7d',
    'sales_7d_micros',
    'units_sold_clicks_7d',
  ]);
  // A measure sharing a fixed column's name is written once, as the fixed column.
  assert.deepEqual(insertColumns('ads_metrics_daily', [event('spCampaigns', [row({ clicks: 9 })])]), [
    ...FACT_COLUMNS.ads_metrics_daily,
  ]);
  assert.deepEqual(insertColumns('ads_traffic_quality', [event('spGrossAndInvalids', [row({ clicks: 1 })])]), [
    ...FACT_COLUMNS.ads_traffic_quality,
  ]);
});

test('the line writer gives, for every table, exactly the row object factRow builds, in the insert’s column order', () => {
  const rows = [
    row({ purchases_7d: 3, sales_7d_micros: 9, clicks: 99 }, { searchTerm: 'a\tb', campaignStatus: 'ENABLED' }),
    row({ impressions: 5, gross_impressions: 8 }, { purchasedAsin: 'B0\\1', keywordId: 'k\n1' }),
    { ...row({}), adGroupId: 'ag', attributes: { promotedAsin: 'B02', asinBrandHalo: 'B03' } },
  ];
  for (const [table, type] of [
    ['ads_metrics_daily', 'spSearchTerm'],
    ['ads_purchased_products', 'spPurchasedProduct'],
    ['ads_traffic_quality', 'spGrossAndInvalids'],
  ] as [FactTable, string][]) {
    const ev = { ...event(type, rows), entityLevel: table === 'ads_metrics_daily' ? 'search_term' : 'campaign' };
    const columns = insertColumns(table, [ev]);
    const line = factLines(columnFields(table, columns))(ev, stamp);
    for (const r of rows) assert.equal(line(r), tsvLine(factRow(ev, r, stamp).row, columns), `${table} ${r.entityId}`);
  }
});

test('a message in the compact form (measureColumns and each row’s measureValues) loads exactly as the same rows as maps', () => {
  const maps = [
    row({ sales_7d_micros: 1_000_000, purchases_7d: 2, impressions: 10 }),
    row({ sales_7d_micros: 0, purchases_7d: 0, impressions: 0 }, { campaignStatus: 'ENABLED' }),
  ];
  const columns = ['impressions', 'purchases_7d', 'sales_7d_micros'];
  const compact = maps.map((r) => ({ ...r, measures: {}, measureValues: columns.map((c) => r.measures[c]!) }));
  for (const [table, type] of [
    ['ads_metrics_daily', 'spCampaigns'],
    ['ads_traffic_quality', 'spGrossAndInvalids'],
  ] as [FactTable, string][]) {
    const asMaps = event(type, maps);
    const asValues = { ...event(type, compact), measureColumns: columns };
    const cols = insertColumns(table, [asMaps]);
    assert.deepEqual(insertColumns(table, [asValues]), cols, `${table}: the same columns`);
    const lines = (ev: RowsParsed) => ev.rows.map(factLines(columnFields(table, cols))(ev, stamp));
    assert.deepEqual(lines(asValues), lines(asMaps), `${table}: the same lines`);
    assert.deepEqual(
      asValues.rows.map((r) => factRow(asValues, r, stamp).row),
      asMaps.rows.map((r) => factRow(asMaps, r, stamp).row),
      `${table}: the same row objects`,
    );
  }
});
