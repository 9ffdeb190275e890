/**
 * A report row (Reporting API v3, GZIP_JSON) → our MetricRow. Pure. Ids become
 * strings (reports send numbers where the entity API sends strings), money becomes
 * integer micros at the currency's minor unit, every additive metric the report type
 * carries is kept under its ClickHouse column (each attribution window), and the row is
 * keyed by what it describes: an entity, an advertised × purchased ASIN, or (gross and
 * invalid traffic) a campaign by name. A row that cannot be trusted is refused with the reason.
 */
import type { MetricRow } from '@adsync/shared/events/contracts';
import {
  REPORT_TYPES,
  measureColumn,
  measureKind,
  type MeasureKind,
  type ReportTypeSpec,
} from '@adsync/shared/amazon/report-catalog';
import { moneyToMicros } from '@adsync/shared/amazon/currency';

export interface RowContext {
  reportTypeId: string;
  currency: string;
  startDate: string;
  endDate: string;
}

export type Normalised = { ok: true; row: MetricRow } | { ok: false; reason: string };

const idOf = (v: unknown): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isSafeInteger(v) ? String(v) : null;
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  return null;
};

function count(row: Record<string, unknown>, col: string): number | string {
  const v = row[col];
  if (v === null || v === undefined) return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n))
    return `${col} is not a non-negative integer (${JSON.stringify(v)})`;
  return n;
}

/** A decimal that is not money (a frequency, a reach rate), in integer millionths. */
function millionths(row: Record<string, unknown>, col: string): number | string {
  const v = row[col];
  if (v === null || v === undefined) return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) return `${col} is not a non-negative number (${JSON.stringify(v)})`;
  return Math.round(n * 1_000_000);
}

function money(row: Record<string, unknown>, col: string, currency: string): number | string {
  const v = row[col];
  if (v === null || v === undefined) return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) return `${col} is not an amount (${JSON.stringify(v)})`;
  return moneyToMicros(n, currency);
}

/** The id that keys a row of the entity-keyed table, by the level it describes. */
function entityIdOf(spec: ReportTypeSpec, row: Record<string, unknown>): string | null {
  switch (spec.entityLevel) {
    case 'campaign':
      return idOf(row.campaignId);
    case 'ad_group':
      return idOf(row.adGroupId);
    case 'ad':
      return idOf(row.adId);
    case 'target':
    case 'search_term':
      // SP and ST name targets keywordId (keywords and product targets alike); SB carries both; SD only targetingId.
      return idOf(row.keywordId) ?? idOf(row.targetingId);
    case 'purchased_product':
    case 'conversion_path':
      return null;
    case 'advertiser':
      return idOf(row.advertiserId);
    case 'order':
      return idOf(row.orderId);
    case 'line_item':
      return idOf(row.lineItemId);
    case 'creative':
      return idOf(row.creativeId);
  }
}

/** A DSP row's key: its entity's id, then the values of the columns that split rows under it. */
function dspRowKey(spec: ReportTypeSpec, row: Record<string, unknown>): string | null {
  const id = entityIdOf(spec, row);
  if (!id || !spec.splits.length) return id;
  const parts = [id];
  // A value's own | or \ is escaped, so no two sets of values give the same key.
  for (const c of spec.splits) {
    const v = row[c];
    parts.push(v === null || v === undefined ? '' : String(v).replace(/[|\\]/g, '\\$&'));
  }
  return parts.join('|');
}

/**
 * What normaliseRow does per row, worked out once per report type: each measure's column and
 * how it is stored (count, money, millionths), the describing columns kept as attributes.
 * Deciding these per row (list scans, a regular expression per dimension) was most of a row's
 * normalising.
 */
interface RowPlan {
  measures: { name: string; kind: MeasureKind; column: string }[];
  /** The measures behind the headline columns, by name (absent: 0). */
  headline: { impressions?: number; clicks?: number; cost?: number; sales?: number; orders?: number; units?: number };
  attributes: string[];
  idAttributes: string[];
}
const plans = new Map<ReportTypeSpec, RowPlan>();
function planOf(spec: ReportTypeSpec): RowPlan {
  let plan = plans.get(spec);
  if (plan) return plan;
  const measures = spec.measures.map((name) => {
    const kind = measureKind(spec, name);
    return { name, kind, column: measureColumn(name, kind) };
  });
  const at = (name: string | undefined) => {
    const i = name === undefined ? -1 : spec.measures.indexOf(name);
    return i < 0 ? undefined : i;
  };
  const dsp = spec.adProduct === 'DEMAND_SIDE_PLATFORM';
  plan = {
    measures,
    headline: {
      impressions: at('impressions'),
      clicks: at('clicks'),
      // DSP's spend is totalCost (inventory, fees and Amazon's; 3P fees the agency pays are apart).
      cost: at(dsp ? 'totalCost' : 'cost'),
      sales: at(spec.headline?.sales),
      orders: at(spec.headline?.orders),
      units: at(spec.headline?.units),
    },
    // DSP's ids (advertiser, creative, segment, supply source) are no entity of ours: kept as they come.
    attributes: dsp ? spec.dimensions : spec.dimensions.filter((c) => !/Id$/.test(c)),
    idAttributes: dsp ? [] : ['keywordId', 'targetingId'].filter((c) => spec.dimensions.includes(c)),
  };
  plans.set(spec, plan);
  return plan;
}

/** The ClickHouse columns of a report type's measures, in the order normaliseRow writes measureValues. */
export function measureColumnsFor(reportTypeId: string): string[] {
  const spec = REPORT_TYPES[reportTypeId];
  return spec ? planOf(spec).measures.map((m) => m.column) : [];
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function normaliseRow(raw: Record<string, unknown>, ctx: RowContext): Normalised {
  const spec = REPORT_TYPES[ctx.reportTypeId];
  if (!spec) return { ok: false, reason: `unknown report type ${ctx.reportTypeId}` };
  // A SUMMARY report is asked for one day (report-catalog's maxDays), so its rows are that day's.
  if (spec.timeUnit === 'SUMMARY' && ctx.startDate !== ctx.endDate)
    return { ok: false, reason: `a SUMMARY report must span one day, not ${ctx.startDate}..${ctx.endDate}` };
  const date = spec.timeUnit === 'SUMMARY' ? ctx.startDate : raw.date;
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date))
    return { ok: false, reason: `date is missing or not YYYY-MM-DD (${JSON.stringify(date)})` };
  if (date < ctx.startDate || date > ctx.endDate)
    return { ok: false, reason: `date ${date} is outside the report window ${ctx.startDate}..${ctx.endDate}` };

  const quality = spec.table === 'ads_traffic_quality';
  const dsp = spec.table === 'dsp_metrics_daily';
  const paths = spec.table === 'ads_conversion_paths';
  // DSP's campaign is its order.
  const campaignId = dsp ? idOf(raw.orderId) : idOf(raw.campaignId);
  // Gross and invalid traffic reports name the campaign, not its id; a DSP advertiser row has no order.
  if (!campaignId && !quality && !dsp && !paths)
    return { ok: false, reason: `campaignId is missing or not an id (${JSON.stringify(raw.campaignId)})` };
  let entityId: string | null;
  if (paths) {
    // A brand's path: what keys it is its brand and its path (the splits check below says which is missing).
    entityId = `${text(raw.brandName) ?? ''}|${text(raw.simplifiedPath) ?? ''}`;
    if (!text(raw.brandName)) return { ok: false, reason: 'brandName is missing' };
  } else if (quality) {
    entityId = text(raw.campaignName);
    if (!entityId) return { ok: false, reason: 'campaignName is missing' };
  } else if (spec.table === 'ads_purchased_products') {
    const purchased = text(raw.purchasedAsin) ?? text(raw.asinBrandHalo);
    if (!purchased) return { ok: false, reason: 'the purchased ASIN is missing' };
    const advertised = text(raw.advertisedAsin) ?? text(raw.promotedAsin) ?? '';
    entityId = [idOf(raw.adGroupId) ?? '', advertised, purchased, text(raw.attributionType) ?? ''].join('|');
  } else {
    entityId = dsp ? dspRowKey(spec, raw) : entityIdOf(spec, raw);
    if (!entityId) return { ok: false, reason: `the ${spec.entityLevel} id is missing or not an id` };
  }
  if (spec.entityLevel === 'search_term' && typeof raw.searchTerm !== 'string')
    return { ok: false, reason: 'searchTerm is missing' };
  // A sponsored-ads row split under its entity (a placement) is keyed by the split: without it,
  // it would take the place of another.
  if (!dsp) for (const c of spec.splits) if (!text(raw[c])) return { ok: false, reason: `${c} is missing` };

  const own = dsp ? raw.orderCurrency : raw.campaignBudgetCurrencyCode;
  const currency = typeof own === 'string' && own ? own : ctx.currency;
  const plan = planOf(spec);
  // In the order of measureColumnsFor(the report type): the batch names the columns once.
  const values: number[] = new Array(plan.measures.length);
  for (let i = 0; i < plan.measures.length; i++) {
    const m = plan.measures[i]!;
    const v =
      m.kind === 'money'
        ? money(raw, m.name, currency)
        : m.kind === 'millionths'
          ? millionths(raw, m.name)
          : count(raw, m.name);
    if (typeof v === 'string') return { ok: false, reason: v };
    values[i] = v;
  }
  const h = plan.headline;
  const headline = (i: number | undefined) => (i === undefined ? 0 : values[i]!);
  const attributes: Record<string, string> = {};
  for (const c of plan.attributes) {
    const v = raw[c];
    if (v !== undefined && v !== null) attributes[c] = String(v);
  }
  for (const c of plan.idAttributes) {
    const id = idOf(raw[c]);
    if (id) attributes[c] = id;
  }
  return {
    ok: true,
    row: {
      date,
      entityId,
      campaignId: campaignId ?? '',
      adGroupId: idOf(dsp ? raw.lineItemId : raw.adGroupId),
      currency,
      impressions: headline(h.impressions),
      clicks: headline(h.clicks),
      costMicros: headline(h.cost),
      salesMicros: headline(h.sales),
      orders: headline(h.orders),
      units: headline(h.units),
      attributes,
      measures: {},
      measureValues: values,
    },
  };
}
