/**
 * A normalised report row → the row of the ClickHouse table its report type writes
 * (report-catalog's `table`). Pure. Every table is a ReplacingMergeTree versioned by
 * the pull time, keyed by what the row describes, so a redelivered batch collapses and
 * a newer pull of a restated day wins.
 *
 * Each table's columns are written once, below, as fields: a field of the message (the same
 * for every row of it) or of the row. factRow builds a row object from them; the loader's
 * TabSeparated lines (fact-lines.ts) read the same fields without building one.
 */
import { REPORT_TYPES, type FactTable } from '@adsync/shared/amazon/report-catalog';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { PermanentError } from '@adsync/shared/runtime/errors';

export interface PullStamp {
  /** ClickHouse DateTime text of the pull. */
  pulledAt: string;
  /** The pull time in ms: the row's version. */
  version: number;
}

/**
 * A message's measure columns, whichever form its rows carry: the batch's `measureColumns` with
 * each row's `measureValues` (what producers write), or each row's own `measures` map (older).
 */
export function measureColumnsOf(ev: RowsParsed): string[] {
  if (ev.measureColumns?.length) return ev.measureColumns;
  const out = new Set<string>();
  for (const r of ev.rows) for (const k in r.measures) out.add(k);
  return [...out];
}

/** Reads one measure column from the rows of one message (built once per message, used per row). */
export function measureReader(ev: RowsParsed, column: string): (r: MetricRow) => number | undefined {
  const columns = ev.measureColumns;
  if (!columns?.length) return (r) => r.measures[column];
  const i = columns.indexOf(column);
  return i < 0 ? () => undefined : (r) => r.measureValues?.[i];
}

/** One row's measures as a map by column, whichever form it carries. */
export function rowMeasures(ev: RowsParsed, r: MetricRow): Record<string, number> {
  const columns = ev.measureColumns;
  if (!columns?.length) return r.measures;
  const out: Record<string, number> = {};
  columns.forEach((c, i) => {
    const v = r.measureValues?.[i];
    if (v !== undefined) out[c] = v;
  });
  return out;
}

const measure = (r: MetricRow, ev: RowsParsed, column: string): number => measureReader(ev, column)(r) ?? 0;

type Value = string | number;
/** A column's value: from the message alone (`message`) or from each row (`row`). */
export type Field =
  { message: (ev: RowsParsed, stamp: PullStamp) => Value } | { row: (r: MetricRow, ev: RowsParsed) => Value };

const message = (f: (ev: RowsParsed, stamp: PullStamp) => Value): Field => ({ message: f });
const row = (f: (r: MetricRow, ev: RowsParsed) => Value): Field => ({ row: f });

const PULLED: Record<string, Field> = {
  pending_report_id: message((ev) => ev.pendingReportId),
  pulled_at: message((_, s) => s.pulledAt),
  version: message((_, s) => s.version),
};

/**
 * The columns every row of each table fills, besides the measures a row carries (each is a
 * column of its own name; a fixed column of the same name wins). Traffic quality rows take
 * only the measures named here.
 */
export const FACT_FIELDS: Record<FactTable, Record<string, Field>> = {
  ads_traffic_quality: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: row((r) => r.date),
    campaign_name: row((r) => r.entityId),
    campaign_status: row((r) => r.attributes.campaignStatus ?? ''),
    impressions: row((r, ev) => measure(r, ev, 'impressions')),
    clicks: row((r, ev) => measure(r, ev, 'clicks')),
    gross_impressions: row((r, ev) => measure(r, ev, 'gross_impressions')),
    gross_click_throughs: row((r, ev) => measure(r, ev, 'gross_click_throughs')),
    invalid_impressions: row((r, ev) => measure(r, ev, 'invalid_impressions')),
    invalid_click_throughs: row((r, ev) => measure(r, ev, 'invalid_click_throughs')),
    ...PULLED,
  },
  ads_purchased_products: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: row((r) => r.date),
    campaign_id: row((r) => r.campaignId),
    ad_group_id: row((r) => r.adGroupId ?? ''),
    advertised_asin: row((r) => r.attributes.advertisedAsin ?? r.attributes.promotedAsin ?? ''),
    purchased_asin: row((r) => r.attributes.purchasedAsin ?? r.attributes.asinBrandHalo ?? ''),
    attribution_type: row((r) => r.attributes.attributionType ?? ''),
    keyword_id: row((r) => r.attributes.keywordId ?? ''),
    currency: row((r) => r.currency),
    sales_micros: row((r) => r.salesMicros),
    orders: row((r) => r.orders),
    units: row((r) => r.units),
    attributes: row((r) => JSON.stringify(r.attributes)),
    ...PULLED,
  },
  ads_metrics_daily: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: row((r) => r.date),
    entity_level: message((ev) => ev.entityLevel),
    entity_id: row((r) => r.entityId),
    search_term: row((r, ev) => (ev.entityLevel === 'search_term' ? (r.attributes.searchTerm ?? '') : '')),
    campaign_id: row((r) => r.campaignId),
    ad_group_id: row((r) => r.adGroupId ?? ''),
    currency: row((r) => r.currency),
    impressions: row((r) => r.impressions),
    clicks: row((r) => r.clicks),
    cost_micros: row((r) => r.costMicros),
    sales_micros: row((r) => r.salesMicros),
    orders: row((r) => r.orders),
    units: row((r) => r.units),
    attributes: row((r) => JSON.stringify(r.attributes)),
    ...PULLED,
  },
};

export const FACT_COLUMNS: Record<FactTable, readonly string[]> = {
  ads_traffic_quality: Object.keys(FACT_FIELDS.ads_traffic_quality),
  ads_purchased_products: Object.keys(FACT_FIELDS.ads_purchased_products),
  ads_metrics_daily: Object.keys(FACT_FIELDS.ads_metrics_daily),
};

/** Whether a table stores the measures a row carries (each in its own column). */
export const takesMeasures = (table: FactTable): boolean => table !== 'ads_traffic_quality';

export function factTable(ev: RowsParsed): FactTable {
  const spec = REPORT_TYPES[ev.reportType];
  if (!spec) throw new PermanentError(`unknown report type ${ev.reportType}`, { code: 'ADSYNC_UNKNOWN_REPORT_TYPE' });
  return spec.table;
}

export function factRow(
  ev: RowsParsed,
  r: MetricRow,
  stamp: PullStamp,
): { table: FactTable; row: Record<string, unknown> } {
  const table = factTable(ev);
  const out: Record<string, unknown> = takesMeasures(table) ? { ...rowMeasures(ev, r) } : {};
  for (const [column, f] of Object.entries(FACT_FIELDS[table]))
    out[column] = 'message' in f ? f.message(ev, stamp) : f.row(r, ev);
  return { table, row: out };
}
