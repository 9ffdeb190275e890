import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset, checkCreateReport, reportRows, FINAL_GENERATION } from '@adsync/sandbox';
import { REPORT_TYPE_IDS, REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { measureColumnsFor, normaliseRow } from './report-row.ts';
import { rowMeasures } from './fact-rows.ts';

/** A normalised row's measures by column (it carries them as values in its report type's column order). */
const measuresOf = (reportTypeId: string, row: MetricRow) =>
  rowMeasures({ measureColumns: measureColumnsFor(reportTypeId) } as RowsParsed, row);

const ctx = { reportTypeId: 'spTargeting', currency: 'USD', startDate: '2026-11-01', endDate: '2026-11-07' };
const base = {
  date: '2026-11-02',
  campaignId: 100000000000001,
  adGroupId: 400000000000002,
  keywordId: 600000000000003,
  keyword: 'coffee',
  matchType: 'EXACT',
  campaignBudgetCurrencyCode: 'USD',
  impressions: 100,
  clicks: 3,
  cost: 1.29,
  sales7d: 19.99,
  purchases7d: 1,
  unitsSoldClicks7d: 2,
};

test('ids become strings, money micros, the target id keys a targeting row', () => {
  const r = normaliseRow(base, ctx);
  assert.ok(r.ok);
  assert.equal(r.row.entityId, '600000000000003');
  assert.equal(r.row.campaignId, '100000000000001');
  assert.equal(r.row.costMicros, 1_290_000);
  assert.equal(r.row.salesMicros, 19_990_000);
  assert.equal(r.row.units, 2);
  assert.equal(r.row.attributes.keyword, 'coffee');
});

test('zero-decimal currencies', () => {
  const r = normaliseRow({ ...base, campaignBudgetCurrencyCode: 'JPY', cost: 129, sales7d: 1999 }, ctx);
  assert.ok(r.ok);
  assert.equal(r.row.costMicros, 129_000_000);
  assert.equal(r.row.currency, 'JPY');
});

test('rows that cannot be trusted are refused with the reason', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, date: '02/11/2026' }, /date/],
    [{ ...base, date: '2026-12-01' }, /outside the report window/],
    [{ ...base, campaignId: null }, /campaignId/],
    [{ ...base, keywordId: 'abc' }, /target id/],
    [{ ...base, clicks: -1 }, /clicks/],
    [{ ...base, cost: 'lots' }, /cost/],
  ];
  for (const [row, reason] of cases) {
    const r = normaliseRow(row, ctx);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, reason);
  }
});

test('a placement row is the campaign at one placement; one without its placement is refused', () => {
  const pctx = { ...ctx, reportTypeId: 'spCampaignPlacement' };
  const row = { ...base, placementClassification: 'Top of Search on-Amazon' };
  const r = normaliseRow(row, pctx);
  assert.ok(r.ok);
  assert.equal(r.row.entityId, '100000000000001', 'keyed by its campaign');
  assert.equal(r.row.attributes.placementClassification, 'Top of Search on-Amazon');
  for (const missing of [undefined, null, ''] as const) {
    const bad = normaliseRow({ ...row, placementClassification: missing }, pctx);
    assert.equal(bad.ok, false);
    assert.match((bad as { reason: string }).reason, /placementClassification is missing/);
  }
});

test('every attribution window is kept under its own column; the headline is the report type’s window', () => {
  const r = normaliseRow({ ...base, sales1d: 5.5, sales14d: 30.01, sales30d: 41, purchases30d: 3 }, ctx);
  assert.ok(r.ok);
  assert.equal(measuresOf('spTargeting', r.row).sales_1d_micros, 5_500_000);
  assert.equal(measuresOf('spTargeting', r.row).sales_7d_micros, 19_990_000);
  assert.equal(measuresOf('spTargeting', r.row).sales_14d_micros, 30_010_000);
  assert.equal(measuresOf('spTargeting', r.row).sales_30d_micros, 41_000_000);
  assert.equal(measuresOf('spTargeting', r.row).purchases_30d, 3);
  assert.equal(measuresOf('spTargeting', r.row).units_sold_clicks_7d, 2);
  assert.equal(r.row.salesMicros, 19_990_000, 'SP headline: 7 days');
});

test('SB and SD rows: clicks- and views-attributed variants, new-to-brand; SD targets by targetingId', () => {
  const sd = normaliseRow(
    {
      date: '2026-11-02',
      campaignId: 7,
      adGroupId: 8,
      targetingId: 9,
      campaignBudgetCurrencyCode: 'EUR',
      impressions: 50,
      clicks: 2,
      cost: 1.5,
      sales: 20,
      salesClicks: 12,
      purchases: 2,
      purchasesClicks: 1,
      unitsSold: 3,
      newToBrandSales: 8,
    },
    { ...ctx, reportTypeId: 'sdTargeting' },
  );
  assert.ok(sd.ok, !sd.ok ? sd.reason : '');
  assert.equal(sd.row.entityId, '9');
  assert.equal(measuresOf('sdTargeting', sd.row).sales_clicks_micros, 12_000_000);
  assert.equal(measuresOf('sdTargeting', sd.row).new_to_brand_sales_micros, 8_000_000);
  assert.equal(sd.row.salesMicros, 20_000_000, 'SD headline: its 14-day sales');
  assert.equal(sd.row.units, 3);
});

test('a purchased-product row is keyed by ad group, advertised and purchased ASIN; traffic quality by campaign name', () => {
  const p = normaliseRow(
    {
      date: '2026-11-02',
      campaignId: 7,
      adGroupId: 8,
      advertisedAsin: 'B000000001',
      purchasedAsin: 'B000000999',
      salesOtherSku7d: 9.99,
      purchasesOtherSku7d: 1,
      unitsSoldOtherSku7d: 1,
    },
    { ...ctx, reportTypeId: 'spPurchasedProduct' },
  );
  assert.ok(p.ok, !p.ok ? p.reason : '');
  assert.equal(p.row.entityId, '8|B000000001|B000000999|');
  assert.equal(p.row.salesMicros, 9_990_000);
  assert.equal(p.row.attributes.purchasedAsin, 'B000000999');
  const q = normaliseRow(
    {
      date: '2026-11-02',
      campaignName: 'Brand – exact',
      campaignStatus: 'ENABLED',
      grossImpressions: 103,
      invalidImpressions: 3,
    },
    { ...ctx, reportTypeId: 'sbGrossAndInvalids' },
  );
  assert.ok(q.ok, !q.ok ? q.reason : '');
  assert.equal(q.row.entityId, 'Brand – exact');
  assert.equal(measuresOf('sbGrossAndInvalids', q.row).invalid_impressions, 3);
  const noName = normaliseRow(
    { date: '2026-11-02', grossImpressions: 1 },
    { ...ctx, reportTypeId: 'sbGrossAndInvalids' },
  );
  assert.deepEqual(noName, { ok: false, reason: 'campaignName is missing' });
});

test('every report type: each row Amazon (the sandbox) serves for the request we send normalises, none refused', () => {
  // Large enough that every report type has something delivering on the day.
  const ds = new Dataset(31, {
    profiles: 1,
    campaignsPerProfile: 8,
    adGroupsPerCampaign: 3,
    adsPerAdGroup: 3,
    sdCampaignsPerProfile: 6,
    stCampaignsPerProfile: 6,
    sbCampaignsPerProfile: 6,
    sbAdGroupsPerCampaign: 2,
  });
  const day = '2026-11-02';
  const advertiserIds = ds.dspAdvertisers(0).map((a) => a.advertiserId);
  for (const reportTypeId of REPORT_TYPE_IDS) {
    const dsp = REPORT_TYPES[reportTypeId]!.adProduct === 'DEMAND_SIDE_PLATFORM';
    const checked = checkCreateReport(
      reportRequestBody({ reportTypeId, startDate: day, endDate: day, ...(dsp ? { advertiserIds } : {}) }),
      '2026-11-10',
    );
    assert.ok(checked.ok, `${reportTypeId}: ${!checked.ok && checked.detail}`);
    let rows = 0;
    // Rows that key alike would collapse into one in their ReplacingMergeTree table.
    const keys = new Set<string>();
    for (const raw of reportRows(ds, {
      profileIndex: 0,
      startDate: day,
      endDate: day,
      configuration: checked.request.configuration,
      generationOf: () => FINAL_GENERATION,
    })) {
      const r = normaliseRow(raw, { reportTypeId, currency: 'USD', startDate: day, endDate: day });
      assert.ok(r.ok, `${reportTypeId}: ${!r.ok && r.reason} in ${JSON.stringify(raw).slice(0, 200)}`);
      const a = r.row.attributes;
      const key = [
        r.row.date,
        r.row.entityId,
        a.searchTerm ?? '',
        a.advertisedAsin ?? a.promotedAsin ?? '',
        a.placementClassification ?? '',
        a.segmentName ?? '',
        a.segmentClassCode ?? '',
      ].join('|');
      assert.ok(
        REPORT_TYPES[reportTypeId]!.table === 'ads_purchased_products' || !keys.has(key),
        `${reportTypeId}: two rows key ${key}`,
      );
      keys.add(key);
      rows++;
    }
    assert.ok(rows > 0, `${reportTypeId} served rows`);
  }
});

test('DSP reach and frequency: reach kept as a count, frequencies and reach rates in millionths, each row apart', () => {
  // Guide reach.md: dspReachFrequency grouped by advertiser and supplySource.
  const ctx = {
    reportTypeId: 'dspReachFrequencyBySupplySource',
    currency: 'USD',
    startDate: '2026-11-02',
    endDate: '2026-11-02',
  };
  const raw = {
    date: '2026-11-02',
    advertiserId: '580455376359067392',
    advertiserName: 'Acme',
    supplySource: 'Amazon Publisher Direct',
    supplySourceId: 100231,
    reach: 1234,
    frequencyAverage: 2.7183,
    amazonExclusiveReachRate: 0.25,
  };
  const r = normaliseRow(raw, ctx);
  assert.ok(r.ok, !r.ok ? r.reason : '');
  assert.equal(r.row.entityId, '580455376359067392|100231');
  assert.deepEqual(measuresOf(ctx.reportTypeId, r.row), {
    amazon_exclusive_reach_rate_millionths: 250_000,
    frequency_average_millionths: 2_718_300,
    reach: 1234,
  });
  // A negative or non-numeric figure is refused with the reason.
  for (const [bad, reason] of [
    [{ frequencyAverage: -1 }, /frequencyAverage is not a non-negative number/],
    [{ frequencyAverage: 'often' }, /frequencyAverage is not a non-negative number/],
    [{ reach: 2.5 }, /reach is not a non-negative integer/],
  ] as const) {
    const refused = normaliseRow({ ...raw, ...bad }, ctx);
    assert.ok(!refused.ok && reason.test(refused.reason), JSON.stringify(bad));
  }
});

test('a DSP row key escapes | and \\ in the values it joins, so different values never key alike', () => {
  const ctx = { reportTypeId: 'dspInventoryByDeal', currency: 'USD', startDate: '2026-11-02', endDate: '2026-11-02' };
  const raw = {
    date: '2026-11-02',
    advertiserId: '580455376359067392',
    orderId: '5811',
    lineItemId: '7012',
    supplySource: 'Exchange|A',
    dealId: null,
    dealType: 'Open Auction',
    deal: 'Open\\auction',
  };
  const key = (row: Record<string, unknown>) => {
    const r = normaliseRow(row, ctx);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    return r.row.entityId;
  };
  assert.equal(key(raw), '7012|Exchange\\|A||Open Auction|Open\\\\auction');
  // Without escaping, this row would key as the one above: 7012|Exchange|A||Open Auction|…
  assert.notEqual(key({ ...raw, supplySource: 'Exchange', dealId: 'A' }), key(raw));
});

test('a DSP creative row is keyed with its line item: a creative serving two line items is two rows', () => {
  // Amazon DSP creative associations: one creative can serve several line items; dspCampaign reports a row each.
  const ctx = { reportTypeId: 'dspCampaign', currency: 'USD', startDate: '2026-11-02', endDate: '2026-11-02' };
  const raw = { date: '2026-11-02', advertiserId: '5804', orderId: '5811', lineItemId: '7012', creativeId: '9001' };
  const keys = ['7012', '7013'].map((lineItemId) => {
    const r = normaliseRow({ ...raw, lineItemId }, ctx);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    return r.row.entityId;
  });
  assert.deepEqual(keys, ['9001|7012', '9001|7013']);
});

test('a DSP bid adjustment row: keyed by line item, rule and matched terms; bids a count, rates and factor in millionths', () => {
  // Guide dsp/bid-adjustments/reports.md, its first example: a rule's default traffic has no term
  // ids and an empty factor, beside the terms that matched.
  const ctx = { reportTypeId: 'dspBidAdjustment', currency: 'USD', startDate: '2026-11-02', endDate: '2026-11-02' };
  const raw = {
    date: '2026-11-02',
    advertiserId: '5804',
    orderId: '5811',
    lineItemId: '7012',
    bidAdjustmentRuleId: '7ef92d14-0000-4000-8000-000000000001',
    bidAdjustmentRule: 'Highest clicks',
    bidAdjustmentMatchedTermIds: '[1]',
    bidAdjustmentMatchedTerms: '[{id:1, slotSize: ["728x90"]}]',
    bidAdjustment: 1.4,
    matchRate: 0.2083,
    bids: 5493878,
    winRate: 0.0113,
  };
  const normalise = (row: Record<string, unknown>) => {
    const r = normaliseRow(row, ctx);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    return r.row;
  };
  const matched = normalise(raw);
  assert.equal(matched.entityId, '7012|7ef92d14-0000-4000-8000-000000000001|[1]');
  assert.deepEqual(measuresOf(ctx.reportTypeId, matched), {
    bid_adjustment_millionths: 1_400_000,
    bids: 5493878,
    match_rate_millionths: 208_300,
    win_rate_millionths: 11_300,
  });
  // As CSV gives it: the default traffic's factor is an empty cell.
  const fallback = normalise({
    ...raw,
    bidAdjustmentMatchedTermIds: '[]',
    bidAdjustmentMatchedTerms: 'Default traffic (no adjustments)',
    bidAdjustment: '',
    matchRate: '0.3942',
    bids: '5652184',
    winRate: '0.0104',
  });
  assert.equal(fallback.entityId, '7012|7ef92d14-0000-4000-8000-000000000001|[]');
  assert.equal(measuresOf(ctx.reportTypeId, fallback).bid_adjustment_millionths, 0);
  assert.equal(fallback.adGroupId, '7012');
});
