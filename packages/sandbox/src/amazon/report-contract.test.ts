// What the Reporting API v3 accepts and refuses, with Amazon's wording. Sources:
// en-us/guides/reporting/v3/get-started.md and report-types/*.md (idealerror/amazon-ads-api-docs),
// and the 400 bodies quoted in amzn/ads-advanced-tools-docs issues #73, #175, #231, #278, #375.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AMAZON_REPORT_COLUMNS, AMAZON_REPORT_TYPES, checkCreateReport } from './report-contract.ts';
import { Dataset } from '../dataset.ts';
import { FINAL_GENERATION, grainOf, reportRows, totalsOf } from './report-engine.ts';

const today = '2026-11-24';
const body = (configuration: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'r',
  startDate: '2026-11-01',
  endDate: '2026-11-10',
  configuration: {
    adProduct: 'SPONSORED_PRODUCTS',
    reportTypeId: 'spCampaigns',
    groupBy: ['campaign'],
    columns: ['campaignId', 'impressions', 'date'],
    timeUnit: 'DAILY',
    format: 'GZIP_JSON',
    ...configuration,
  },
  ...extra,
});
const refusal = (b: unknown) => {
  const r = checkCreateReport(b, today);
  assert.equal(r.ok, false, 'refused');
  return (r as { detail: string }).detail;
};

test("the catalogue is Amazon's: every sponsored-ads report type with its documented limits", () => {
  for (const t of [
    'spCampaigns',
    'spTargeting',
    'spSearchTerm',
    'spAdvertisedProduct',
    'spPurchasedProduct',
    'spGrossAndInvalids',
    'sbCampaigns',
    'sbAdGroup',
    'sbAds',
    'sbTargeting',
    'sbSearchTerm',
    'sbPurchasedProduct',
    'sbGrossAndInvalids',
    'sdCampaigns',
    'sdAdGroup',
    'sdTargeting',
    'sdAdvertisedProduct',
    'sdPurchasedProduct',
    'sdGrossAndInvalids',
    'stCampaigns',
    'stTargeting',
  ]) {
    assert.ok(AMAZON_REPORT_TYPES[t], t);
  }
  assert.equal(AMAZON_REPORT_TYPES.spCampaigns!.retentionDays, 95);
  assert.equal(AMAZON_REPORT_TYPES.sbCampaigns!.retentionDays, 60);
  assert.equal(AMAZON_REPORT_TYPES.sdCampaigns!.retentionDays, 65);
  assert.equal(AMAZON_REPORT_TYPES.spGrossAndInvalids!.maxDays, 365);
});

test('accepts what Amazon documents: two groupBys, SUMMARY with startDate/endDate, a filter, same-SKU and budget-rule columns', () => {
  // get-started.md, "Sample request": spCampaigns grouped by campaign and adGroup.
  assert.equal(
    checkCreateReport(
      body({
        groupBy: ['campaign', 'adGroup'],
        columns: [
          'campaignId',
          'adGroupId',
          'impressions',
          'clicks',
          'cost',
          'purchases1d',
          'purchases7d',
          'purchases14d',
          'purchases30d',
          'startDate',
          'endDate',
        ],
        timeUnit: 'SUMMARY',
      }),
      today,
    ).ok,
    true,
  );
  // get-started.md, "Example request body using filters".
  assert.equal(
    checkCreateReport(
      body({
        columns: ['impressions', 'clicks', 'cost', 'campaignId', 'startDate', 'endDate'],
        timeUnit: 'SUMMARY',
        filters: [{ field: 'campaignStatus', values: ['ENABLED', 'PAUSED'] }],
      }),
      today,
    ).ok,
    true,
  );
  // campaign.md: the SP base metrics include *SameSku* columns; groupBy campaign adds the budget-rule columns.
  assert.equal(
    checkCreateReport(
      body({
        columns: [
          'campaignId',
          'purchasesSameSku7d',
          'attributedSalesSameSku30d',
          'campaignApplicableBudgetRuleName',
          'campaignRuleBasedBudgetAmount',
          'date',
        ],
      }),
      today,
    ).ok,
    true,
  );
  // targeting.md, "Sponsored Brands: Keywords only", with its keywordType filter.
  assert.equal(
    checkCreateReport(
      body({
        adProduct: 'SPONSORED_BRANDS',
        reportTypeId: 'sbTargeting',
        groupBy: ['targeting'],
        columns: [
          'adGroupId',
          'campaignId',
          'keywordId',
          'matchType',
          'keywordText',
          'impressions',
          'clicks',
          'cost',
          'startDate',
          'endDate',
        ],
        timeUnit: 'SUMMARY',
        filters: [{ field: 'keywordType', values: ['BROAD', 'PHRASE', 'EXACT'] }],
      }),
      today,
    ).ok,
    true,
  );
  // gross-and-invalid-traffic.md: CSV allowed, 365 days.
  assert.equal(
    checkCreateReport(
      body(
        {
          reportTypeId: 'spGrossAndInvalids',
          columns: ['campaignName', 'grossImpressions', 'invalidClickThroughRate', 'startDate', 'endDate'],
          timeUnit: 'SUMMARY',
          format: 'CSV',
        },
        { startDate: '2026-01-01', endDate: '2026-11-23' },
      ),
      today,
    ).ok,
    true,
  );
});

test("refuses with Amazon's wording", () => {
  assert.equal(
    refusal(body({ adProduct: undefined })),
    'Required fields are invalid or missing: configuration adProduct',
  );
  assert.equal(refusal(body({ reportTypeId: 'spCampaign' })), 'configuration reportTypeId is unknown or invalid');
  assert.equal(
    refusal(body({ adProduct: 'SPONSORED_BRANDS' })),
    'configuration adProduct is not supported for this report type',
  );
  assert.match(
    refusal(body({ groupBy: ['campaigns'] })),
    /^configuration invalid groupBy values: \(campaigns\)\. Allowed values: \(campaign, adGroup, campaignPlacement\)/,
  );
  assert.match(
    refusal(body({ columns: ['campaignId', 'searchTerm'] })),
    /^configuration columns includes invalid values: \(searchTerm\)/,
  );
  assert.match(
    refusal(
      body({
        reportTypeId: 'spAdvertisedProduct',
        groupBy: ['advertiser'],
        columns: ['adId', 'impressions', 'date'],
        filters: [{ field: 'adKeywordStatus', values: ['ENABLED'] }],
      }),
    ),
    /^configuration filters includes fields: \(adKeywordStatus\) which are invalid for groupBys: advertiser/,
  );
  // Filters must be supported by every groupBy: with two groupBys a campaign report takes none (campaign.md, NOTE).
  assert.match(
    refusal(body({ groupBy: ['campaign', 'adGroup'], filters: [{ field: 'campaignStatus', values: ['ENABLED'] }] })),
    /invalid for groupBys: adGroup/,
  );
  assert.match(
    refusal(body({}, { startDate: '2026-10-01', endDate: '2026-11-10' })),
    /^startDate to endDate range \(41 days\) must not exceed maximum range \(31 days\)$/,
  );
  assert.match(
    refusal(
      body(
        { adProduct: 'SPONSORED_BRANDS', reportTypeId: 'sbCampaigns' },
        { startDate: '2026-09-01', endDate: '2026-09-10' },
      ),
    ),
    /older than the 60 days of data kept for sbCampaigns/,
  );
  assert.match(refusal(body({ format: 'CSV' })), /configuration format is invalid/);
});

test("what Amazon's own model sends is accepted: date with SUMMARY, a filter only its example names", () => {
  // OfflineReport_prod_3p, example SponsoredProductsKeywordsSummaryReport: `date` among SUMMARY columns.
  assert.equal(checkCreateReport(body({ timeUnit: 'SUMMARY' }), today).ok, true);
  // Example SponsoredProductsAdvertisedProductDailyReport: campaignStatus filters an advertiser report.
  const advertised = body({
    reportTypeId: 'spAdvertisedProduct',
    groupBy: ['advertiser'],
    columns: ['adId', 'impressions', 'date'],
    filters: [{ field: 'campaignStatus', values: ['ENABLED'] }],
  });
  assert.equal(checkCreateReport(advertised, today).ok, true);
});

test('a wrongly typed field is a 400 naming it, never a crash', () => {
  for (const bad of [
    null,
    [],
    'x',
    7,
    body({ groupBy: 'campaign' }),
    body({ columns: [1, 2] }),
    body({ filters: [{ field: 'campaignStatus', values: 'ENABLED' }] }),
    body({}, { startDate: '2026-02-30' }),
    body({}, { startDate: '2024-13-01' }),
    body({}, { configuration: 'x' }),
  ]) {
    const r = checkCreateReport(bad, today);
    assert.equal(r.ok, false, JSON.stringify(bad));
    assert.equal((r as { status: number }).status, 400);
  }
});

test('grains: the finest groupBy wins; placement with ad group is ad group × placement', () => {
  assert.equal(grainOf(['campaign']), 'campaign');
  assert.equal(grainOf(['campaign', 'adGroup']), 'adGroup');
  assert.equal(grainOf(['campaignPlacement']), 'placement');
  assert.equal(grainOf(['adGroup', 'campaignPlacement']), 'adGroupPlacement');
  assert.equal(grainOf(['campaign', 'adGroup', 'targeting']), 'target');
});

test('SUMMARY rows are the sums of the DAILY rows, with no date; attribution windows nest', () => {
  const ds = new Dataset(9, { profiles: 1, campaignsPerProfile: 6 });
  const cfg = (timeUnit: 'DAILY' | 'SUMMARY', columns: string[]) => ({
    adProduct: 'SPONSORED_PRODUCTS',
    reportTypeId: 'spCampaigns',
    groupBy: ['campaign'],
    columns,
    timeUnit,
    format: 'GZIP_JSON',
    filters: null,
  });
  const src = (timeUnit: 'DAILY' | 'SUMMARY', columns: string[]) => ({
    profileIndex: 0,
    startDate: '2026-11-01',
    endDate: '2026-11-07',
    configuration: cfg(timeUnit, columns),
    generationOf: () => FINAL_GENERATION,
  });
  const cols = [
    'campaignId',
    'impressions',
    'clicks',
    'cost',
    'purchases1d',
    'purchases7d',
    'purchases14d',
    'purchases30d',
    'sales7d',
    'purchasesSameSku7d',
  ];
  const daily = [...reportRows(ds, src('DAILY', [...cols, 'date']))];
  const summary = [...reportRows(ds, src('SUMMARY', [...cols, 'startDate', 'endDate']))];
  assert.ok(
    summary.length > 0 &&
      summary.every((r) => !('date' in r) && r.startDate === '2026-11-01' && r.endDate === '2026-11-07'),
  );
  assert.equal(new Set(summary.map((r) => r.campaignId)).size, summary.length, 'one row per campaign');
  const d = totalsOf(daily).sums;
  const s = totalsOf(summary).sums;
  for (const c of ['impressions', 'clicks', 'cost', 'purchases7d', 'sales7d']) assert.equal(s[c], d[c], c);
  for (const r of daily) {
    assert.ok(
      Number(r.purchases1d) <= Number(r.purchases7d) &&
        Number(r.purchases7d) <= Number(r.purchases14d) &&
        Number(r.purchases14d) <= Number(r.purchases30d),
    );
    assert.ok(Number(r.purchasesSameSku7d) <= Number(r.purchases7d));
  }
});

test('a filter keeps only matching rows', () => {
  const ds = new Dataset(9, { profiles: 1, campaignsPerProfile: 20 });
  const rows = (filters: { field: string; values: string[] }[] | null) => [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-01',
      endDate: '2026-11-02',
      configuration: {
        adProduct: 'SPONSORED_PRODUCTS',
        reportTypeId: 'spTargeting',
        groupBy: ['targeting'],
        columns: ['keywordId', 'keywordType', 'impressions', 'date'],
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
        filters,
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const all = rows(null);
  const keywords = rows([{ field: 'keywordType', values: ['BROAD', 'PHRASE', 'EXACT'] }]);
  assert.ok(keywords.length > 0 && keywords.length < all.length);
  assert.ok(keywords.every((r) => ['BROAD', 'PHRASE', 'EXACT'].includes(String(r.keywordType))));
});

test('every report our client asks for is one Amazon accepts, exactly as sent', async () => {
  const { REPORT_TYPE_IDS, REPORT_TYPES } = await import('@adsync/shared/amazon/report-catalog');
  const { reportRequestBody } = await import('@adsync/shared/amazon/reporting');
  for (const t of REPORT_TYPE_IDS) {
    const checked = checkCreateReport(
      reportRequestBody({
        reportTypeId: t,
        startDate: '2026-11-01',
        // A SUMMARY-only type (audio and video) is asked one day at a time.
        endDate: REPORT_TYPES[t]!.timeUnit === 'SUMMARY' ? '2026-11-01' : '2026-11-02',
        // DSP types name their advertisers (Amazon's examples: filters advertiserId).
        advertiserIds: t.startsWith('dsp') ? ['12345678910'] : undefined,
      }),
      '2026-11-24',
    );
    assert.ok(checked.ok, `${t}: ${!checked.ok && checked.detail}`);
  }
});

// The report-type pages, the column dictionary and the Reporting model's own examples decide what
// may be asked (report-contract.ts); every combination of them must be accepted and give rows.
test('every report type, groupBy, time unit and format Amazon documents is accepted and produces data, every column a value of its type', () => {
  const seen = new Set<string>();
  const filterValuesWithRows = new Set<string>();
  const ds = everyGrainDelivering();
  let combinations = 0;
  for (const [id, t] of Object.entries(AMAZON_REPORT_TYPES)) {
    for (const [g, spec] of Object.entries(t.groupBys)) {
      // Inventory needs supplySource or site beside any other groupBy (inventory.md): site, here.
      // reach.md: any other groupBy goes with advertiser.
      const groupBy =
        id === 'dspInventory' && g !== 'supplySource' && g !== 'site'
          ? [g, 'site']
          : id === 'dspReachFrequency' && g !== 'advertiser'
            ? ['advertiser', g]
            : [g];
      const columns = [...new Set([...t.baseColumns, ...groupBy.flatMap((x) => t.groupBys[x]!.columns)])];
      for (const timeUnit of t.timeUnits)
        for (const format of t.formats) {
          const request = {
            name: `${id} by ${g}`,
            startDate: '2026-11-20',
            endDate: '2026-11-23',
            configuration: { adProduct: t.adProduct, reportTypeId: id, groupBy, columns, timeUnit, format },
          };
          const checked = checkCreateReport(request, today);
          assert.ok(checked.ok, `${id} by ${g}, ${timeUnit}, ${format}: ${checked.ok ? '' : checked.detail}`);
          const rows = [
            ...reportRows(ds, {
              profileIndex: 0,
              startDate: request.startDate,
              endDate: request.endDate,
              configuration: checked.request.configuration,
              generationOf: () => FINAL_GENERATION,
            }),
          ];
          assert.ok(rows.length > 0, `${id} by ${g}, ${timeUnit}: rows`);
          for (const col of columns) {
            const at = `${id} by ${g}, ${timeUnit}: ${col}`;
            const enumValues = enumOf(id, col);
            for (const r of rows) {
              const v = r[col];
              assert.notEqual(v, undefined, `${at} is in every row`);
              if (v === null) continue;
              seen.add(col);
              const type = AMAZON_REPORT_COLUMNS[col]?.type;
              if (type === 'Integer' || type === 'Decimal')
                assert.ok(
                  typeof v === 'number' && (type === 'Decimal' || Number.isInteger(v)),
                  `${at} is ${type}: ${String(v)}`,
                );
              if (type === 'String') {
                assert.equal(typeof v, 'string', `${at} is a string`);
                assert.doesNotMatch(String(v), new RegExp(`^${col} \\d+$`), `${at} is a value, not a placeholder`);
              }
              // Amazon's ids are digits; an external id is whatever the advertiser typed; a bid
              // adjustment rule's is a UUID (dsp/bid-adjustments/reports.md: "7ef92d14-****-…").
              if (col === 'bidAdjustmentRuleId')
                assert.match(String(v), /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/, `${at} is a UUID: ${String(v)}`);
              else if (/Id$/.test(col) && !/ExternalId$/.test(col))
                assert.match(String(v), /^\d+$/, `${at} is an id: ${String(v)}`);
              if (enumValues) assert.ok(enumValues.includes(String(v)), `${at}: ${String(v)} is one of ${enumValues}`);
            }
          }
          combinations++;
        }
      // Each documented filter, with each value it documents (any value where it documents none), is accepted,
      // and its values split the unfiltered rows: every row falls under exactly one value.
      for (const f of spec.filters) {
        const values = f.values ?? [String(ds.dspAdvertisers(0)[0]!.advertiserId)];
        const configuration = {
          adProduct: t.adProduct,
          reportTypeId: id,
          groupBy,
          columns,
          timeUnit: t.timeUnits[0],
          format: t.formats[0],
        };
        const run = (filters?: { field: string; values: string[] }[]) => {
          const checked = checkCreateReport(
            { startDate: '2026-11-20', endDate: '2026-11-23', configuration: { ...configuration, filters } },
            today,
          );
          assert.ok(checked.ok, `${id} by ${g} filtered by ${f.field}: ${checked.ok ? '' : checked.detail}`);
          return [...reportRows(ds, { ...window, configuration: checked.request.configuration })].length;
        };
        const all = run();
        const each = values.map((v) => run([{ field: f.field, values: [v] }]));
        assert.equal(
          each.reduce((a, b) => a + b, 0),
          all,
          `${id} by ${g}: the ${f.field} values ${values} split its ${all} rows (${each})`,
        );
        assert.equal(run([{ field: f.field, values }]), all, `${id} by ${g}: every ${f.field} value together`);
        for (const [k, v] of values.entries()) if (each[k]! > 0) filterValuesWithRows.add(`${f.field}=${v}`);
      }
    }
  }
  assert.ok(Object.keys(AMAZON_REPORT_TYPES).length >= 33, 'sponsored ads, DSP and the cross-product types');
  assert.ok(combinations > 150, `${combinations} combinations`);
  // A column no combination ever fills is one the sandbox does not play; only these are empty by nature.
  const empty = [
    ...new Set(
      Object.values(AMAZON_REPORT_TYPES).flatMap((t) => [
        ...t.baseColumns,
        ...Object.values(t.groupBys).flatMap((x) => x.columns),
      ]),
    ),
  ].filter((c) => !seen.has(c));
  assert.deepEqual(empty.sort(), ALWAYS_EMPTY, 'columns never filled');
  // Every enabled-state and targeting-type value Amazon documents as a filter selects some rows.
  for (const want of [
    'keywordType=BROAD',
    'keywordType=PHRASE',
    'keywordType=EXACT',
    'keywordType=TARGETING_EXPRESSION',
    'keywordType=TARGETING_EXPRESSION_PREDEFINED',
    'campaignStatus=ENABLED',
    'adStatus=ENABLED',
    'adKeywordStatus=ENABLED',
    'keywordStatus=ENABLED',
    'adCreativeStatus=ENABLED',
  ])
    assert.ok(filterValuesWithRows.has(want), `some rows for ${want}`);
});

/** Enough entities that every grain has some delivering (an entity delivers only with its parents enabled). */
const everyGrainDelivering = () =>
  new Dataset(31, {
    profiles: 1,
    campaignsPerProfile: 12,
    sbCampaignsPerProfile: 8,
    sdCampaignsPerProfile: 8,
    stCampaignsPerProfile: 6,
  });

const window = {
  profileIndex: 0,
  startDate: '2026-11-20',
  endDate: '2026-11-23',
  generationOf: () => FINAL_GENERATION,
};

/** The values a column takes where a filter on it documents them (status and targeting-type columns). */
function enumOf(reportTypeId: string, col: string): string[] | null {
  const t = AMAZON_REPORT_TYPES[reportTypeId]!;
  const listed = Object.values(t.groupBys).flatMap((g) => g.filters.filter((f) => f.field === col && f.values));
  return listed.length ? [...new Set(listed.flatMap((f) => f.values!))] : null;
}

/** Columns empty in every sandbox row, each for its reason. */
const ALWAYS_EMPTY: string[] = [];

test('a DSP report is scoped to the advertiser its filter names', () => {
  const ds = new Dataset(31, { profiles: 1 });
  const advertiserId = ds.dspAdvertisers(0)[0]!.advertiserId;
  const rows = (values: string[]) => [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-20',
      endDate: '2026-11-21',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId: 'dspCampaign',
        groupBy: ['creative'],
        columns: ['advertiserId', 'orderId', 'lineItemId', 'creativeId', 'impressions', 'totalCost', 'date'],
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
        filters: [{ field: 'advertiserId', values }],
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const mine = rows([advertiserId]);
  // Two orders × two line items × two creatives, each day.
  assert.equal(mine.length, 16);
  assert.equal(new Set(mine.map((r) => r.creativeId)).size, 8);
  assert.ok(mine.every((r) => r.advertiserId === advertiserId && typeof r.totalCost === 'number'));
  assert.deepEqual(rows(['12345678910']), [], "another advertiser's filter gives no rows");
});

test("every request example in Amazon's Reporting model is accepted and gives rows (its DSP advertiser read as the sandbox's)", async () => {
  const { operationById } = await import('@adsync/amazon-models/operations');
  const examples = operationById('OfflineReport', 'createAsyncReport')!.requestBody!.examples;
  assert.ok(examples.length >= 30, `${examples.length} examples`);
  const ds = everyGrainDelivering();
  // The examples name advertiser 12345678910; the sandbox's advertiser stands in for it, as ids do.
  const advertiser = ds.dspAdvertisers(0)[0]!.advertiserId;
  for (const ex of examples) {
    const value = structuredClone(ex.value) as { configuration: { filters?: { field: string; values: string[] }[] } };
    for (const f of value.configuration.filters ?? []) if (f.field === 'advertiserId') f.values = [advertiser];
    const request = { ...value, startDate: '2026-11-20', endDate: '2026-11-23' };
    const checked = checkCreateReport(request, today);
    assert.ok(checked.ok, `${ex.name}: ${checked.ok ? '' : checked.detail}`);
    const rows = [...reportRows(ds, { ...window, configuration: checked.request.configuration })];
    assert.ok(rows.length > 0, `${ex.name} gives rows`);
  }
});

/** A daily DSP report request with these groupBys and columns, as the sandbox checks it. */
const askDsp = (reportTypeId: string, groupBy: string[], columns: string[]) =>
  checkCreateReport(
    {
      startDate: '2026-11-20',
      endDate: '2026-11-21',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId,
        groupBy,
        columns,
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
      },
    },
    today,
  );

test('inventory is refused without supplySource or site among its groupBys, and placementSize without site', () => {
  // inventory.md: "either supplySource or site is required"; columns.md: placementSize "only
  // available when 'site' is a dimension".
  const ask = (groupBy: string[]) => askDsp('dspInventory', groupBy, ['impressions']);
  for (const [groupBy, problem] of [
    [['campaign', 'ad', 'deal'], /must include supplySource or site/],
    [['supplySource', 'placementSize'], /placementSize needs site/],
  ] as const) {
    const r = ask([...groupBy]);
    assert.ok(!r.ok && r.status === 400 && problem.test(r.detail), `${groupBy.join('+')}: ${JSON.stringify(r)}`);
  }
  for (const groupBy of [['supplySource', 'deal'], ['site'], ['supplySource', 'site', 'placementSize', 'placement']])
    assert.ok(ask(groupBy).ok, groupBy.join('+'));
});

test('reach and frequency takes only the three groupBy sets its page lists', () => {
  // reach.md: ["advertiser"] or ["advertiser", "supplySource"] or ["advertiser", "frequencyGroup"].
  const ask = (groupBy: string[]) =>
    askDsp('dspReachFrequency', groupBy, ['advertiserId', 'reach', 'frequencyAverage']);
  for (const groupBy of [['advertiser'], ['advertiser', 'supplySource'], ['frequencyGroup', 'advertiser']])
    assert.ok(ask(groupBy).ok, groupBy.join('+'));
  for (const groupBy of [['supplySource'], ['frequencyGroup'], ['advertiser', 'supplySource', 'frequencyGroup']]) {
    const r = ask(groupBy);
    assert.ok(
      !r.ok && r.status === 400 && /must be advertiser/.test(r.detail),
      `${groupBy.join('+')}: ${JSON.stringify(r)}`,
    );
  }
});

test('DSP reach and frequency as the reach guide describes them: of people, never above the impressions, not added over days', () => {
  // en-us/guides/reporting/v3/report-types/reach.md: dspReachFrequency, DAILY or SUMMARY, groupBy advertiser.
  const ds = new Dataset(31, { profiles: 1 });
  const advertiserId = ds.dspAdvertisers(0)[0]!.advertiserId;
  const rowsOf = (reportTypeId: string, groupBy: string[], timeUnit: 'DAILY' | 'SUMMARY', columns: string[]) => [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-18',
      endDate: '2026-11-21',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId,
        groupBy,
        columns,
        timeUnit,
        format: 'GZIP_JSON',
        filters: [{ field: 'advertiserId', values: [advertiserId] }],
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const rows = (timeUnit: 'DAILY' | 'SUMMARY', columns: string[]) =>
    rowsOf('dspReachFrequency', ['advertiser'], timeUnit, columns);
  // dspCampaign offers impressions beside reach; per row and day, the people are at most the impressions.
  const campaign = rowsOf('dspCampaign', ['campaign'], 'DAILY', [
    'date',
    'orderId',
    'impressions',
    'reach',
    'householdReach',
    'frequencyAverage',
  ]);
  assert.ok(campaign.length > 0);
  for (const r of campaign) {
    const [imp, reach, households, freq] = [r.impressions, r.reach, r.householdReach, r.frequencyAverage] as number[];
    assert.ok(reach! >= 1 && reach! <= imp!, `reach ${reach} of ${imp} impressions`);
    assert.ok(households! <= reach!, 'households are fewer than people');
    assert.equal(freq, Math.round((imp! / reach!) * 10_000) / 10_000, 'frequency is impressions over reach');
    assert.ok(freq! >= 1);
  }
  const daily = rows('DAILY', ['date', 'advertiserId', 'reach', 'frequencyAverage']);
  assert.equal(daily.length, 4);
  const [summary] = rows('SUMMARY', ['advertiserId', 'reach', 'frequencyAverage']);
  const reaches = daily.map((r) => r.reach as number);
  const sum = reaches.reduce((a, b) => a + b, 0);
  // A person reached on two days is one: the period's reach lies between its largest day and the days' sum.
  assert.ok(
    (summary!.reach as number) >= Math.max(...reaches) && (summary!.reach as number) < sum,
    `${summary!.reach} of ${reaches}`,
  );
  assert.ok((summary!.frequencyAverage as number) > Math.min(...daily.map((r) => r.frequencyAverage as number)));
});

test('a breakdown gives each value one row: members whose every column repeats another are that member', () => {
  // The sandbox's environments are App, Web, App: under one line item and day Amazon gives App once.
  const ds = new Dataset(31, { profiles: 1 });
  const advertiserId = ds.dspAdvertisers(0)[0]!.advertiserId;
  const rows = [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-20',
      endDate: '2026-11-20',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId: 'dspTech',
        groupBy: ['lineItem', 'environmentType'],
        columns: ['date', 'lineItemId', 'environmentName', 'impressions'],
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
        filters: [{ field: 'advertiserId', values: [advertiserId] }],
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const keys = rows.map((r) => `${String(r.lineItemId)}|${String(r.environmentName)}`);
  assert.equal(new Set(keys).size, keys.length, keys.join(' '));
  assert.deepEqual([...new Set(rows.map((r) => r.environmentName))].sort(), ['App', 'Web']);
});

test('DSP bid adjustments as their guides describe them: adjusted line items only, a row per rule and matched terms', () => {
  // report-types/bid-adjustment.md: at least one of its two groupBys; only line items with bid
  // adjustments; matchedTerms adds the terms, their ids, the factor and match rate.
  // dsp/bid-adjustments/reports.md: bids are bid responses, win rate is won over bids, match rates
  // of a rule's terms add up to at most one, and the default traffic has no ids and no factor.
  assert.match(
    (askDsp('dspBidAdjustment', [], ['bids']) as { detail: string }).detail,
    /Required fields are invalid or missing: configuration groupBy/,
  );
  assert.match(
    (askDsp('dspBidAdjustment', ['lineItem'], ['bids']) as { detail: string }).detail,
    /Allowed values: \(bidAdjustmentRule, bidAdjustmentMatchedTerms\)/,
  );
  const ds = new Dataset(31, { profiles: 1 });
  const advertiser = ds.dspAdvertisers(0)[0]!;
  const columns = [
    'date',
    'lineItemId',
    'bidAdjustmentRuleId',
    'bidAdjustmentMatchedTermIds',
    'bidAdjustmentMatchedTerms',
    'bidAdjustment',
    'matchRate',
    'bids',
    'winRate',
  ];
  const rows = [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-20',
      endDate: '2026-11-21',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId: 'dspBidAdjustment',
        groupBy: ['bidAdjustmentMatchedTerms'],
        columns,
        timeUnit: 'DAILY',
        format: 'CSV',
        filters: [{ field: 'advertiserId', values: [advertiser.advertiserId] }],
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const all = advertiser.orders.flatMap((o) => o.lineItems.map((l) => l.lineItemId));
  const reported = new Set(rows.map((r) => r.lineItemId));
  assert.ok(reported.size > 0 && reported.size < all.length, `${reported.size} of ${all.length} line items adjusted`);
  const keys = rows.map((r) => `${String(r.date)}|${String(r.lineItemId)}|${String(r.bidAdjustmentMatchedTermIds)}`);
  assert.equal(new Set(keys).size, keys.length, 'a row per day, line item and matched terms');
  for (const r of rows) {
    const [bids, win] = [r.bids, r.winRate] as number[];
    assert.ok(Number.isInteger(bids) && bids! > 0 && win! > 0 && win! <= 1, `${bids} bids, win rate ${win}`);
    assert.match(String(r.bidAdjustmentRuleId), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    if (r.bidAdjustmentMatchedTermIds === '[]') {
      assert.equal(r.bidAdjustmentMatchedTerms, 'Default traffic (no adjustments)');
      assert.equal(r.bidAdjustment, null);
    } else assert.ok((r.bidAdjustment as number) > 0 && (r.bidAdjustment as number) <= 10);
  }
  const byRule = new Map<string, number>();
  for (const r of rows) {
    const k = `${String(r.date)}|${String(r.lineItemId)}|${String(r.bidAdjustmentRuleId)}`;
    byRule.set(k, (byRule.get(k) ?? 0) + (r.matchRate as number));
  }
  // A line item's matched terms share its rule: three rows per line item and day, their shares adding up to one.
  assert.equal(byRule.size * 3, rows.length);
  for (const [k, share] of byRule) assert.ok(Math.abs(share - 1) < 1e-9, `${k}: match rates add up to ${share}`);
  // Grouped by rule as well: each rule its own id; a SUMMARY has no match rate (DAILY only).
  const summary = [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-20',
      endDate: '2026-11-21',
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId: 'dspBidAdjustment',
        groupBy: ['bidAdjustmentRule', 'bidAdjustmentMatchedTerms'],
        columns: columns.filter((c) => c !== 'date'),
        timeUnit: 'SUMMARY',
        format: 'CSV',
        filters: [{ field: 'advertiserId', values: [advertiser.advertiserId] }],
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  assert.equal(summary.length, reported.size * 9, 'three rules of three matched terms per line item');
  assert.ok(summary.every((r) => r.matchRate === null));
  const rules = new Set(summary.map((r) => `${String(r.lineItemId)}|${String(r.bidAdjustmentRuleId)}`));
  assert.equal(rules.size, reported.size * 3);
});

test('restateAwayEvery: a later pull leaves out one row in n of the first pull, and no other', () => {
  const ds = new Dataset(9, { profiles: 1, campaignsPerProfile: 20 });
  const rows = (generation: number, restateAwayEvery: number, timeUnit: 'DAILY' | 'SUMMARY' = 'DAILY') => [
    ...reportRows(ds, {
      profileIndex: 0,
      startDate: '2026-11-01',
      endDate: '2026-11-03',
      configuration: {
        adProduct: 'SPONSORED_PRODUCTS',
        reportTypeId: 'spTargeting',
        groupBy: ['targeting'],
        columns: timeUnit === 'DAILY' ? ['keywordId', 'impressions', 'date'] : ['keywordId', 'impressions'],
        timeUnit,
        format: 'GZIP_JSON',
        filters: null,
      },
      generationOf: () => generation,
      restateAwayEvery,
    }),
  ];
  const key = (r: Record<string, unknown>) => `${r.keywordId}|${r.date}`;
  const first = rows(0, 3);
  assert.deepEqual(first, rows(0, 0), 'the first pull has every row');
  const later = rows(1, 3);
  const kept = new Set(later.map(key));
  assert.ok(later.length < first.length, `${first.length} → ${later.length} rows`);
  assert.ok(later.length > first.length / 2, 'about one in three leaves');
  assert.ok(
    [...kept].every((k) => first.some((r) => key(r) === k)),
    'no row appears that was not there',
  );
  assert.deepEqual(
    later,
    rows(1, 0).filter((r) => kept.has(key(r))),
    'the rows kept are as without the knob',
  );
  assert.deepEqual(rows(2, 3).map(key), later.map(key), 'the same rows stay away at every later pull');
  // A SUMMARY leaves out the days restated away from its sums.
  const sum = (rs: Record<string, unknown>[]) => rs.reduce((t, r) => t + Number(r.impressions), 0);
  assert.ok(sum(rows(1, 3, 'SUMMARY')) < sum(rows(1, 0, 'SUMMARY')));
});
