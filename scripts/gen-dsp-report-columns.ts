/**
 * Writes what adsync asks of each DSP report type, from Amazon's report-type pages and
 * column dictionary (the copies in packages/sandbox/src/amazon/contract/, with their
 * source pages named there): packages/shared/src/amazon/dsp-report-columns.ts and the
 * ClickHouse table that holds every measure (migrations/clickhouse/0010_dsp_metrics, with the
 * columns 0011 and 0013 add).
 *
 * Amazon's dictionary types a column Integer, Decimal or String; what is a measure is decided
 * here, once: counts (Integer), and money (Decimal fees, costs, sales and value sums). Rates and
 * averages are not summable over days or rows and are not asked for (dashboards recompute the
 * rates from their parts). Reach and frequency are the exception: no part gives them back, so
 * they are kept as the report states them for its row (reach as a count, frequencies and reach
 * rates in millionths), never to be summed across rows. Decimal columns that are neither money
 * nor counts (hours, progressions) are left out.
 *
 *   node scripts/gen-dsp-report-columns.ts          write the files
 *   node scripts/gen-dsp-report-columns.ts --check  exit 1 if any is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const read = (p: string) => JSON.parse(readFileSync(new URL(p, root), 'utf8'));
const types: Record<
  string,
  { baseColumns: string[]; dictionaryColumns?: string[]; groupBys: Record<string, { columns: string[] }> }
> = read('packages/sandbox/src/amazon/contract/reporting-v3.json').reportTypes;
const dictionary: Record<string, { type: string | null }> = read(
  'packages/sandbox/src/amazon/contract/reporting-v3-columns.json',
).columns;

/**
 * The groupBys asked for each type: every entity level the type offers (its finest one keys
 * the row) and the breakdowns analysts read it by. Amazon's own examples use the same
 * groupBys (OfflineReport_prod_3p examples DSP*SummaryReport).
 */
export const GROUP_BYS: Record<string, string[]> = {
  dspCampaign: ['campaign', 'ad', 'creative'],
  // Reach and frequency (guide reach.md): per advertiser, and apart by supply source and by frequency group.
  dspReachFrequency: ['advertiser'],
  dspReachFrequencyBySupplySource: ['advertiser', 'supplySource'],
  dspReachFrequencyByFrequencyGroup: ['advertiser', 'frequencyGroup'],
  dspAudience: ['order', 'lineItem'],
  dspAudioAndVideo: ['campaign', 'ad', 'creative', 'supplySource', 'content'],
  dspGeo: ['order', 'lineItem', 'country'],
  dspInventory: ['campaign', 'ad', 'supplySource', 'site'],
  dspProduct: ['order', 'lineItem'],
  dspTech: ['order', 'lineItem', 'deviceType', 'operatingSystem'],
  // More breakdowns the pages document, one report each (a row per line item and value). A
  // region, city or postal code is only one with its country (Limburg is in two, Springfield in
  // many); inventory needs supplySource or site among its groupBys, placementSize needs site
  // (inventory.md, columns.md).
  dspGeoByRegion: ['order', 'lineItem', 'country', 'region'],
  dspGeoByCity: ['order', 'lineItem', 'country', 'region', 'city'],
  dspGeoByPostalCode: ['order', 'lineItem', 'country', 'postalCode'],
  dspGeoByDma: ['order', 'lineItem', 'dma'],
  dspInventoryByPlacement: ['campaign', 'ad', 'supplySource', 'site', 'placementSize', 'placement'],
  dspInventoryByDeal: ['campaign', 'ad', 'supplySource', 'deal'],
  dspTechByBrowser: ['order', 'lineItem', 'browserType', 'browserVersion'],
  dspTechByEnvironment: ['order', 'lineItem', 'environmentType'],
  // Bid adjustments (guide bid-adjustment.md): by matched terms, which Amazon groups at advertiser,
  // order, line item, rule and matched terms (the finest grain; its DAILY sample asks exactly this).
  dspBidAdjustment: ['bidAdjustmentMatchedTerms'],
};

/** Ours that are one Amazon type asked with other groupBys. */
const AMAZON_TYPE: Record<string, string> = {
  dspReachFrequencyBySupplySource: 'dspReachFrequency',
  dspReachFrequencyByFrequencyGroup: 'dspReachFrequency',
  dspGeoByRegion: 'dspGeo',
  dspGeoByCity: 'dspGeo',
  dspGeoByPostalCode: 'dspGeo',
  dspGeoByDma: 'dspGeo',
  dspInventoryByPlacement: 'dspInventory',
  dspInventoryByDeal: 'dspInventory',
  dspTechByBrowser: 'dspTech',
  dspTechByEnvironment: 'dspTech',
};

/** Describing columns columns.md types Integer: a placement's size is what a row is for, not a count. */
const INTEGER_DIMENSIONS = new Set(['placementSize']);

/** The breakdown columns dsp_metrics_daily gained after 0010 (0011), each filled from a report column. */
const BREAKDOWN_COLUMNS: [string, string][] = [
  ['frequency_group', 'frequencyGroupName'],
  ['region', 'region'],
  ['city', 'city'],
  ['postal_code', 'postalCode'],
  ['dma_code', 'dmaCode'],
  ['dma_name', 'dmaName'],
  ['placement', 'placement'],
  ['placement_size', 'placementSize'],
  ['deal_id', 'dealId'],
  ['deal', 'deal'],
  ['deal_type', 'dealType'],
  ['browser', 'browserName'],
  ['browser_version', 'browserVersion'],
  ['environment', 'environmentName'],
];

/** The bid adjustment columns dsp_metrics_daily gained in 0013, each filled from a report column. */
const BID_ADJUSTMENT_COLUMNS: [string, string][] = [
  ['bid_adjustment_rule_id', 'bidAdjustmentRuleId'],
  ['bid_adjustment_rule', 'bidAdjustmentRule'],
  ['bid_adjustment_matched_term_ids', 'bidAdjustmentMatchedTermIds'],
  ['bid_adjustment_matched_terms', 'bidAdjustmentMatchedTerms'],
];

/**
 * Bid adjustments as stated per row (guide dsp/bid-adjustments/reports.md): bids are counts of
 * bid responses and sum over days; win and match rates are the row's own shares, and
 * bidAdjustment the factor applied (empty for default traffic): decimals kept in millionths.
 */
const BID_COUNTS = new Set(['bids']);
const BID_DECIMALS = new Set(['winRate', 'matchRate', 'bidAdjustment']);
/** Bid adjustments: added to the table by 0013. */
const isBidFamily = (c: string) => BID_COUNTS.has(c) || BID_DECIMALS.has(c);

/** Reach and frequency as stated per row: counts, and decimals kept in millionths. */
const REACH_COUNTS = new Set(['reach', 'householdReach']);
const REACH_DECIMALS = new Set([
  'frequencyAverage',
  'impressionFrequencyAverage',
  'householdFrequencyAverage',
  'amazonExclusiveReachRate',
]);
/** Reach and frequency: added to the table after migration 0010 made it (0011 adds their columns). */
const isReachFamily = (c: string) => REACH_COUNTS.has(c) || REACH_DECIMALS.has(c);

/** Not summable: ratios, averages, per-unit costs, reach and frequency. */
const NOT_ADDITIVE =
  /Rate$|Rate[A-Z]|CVR|ROAS|roas|^eC|ECP|ERPM|eRPM|CPM|CPC|CPA|CostPer|Average|average|Percent|Share|Index|PerThousand|[Rr]each|[Ff]requency|^ctr|CTR|[Ww]eight$/;
/** Decimal columns that are amounts of money. */
const MONEY = /^3[pP]|Fees?$|Absorbed$|Cost$|^sales|Sales$|ValueSum$/;
/** Dictionary entries typed String that are counts (left out: neither a dimension nor a known measure). */
const MISTYPED = new Set(['kindleDetailPageView']);

export function columnsOf(reportTypeId: string) {
  const t = types[AMAZON_TYPE[reportTypeId] ?? reportTypeId];
  if (!t) throw new Error(`Amazon's catalogue has no ${reportTypeId}`);
  const groupBy = GROUP_BYS[reportTypeId]!;
  const all = [
    ...new Set([
      ...t.baseColumns,
      ...(t.dictionaryColumns ?? []),
      ...groupBy.flatMap((g) => t.groupBys[g]?.columns ?? []),
    ]),
  ];
  const dimensions: string[] = [];
  const measures: string[] = [];
  const money: string[] = [];
  const millionths: string[] = [];
  for (const c of all) {
    const type = dictionary[c]?.type ?? null;
    // columns.md gives bids no type: the guide's "counts of bid responses".
    if ((REACH_COUNTS.has(c) && type === 'Integer') || BID_COUNTS.has(c)) {
      measures.push(c);
      continue;
    }
    if ((REACH_DECIMALS.has(c) || BID_DECIMALS.has(c)) && type === 'Decimal') {
      measures.push(c);
      millionths.push(c);
      continue;
    }
    // A frequency group is what a reach row is for, not a frequency.
    if (c === 'frequencyGroupId' || c === 'frequencyGroupName' || INTEGER_DIMENSIONS.has(c)) {
      dimensions.push(c);
      continue;
    }
    // startDate and endDate restate the report's window (bid-adjustment.md): date says each row's day.
    if (c === 'date' || c === 'startDate' || c === 'endDate' || MISTYPED.has(c) || NOT_ADDITIVE.test(c)) continue;
    // Ids are dimensions whatever their type (supplySourceId is typed Integer).
    if (/Ids?$/.test(c)) dimensions.push(c);
    // columns.md types some sales Integer (combinedProductSales, salesBrandHalo): money all the same.
    else if ((type === 'Integer' || type === 'Decimal') && /Sales|Fee/.test(c)) {
      measures.push(c);
      money.push(c);
    } else if (type === 'Integer') measures.push(c);
    else if (type === 'Decimal') {
      // Budgets describe an order or line item; they are not spent per day.
      if (/Budget$/.test(c)) dimensions.push(c);
      else if (MONEY.test(c)) {
        measures.push(c);
        money.push(c);
      }
    } else dimensions.push(c);
  }
  return {
    groupBy,
    dimensions: dimensions.sort(),
    measures: measures.sort(),
    money: money.sort(),
    millionths: millionths.sort(),
  };
}

/** measureColumn of report-catalog.ts, repeated so this script stands alone (a test holds them equal). */
function column(measure: string, kind: 'count' | 'money' | 'millionths'): string {
  const snake = measure
    .replace(/^3[pP]/, 'thirdParty')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/([a-zA-Z])(\d)/g, '$1_$2')
    .replace(/(\d)([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z]{2})/g, '$1_$2')
    .toLowerCase();
  return kind === 'money' ? `${snake}_micros` : kind === 'millionths' ? `${snake}_millionths` : snake;
}

const kindOf = (c: { money: string[]; millionths: string[] }, m: string) =>
  c.money.includes(m) ? 'money' : c.millionths.includes(m) ? 'millionths' : 'count';

function render(): {
  ts: string;
  up: string;
  down: string;
  columnsUp: string;
  columnsDown: string;
  creativeKeysUp: string;
  bidUp: string;
  bidDown: string;
} {
  const entries = Object.keys(GROUP_BYS).map((id) => [id, columnsOf(id)] as const);
  const list = (xs: string[], indent: number) =>
    xs.length ? `[\n${xs.map((x) => `${' '.repeat(indent + 2)}'${x}',`).join('\n')}\n${' '.repeat(indent)}]` : '[]';
  const byId = new Map(entries);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  /** The type whose measures another groupBy of it repeats, if they are the same. */
  const sameMeasuresAs = (id: string): string | undefined => {
    const base = AMAZON_TYPE[id];
    const c = byId.get(id)!;
    const b = base === undefined ? undefined : byId.get(base);
    return b && same(b.measures, c.measures) && same(b.money, c.money) && same(b.millionths, c.millionths)
      ? base
      : undefined;
  };
  const ts = `/**
 * What adsync asks of each DSP report type: groupBys, the describing columns, and every
 * measure that sums (counts; money), with reach and frequency as each row states them.
 * Generated by scripts/gen-dsp-report-columns.ts from Amazon's report-type pages and column
 * dictionary; do not edit by hand.
 */
export interface DspReportColumns {
  groupBy: string[];
  dimensions: string[];
  measures: string[];
  money: string[];
  /** Decimals that are not money (frequencies, reach rates), stored in millionths. */
  millionths: string[];
}

${entries
  .filter(([id]) => !sameMeasuresAs(id))
  .map(
    ([id, c]) => `const ${id}: DspReportColumns = {
  groupBy: [${c.groupBy.map((g) => `'${g}'`).join(', ')}],
  dimensions: ${list(c.dimensions, 2)},
  measures: ${list(c.measures, 2)},
  money: ${list(c.money, 2)},
  millionths: ${list(c.millionths, 2)},
};
`,
  )
  .join('\n')}
/** dsp_metrics_daily's breakdown columns added by migrations 0011 and 0013, and the report column each holds. */
export const DSP_BREAKDOWN_COLUMNS: readonly (readonly [column: string, reportColumn: string])[] = [
${[...BREAKDOWN_COLUMNS, ...BID_ADJUSTMENT_COLUMNS].map(([c, r]) => `  ['${c}', '${r}'],`).join('\n')}
];

/** By our report type; a type's other groupBys measure what it does. */
export const DSP_REPORT_COLUMNS: Record<string, DspReportColumns> = {
${entries
  .map(([id, c]) => {
    const base = sameMeasuresAs(id);
    if (!base) return `  ${id},`;
    return `  ${id}: {
    ...${base},
    groupBy: [${c.groupBy.map((g) => `'${g}'`).join(', ')}],
    dimensions: ${list(c.dimensions, 4)},
  },`;
  })
  .join('\n')}
};
`;
  // 0010 made the table with the seven types' columns; 0011 adds reach and frequency, and the
  // breakdowns of the types asked again by other groupBys (whose measures 0010 already has).
  // 0013 adds the bid adjustment report's columns.
  const first = (id: string) => !AMAZON_TYPE[id] && id !== 'dspReachFrequency' && id !== 'dspBidAdjustment';
  const cols = new Set<string>();
  const reachCols = new Map<string, 'count' | 'millionths'>();
  const bidCols = new Map<string, 'count' | 'millionths'>();
  for (const [id, c] of entries)
    for (const m of c.measures)
      if (first(id) && !isReachFamily(m) && !isBidFamily(m)) cols.add(column(m, kindOf(c, m)));
  for (const [id, c] of entries)
    for (const m of c.measures) {
      const kind = kindOf(c, m);
      if (isReachFamily(m)) reachCols.set(column(m, kind), kind === 'millionths' ? 'millionths' : 'count');
      else if (isBidFamily(m)) bidCols.set(column(m, kind), kind === 'millionths' ? 'millionths' : 'count');
      else if (!cols.has(column(m, kind)))
        throw new Error(`${id}: ${m} would need a column 0010 lacks (add it in a new migration)`);
    }
  // Columns the table has whatever the type (the headline ones), named like the measures they hold.
  const fixed = new Set(['impressions', 'clicks', 'cost_micros', 'sales_micros', 'orders', 'units']);
  const measureCols = [...cols].filter((c) => !fixed.has(c)).sort();
  const reach = [...reachCols].sort(([a], [b]) => (a < b ? -1 : 1));
  const bid = [...bidCols].sort(([a], [b]) => (a < b ? -1 : 1));
  const up = `-- Amazon DSP metrics, one row per report type, day and row key (the finest entity the report
-- groups by: advertiser, order, line item or creative; then the values of its breakdowns such
-- as country, supply source and site, device, audience segment or ASIN). ReplacingMergeTree by
-- the pull time like ads_metrics_daily: a newer pull of a restated day replaces the older row.
-- Every summable measure has its own column (counts; money in micros): generated with
-- packages/shared/src/amazon/dsp-report-columns.ts by scripts/gen-dsp-report-columns.ts.
-- statement
CREATE TABLE IF NOT EXISTS dsp_metrics_daily
(
    profile_id String,
    advertiser_id String,
    report_type String,
    entity_level String,
    row_key String,
    date Date,
    order_id String,
    line_item_id String,
    creative_id String,
    supply_source String,
    site String,
    country String,
    device String,
    operating_system String,
    segment_id String,
    asin String,
    content_title String,
    currency String,
    impressions Int64,
    clicks Int64,
    cost_micros Int64,
    sales_micros Int64,
    orders Int64,
    units Int64,
${measureCols.map((c) => `    ${c} Int64 DEFAULT 0,`).join('\n')}
    attributes String,
    pending_report_id String,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, advertiser_id, report_type, date, entity_level, row_key)
`;
  const down = `DROP TABLE IF EXISTS dsp_metrics_daily\n`;
  // Each decimal beside a readable alias in its own units (reach itself is a count).
  const columnsUp = `-- What dsp_metrics_daily gained after 0010. Reach and frequency (guide reach.md and the
-- dspCampaign page): the report's value for its row, never summed across rows or days;
-- frequencies and reach rates are decimals, kept exactly in millionths, each with an alias in its
-- own units. And the breakdowns the geo, inventory, tech and reach pages document beyond those
-- 0010 holds (region, city, postal code, DMA; placement, deal; browser, environment; frequency
-- group). Generated by scripts/gen-dsp-report-columns.ts.
-- statement
ALTER TABLE dsp_metrics_daily
${BREAKDOWN_COLUMNS.map(([c]) => `    ADD COLUMN ${c} String DEFAULT '',`).join('\n')}
${reach.map(([c]) => `    ADD COLUMN ${c} Int64 DEFAULT 0`).join(',\n')}
-- statement
ALTER TABLE dsp_metrics_daily
${reach
  .filter(([, kind]) => kind === 'millionths')
  .map(([c]) => `    ADD COLUMN ${c.replace(/_millionths$/, '')} Float64 ALIAS ${c} / 1000000`)
  .join(',\n')}
`;
  const columnsDown = `ALTER TABLE dsp_metrics_daily
${[
  ...BREAKDOWN_COLUMNS.map(([c]) => c),
  ...reach.flatMap(([c, kind]) => (kind === 'millionths' ? [c.replace(/_millionths$/, ''), c] : [c])),
]
  .map((c) => `    DROP COLUMN ${c}`)
  .join(',\n')}
`;
  // Every stored column after 0011 (aliases aside), in a statement that re-keys rows.
  const head = `profile_id advertiser_id report_type entity_level row_key date order_id line_item_id creative_id
    supply_source site country device operating_system segment_id asin content_title currency impressions clicks
    cost_micros sales_micros orders units`.split(/\s+/);
  const stored = [
    ...head,
    ...measureCols,
    'attributes',
    'pending_report_id',
    'pulled_at',
    'version',
    ...BREAKDOWN_COLUMNS.map(([c]) => c),
    ...reach.map(([c]) => c),
  ];
  const rekey = (type: string, pipes: number) => `-- statement
INSERT INTO dsp_metrics_daily (${stored.join(', ')})
SELECT ${stored.map((c) => (c === 'row_key' ? "concat(row_key, '|', line_item_id)" : c)).join(', ')}
FROM dsp_metrics_daily FINAL
WHERE report_type = '${type}' AND length(row_key) - length(replaceAll(row_key, '|', '')) = ${pipes}
-- statement
ALTER TABLE dsp_metrics_daily DELETE
WHERE report_type = '${type}' AND length(row_key) - length(replaceAll(row_key, '|', '')) = ${pipes}
`;
  const creativeKeysUp = `-- A creative can serve several line items, and Amazon reports a row for each: dspCampaign and
-- dspAudioAndVideo rows are keyed by creative, then (since this migration) their line item.
-- Rows stored before are written again under the new key, then the old ones are deleted (a
-- mutation: ClickHouse applies it in the background, so for a short while both are there).
-- Generated by scripts/gen-dsp-report-columns.ts.
${rekey('dspCampaign', 0)}${rekey('dspAudioAndVideo', 3)}`;
  // No down: two line items' rows of one creative cannot be told apart again.
  const bidUp = `-- The bid adjustment report (guide reporting/v3/report-types/bid-adjustment.md and
-- dsp/bid-adjustments/reports.md): a row per line item, rule and matched terms. Its rule and terms
-- as columns; bids, a count of bid responses, sums over days; win rate, match rate and the
-- adjustment factor are the row's own (never summed), decimals kept exactly in millionths, each
-- with an alias in its own units. Generated by scripts/gen-dsp-report-columns.ts.
-- statement
ALTER TABLE dsp_metrics_daily
${BID_ADJUSTMENT_COLUMNS.map(([c]) => `    ADD COLUMN ${c} String DEFAULT '',`).join('\n')}
${bid.map(([c]) => `    ADD COLUMN ${c} Int64 DEFAULT 0`).join(',\n')}
-- statement
ALTER TABLE dsp_metrics_daily
${bid
  .filter(([, kind]) => kind === 'millionths')
  .map(([c]) => `    ADD COLUMN ${c.replace(/_millionths$/, '')} Float64 ALIAS ${c} / 1000000`)
  .join(',\n')}
`;
  const bidDown = `ALTER TABLE dsp_metrics_daily
${[
  ...BID_ADJUSTMENT_COLUMNS.map(([c]) => c),
  ...bid.flatMap(([c, kind]) => (kind === 'millionths' ? [c.replace(/_millionths$/, ''), c] : [c])),
]
  .map((c) => `    DROP COLUMN ${c}`)
  .join(',\n')}
`;
  return { ts, up, down, columnsUp, columnsDown, creativeKeysUp, bidUp, bidDown };
}

const out = render();
const files: [string, string][] = [
  ['packages/shared/src/amazon/dsp-report-columns.ts', out.ts],
  ['packages/shared/migrations/clickhouse/0010_dsp_metrics.up.sql', out.up],
  ['packages/shared/migrations/clickhouse/0010_dsp_metrics.down.sql', out.down],
  ['packages/shared/migrations/clickhouse/0011_dsp_columns.up.sql', out.columnsUp],
  ['packages/shared/migrations/clickhouse/0011_dsp_columns.down.sql', out.columnsDown],
  ['packages/shared/migrations/clickhouse/0012_dsp_creative_keys.up.sql', out.creativeKeysUp],
  ['packages/shared/migrations/clickhouse/0013_dsp_bid_adjustments.up.sql', out.bidUp],
  ['packages/shared/migrations/clickhouse/0013_dsp_bid_adjustments.down.sql', out.bidDown],
];
if (process.argv.includes('--check')) {
  const stale = files.filter(([p, text]) => {
    try {
      return readFileSync(new URL(p, root), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  for (const [p] of stale) console.error(`${p} is stale: run node scripts/gen-dsp-report-columns.ts`);
  process.exit(stale.length ? 1 : 0);
}
for (const [p, text] of files) writeFileSync(new URL(p, root), text);
console.log(`wrote ${files.map(([p]) => p).join(', ')}`);
