/**
 * A report row (Reporting API v3, GZIP_JSON) → our MetricRow. Pure. Ids become
 * strings (reports send numbers where the entity API sends strings), money becomes
 * integer micros at the currency's minor unit, and the row is keyed by the entity
 * level it describes. A row that cannot be trusted is rejected with the reason.
 */
import type { MetricRow } from '@adsync/shared/events/contracts';
import { REPORT_TYPES, type ReportTypeSpec } from '@adsync/shared/amazon/report-catalog';
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
  if (!Number.isFinite(n)) return `${col} is not a number (${JSON.stringify(v)})`;
  return moneyToMicros(n, currency);
}

const ATTRIBUTE_COLUMNS = [
  'campaignName',
  'campaignStatus',
  'adGroupName',
  'advertisedAsin',
  'advertisedSku',
  'keyword',
  'matchType',
  'targeting',
  'keywordType',
  'searchTerm',
];

function entityIdOf(spec: ReportTypeSpec, row: Record<string, unknown>): string | null {
  switch (spec.entityLevel) {
    case 'campaign':
      return idOf(row.campaignId);
    case 'ad':
      return idOf(row.adId);
    case 'target':
    case 'search_term':
      return idOf(row.keywordId);
  }
}

export function normaliseRow(raw: Record<string, unknown>, ctx: RowContext): Normalised {
  const spec = REPORT_TYPES[ctx.reportTypeId];
  if (!spec) return { ok: false, reason: `unknown report type ${ctx.reportTypeId}` };
  const date = raw.date;
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date))
    return { ok: false, reason: `date is missing or not YYYY-MM-DD (${JSON.stringify(date)})` };
  if (date < ctx.startDate || date > ctx.endDate)
    return { ok: false, reason: `date ${date} is outside the report window ${ctx.startDate}..${ctx.endDate}` };
  const campaignId = idOf(raw.campaignId);
  if (!campaignId)
    return { ok: false, reason: `campaignId is missing or not an id (${JSON.stringify(raw.campaignId)})` };
  const entityId = entityIdOf(spec, raw);
  if (!entityId) return { ok: false, reason: `the ${spec.entityLevel} id is missing or not an id` };
  if (spec.entityLevel === 'search_term' && typeof raw.searchTerm !== 'string')
    return { ok: false, reason: 'searchTerm is missing' };
  const m = spec.metrics;
  const currency =
    typeof raw.campaignBudgetCurrencyCode === 'string' && raw.campaignBudgetCurrencyCode
      ? raw.campaignBudgetCurrencyCode
      : ctx.currency;
  const impressions = count(raw, 'impressions');
  const clicks = count(raw, 'clicks');
  const orders = count(raw, m.orders);
  const units = count(raw, m.units);
  const costMicros = money(raw, 'cost', currency);
  const salesMicros = money(raw, m.sales, currency);
  for (const v of [impressions, clicks, orders, units, costMicros, salesMicros])
    if (typeof v === 'string') return { ok: false, reason: v };
  const attributes: Record<string, string> = {};
  for (const c of ATTRIBUTE_COLUMNS) if (raw[c] !== undefined && raw[c] !== null) attributes[c] = String(raw[c]);
  return {
    ok: true,
    row: {
      date,
      entityId,
      campaignId,
      adGroupId: idOf(raw.adGroupId),
      currency,
      impressions: impressions as number,
      clicks: clicks as number,
      costMicros: costMicros as number,
      salesMicros: salesMicros as number,
      orders: orders as number,
      units: units as number,
      attributes,
    },
  };
}
