/**
 * A report row (Reporting API v3, GZIP_JSON) → our MetricRow. Pure. Ids become
 * strings (reports send numbers where the entity API sends strings), money becomes
 * integer micros at the currency's minor unit, every additive metric the report type
 * carries is kept under its ClickHouse column (each attribution window), and the row is
 * keyed by what it describes: an entity, an advertised × purchased ASIN, or (gross and
 * invalid traffic) a campaign by name. A row that cannot be trusted is refused with the reason.
 */
import type { MetricRow } from '@adsync/shared/events/contracts';
import { REPORT_TYPES, measureColumn, type ReportTypeSpec } from '@adsync/shared/amazon/report-catalog';
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
      return null;
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function normaliseRow(raw: Record<string, unknown>, ctx: RowContext): Normalised {
  const spec = REPORT_TYPES[ctx.reportTypeId];
  if (!spec) return { ok: false, reason: `unknown report type ${ctx.reportTypeId}` };
  const date = raw.date;
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date))
    return { ok: false, reason: `date is missing or not YYYY-MM-DD (${JSON.stringify(date)})` };
  if (date < ctx.startDate || date > ctx.endDate)
    return { ok: false, reason: `date ${date} is outside the report window ${ctx.startDate}..${ctx.endDate}` };

  const quality = spec.table === 'ads_traffic_quality';
  const campaignId = idOf(raw.campaignId);
  // Gross and invalid traffic reports name the campaign, not its id.
  if (!campaignId && !quality)
    return { ok: false, reason: `campaignId is missing or not an id (${JSON.stringify(raw.campaignId)})` };
  let entityId: string | null;
  if (quality) {
    entityId = text(raw.campaignName);
    if (!entityId) return { ok: false, reason: 'campaignName is missing' };
  } else if (spec.table === 'ads_purchased_products') {
    const purchased = text(raw.purchasedAsin) ?? text(raw.asinBrandHalo);
    if (!purchased) return { ok: false, reason: 'the purchased ASIN is missing' };
    const advertised = text(raw.advertisedAsin) ?? text(raw.promotedAsin) ?? '';
    entityId = [idOf(raw.adGroupId) ?? '', advertised, purchased, text(raw.attributionType) ?? ''].join('|');
  } else {
    entityId = entityIdOf(spec, raw);
    if (!entityId) return { ok: false, reason: `the ${spec.entityLevel} id is missing or not an id` };
  }
  if (spec.entityLevel === 'search_term' && typeof raw.searchTerm !== 'string')
    return { ok: false, reason: 'searchTerm is missing' };

  const currency =
    typeof raw.campaignBudgetCurrencyCode === 'string' && raw.campaignBudgetCurrencyCode
      ? raw.campaignBudgetCurrencyCode
      : ctx.currency;
  const measures: Record<string, number> = {};
  const byName: Record<string, number> = {};
  for (const m of spec.measures) {
    const isMoney = spec.money.includes(m);
    const v = isMoney ? money(raw, m, currency) : count(raw, m);
    if (typeof v === 'string') return { ok: false, reason: v };
    measures[measureColumn(m, isMoney)] = v;
    byName[m] = v;
  }
  const h = spec.headline;
  const attributes: Record<string, string> = {};
  for (const c of spec.dimensions)
    if (!/Id$/.test(c) && raw[c] !== undefined && raw[c] !== null) attributes[c] = String(raw[c]);
  for (const c of ['keywordId', 'targetingId'])
    if (spec.dimensions.includes(c) && idOf(raw[c])) attributes[c] = idOf(raw[c])!;
  return {
    ok: true,
    row: {
      date,
      entityId,
      campaignId: campaignId ?? '',
      adGroupId: idOf(raw.adGroupId),
      currency,
      impressions: byName.impressions ?? 0,
      clicks: byName.clicks ?? 0,
      costMicros: byName.cost ?? 0,
      salesMicros: h ? (byName[h.sales] ?? 0) : 0,
      orders: h ? (byName[h.orders] ?? 0) : 0,
      units: h ? (byName[h.units] ?? 0) : 0,
      attributes,
      measures,
    },
  };
}
