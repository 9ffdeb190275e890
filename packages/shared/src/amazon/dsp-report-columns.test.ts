// The DSP catalogue is generated from Amazon's report-type pages and column dictionary
// (scripts/gen-dsp-report-columns.ts): the committed files must be what the script writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_REPORT_TYPE_IDS, REPORT_TYPES, measureColumn } from './report-catalog.ts';
import { DSP_REPORT_COLUMNS } from './dsp-report-columns.ts';

test('the generated DSP columns and the dsp_metrics_daily migration are current', () => {
  const script = fileURLToPath(new URL('../../../../scripts/gen-dsp-report-columns.ts', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the DSP types: summable measures, money by name, ids as dimensions; reach and frequency as stated', () => {
  const dsp = Object.values(REPORT_TYPES).filter((t) => t.adProduct === 'DEMAND_SIDE_PLATFORM');
  assert.deepEqual(dsp.map((t) => t.reportTypeId).sort(), Object.keys(DSP_REPORT_COLUMNS).sort());
  assert.equal(dsp.length, 19);
  // Stated per row, never summed: reach and frequency, and the bid adjustment report's rates and factor.
  const reachFamily =
    /^(reach|householdReach|frequencyAverage|impressionFrequencyAverage|householdFrequencyAverage|amazonExclusiveReachRate|winRate|matchRate|bidAdjustment)$/;
  for (const t of dsp) {
    assert.equal(t.table, 'dsp_metrics_daily');
    const summed = t.measures.filter((m) => !reachFamily.test(m));
    assert.ok(!summed.some((m) => /Rate$|ROAS|^eCP|CostPer|[Rr]each|Average/.test(m)), `${t.reportTypeId} rates`);
    // Decimals that are not money are the reach family's, in millionths; no measure is both.
    assert.ok(
      t.millionths.every((m) => reachFamily.test(m) && !t.money.includes(m)),
      `${t.reportTypeId} millionths`,
    );
    assert.ok(t.dimensions.includes('advertiserId'), `${t.reportTypeId} names its advertiser`);
    assert.ok(!t.measures.some((m) => /Id$/.test(m)), `${t.reportTypeId}: an id is no measure`);
  }
  const campaign = REPORT_TYPES.dspCampaign!;
  for (const m of ['totalCost', 'supplyCost', 'agencyFee', '3PFees', 'sales', 'totalSales'])
    assert.ok(campaign.money.includes(m), `${m} is money`);
  for (const m of ['impressions', 'clicks', 'purchases', 'purchasesViews', 'newToBrandPurchases'])
    assert.ok(campaign.measures.includes(m) && !campaign.money.includes(m), `${m} is a count`);
  // Audio and video is SUMMARY-only (guide audio-and-video.md): asked a day at a time, no date column.
  const av = REPORT_TYPES.dspAudioAndVideo!;
  assert.equal(av.timeUnit, 'SUMMARY');
  assert.equal(av.maxDays, 1);
  assert.equal(av.retentionDays, 395);
  assert.ok(!av.columns.includes('date'));
  // Reach and frequency (guide reach.md): Amazon's one type by its three documented groupBy sets, daily.
  const reach = ['dspReachFrequency', 'dspReachFrequencyBySupplySource', 'dspReachFrequencyByFrequencyGroup'].map(
    (id) => REPORT_TYPES[id]!,
  );
  assert.deepEqual(
    reach.map((t) => [t.amazonReportTypeId, t.groupBy, t.timeUnit, t.maxDays, t.retentionDays]),
    [
      ['dspReachFrequency', ['advertiser'], 'DAILY', 31, 95],
      ['dspReachFrequency', ['advertiser', 'supplySource'], 'DAILY', 31, 95],
      ['dspReachFrequency', ['advertiser', 'frequencyGroup'], 'DAILY', 31, 95],
    ],
  );
  assert.deepEqual(reach[1]!.millionths, ['amazonExclusiveReachRate', 'frequencyAverage']);
  assert.deepEqual(
    reach.map((t) => t.splits),
    [[], ['supplySourceId'], ['frequencyGroupId']],
  );
  assert.ok(campaign.measures.includes('reach') && campaign.millionths.includes('frequencyAverage'));
  // Bid adjustments (guide bid-adjustment.md): by matched terms, daily, 31 days a report, 395 kept;
  // bids a count (columns.md gives it no type), the rates and factor in millionths; a row per line
  // item, rule and matched terms; asked by default like Amazon's other DSP types.
  const bid = REPORT_TYPES.dspBidAdjustment!;
  assert.deepEqual(
    [bid.groupBy, bid.timeUnit, bid.maxDays, bid.retentionDays, bid.entityLevel, bid.splits],
    [
      ['bidAdjustmentMatchedTerms'],
      'DAILY',
      31,
      395,
      'line_item',
      ['bidAdjustmentRuleId', 'bidAdjustmentMatchedTermIds'],
    ],
  );
  assert.deepEqual(bid.measures, ['bidAdjustment', 'bids', 'matchRate', 'winRate']);
  assert.deepEqual(bid.millionths, ['bidAdjustment', 'matchRate', 'winRate']);
  assert.ok(!bid.dimensions.includes('startDate') && !bid.dimensions.includes('endDate'));
  assert.ok(DEFAULT_REPORT_TYPE_IDS.includes('dspBidAdjustment'));
  // More breakdowns a page documents, each its own report of that type, measuring what the type does,
  // keyed by every value that tells its rows apart, and asked only when named.
  const more: Record<string, [string, string[], string[]]> = {
    dspGeoByRegion: ['dspGeo', ['order', 'lineItem', 'country', 'region'], ['country', 'region']],
    dspGeoByCity: ['dspGeo', ['order', 'lineItem', 'country', 'region', 'city'], ['country', 'region', 'city']],
    dspGeoByPostalCode: ['dspGeo', ['order', 'lineItem', 'country', 'postalCode'], ['country', 'postalCode']],
    dspGeoByDma: ['dspGeo', ['order', 'lineItem', 'dma'], ['dmaCode', 'dmaName']],
    // inventory.md: supplySource or site is required; columns.md: placementSize needs site.
    dspInventoryByPlacement: [
      'dspInventory',
      ['campaign', 'ad', 'supplySource', 'site', 'placementSize', 'placement'],
      ['supplySource', 'site', 'placementSize', 'placement'],
    ],
    dspInventoryByDeal: [
      'dspInventory',
      ['campaign', 'ad', 'supplySource', 'deal'],
      ['supplySource', 'dealId', 'dealType', 'deal'],
    ],
    dspTechByBrowser: [
      'dspTech',
      ['order', 'lineItem', 'browserType', 'browserVersion'],
      ['browserName', 'browserVersion'],
    ],
    dspTechByEnvironment: ['dspTech', ['order', 'lineItem', 'environmentType'], ['environmentName']],
  };
  for (const [id, [amazon, groupBy, splits]] of Object.entries(more)) {
    const t = REPORT_TYPES[id]!;
    assert.equal(t.amazonReportTypeId, amazon, id);
    assert.deepEqual(t.groupBy, groupBy, id);
    assert.deepEqual(t.splits, splits, id);
    assert.deepEqual(t.measures, REPORT_TYPES[amazon]!.measures, `${id} measures`);
    assert.ok(
      t.splits.every((c) => t.dimensions.includes(c)),
      `${id} splits are asked for`,
    );
    assert.equal(t.byDefault, false, `${id} is asked when named`);
    assert.ok(!DEFAULT_REPORT_TYPE_IDS.includes(id));
  }
  assert.ok(
    dsp
      .filter((t) => !more[t.reportTypeId])
      .every((t) => t.byDefault && DEFAULT_REPORT_TYPE_IDS.includes(t.reportTypeId)),
  );
  assert.ok(
    REPORT_TYPES.dspInventoryByPlacement!.dimensions.includes('placementSize'),
    'a size describes, never counts',
  );
});

test('measure columns are SQL identifiers: a leading digit is spelled out, acronyms split once', () => {
  assert.equal(measureColumn('3PFees', 'money'), 'third_party_fees_micros');
  assert.equal(measureColumn('3pFeeDoubleVerifyAbsorbed', 'money'), 'third_party_fee_double_verify_absorbed_micros');
  assert.equal(measureColumn('amazonDSPAudienceFee', 'money'), 'amazon_dsp_audience_fee_micros');
  assert.equal(measureColumn('totalNewToBrandDPVs', 'count'), 'total_new_to_brand_dpvs');
  // Sponsored ads' names are as before.
  assert.equal(measureColumn('video5SecondViews', 'count'), 'video_5_second_views');
  assert.equal(measureColumn('salesOtherSku7d', 'money'), 'sales_other_sku_7d_micros');
  assert.equal(measureColumn('frequencyAverage', 'millionths'), 'frequency_average_millionths');
});

test('a DSP request names its advertisers (filters advertiserId) and is refused without them', async () => {
  const { reportRequestBody } = await import('./reporting.ts');
  const body = reportRequestBody({
    reportTypeId: 'dspGeo',
    startDate: '2026-11-01',
    endDate: '2026-11-07',
    advertiserIds: ['580455376359067392'],
  });
  assert.equal(body.configuration.adProduct, 'DEMAND_SIDE_PLATFORM');
  assert.deepEqual(body.configuration.filters, [{ field: 'advertiserId', values: ['580455376359067392'] }]);
  assert.deepEqual(body.configuration.groupBy, ['order', 'lineItem', 'country']);
  assert.equal(body.configuration.timeUnit, 'DAILY');
  assert.throws(
    () => reportRequestBody({ reportTypeId: 'dspGeo', startDate: '2026-11-01', endDate: '2026-11-07' }),
    /needs the DSP advertisers/,
  );
  // Sponsored ads send no filter.
  assert.equal(
    reportRequestBody({ reportTypeId: 'spCampaigns', startDate: '2026-11-01', endDate: '2026-11-01' }).configuration
      .filters,
    undefined,
  );
});
