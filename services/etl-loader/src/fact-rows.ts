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
import { DSP_BREAKDOWN_COLUMNS } from '@adsync/shared/amazon/dsp-report-columns';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { PermanentError } from '@adsync/shared/runtime/errors';
import { RECENT_COLUMNS } from '@adsync/shared/reports/ads-metrics';

export interface PullStamp {
  /** ClickHouse DateTime text of the pull. */
  pulledAt: string;
  /** The pull time in ms: the row's version. */
  version: number;
  /** ClickHouse DateTime text of this load (the streaming table's loaded_at). */
  loadedAt: string;
}

/**
 * A message's measure columns, whichever form its rows carry: the batch's `measureColumns` with
 * each row's `measureValues` (what producers write), or each row's own `measures` map (older).
 */
export function measureColumnsOf(ev: Pick<RowsParsed, 'measureColumns'> & { rows: MetricRow[] | object }): string[] {
  if (ev.measureColumns?.length) return ev.measureColumns;
  if (!Array.isArray(ev.rows)) throw new Error('rows still encoded carry no measures maps to read (decode them first)');
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

type Value = string | number;

/** The MetricRow fields a column can copy as they are (a missing ad group is ''). */
export const ROW_TEXT = ['date', 'entityId', 'campaignId', 'adGroupId', 'currency'] as const;
export const ROW_COUNTS = ['impressions', 'clicks', 'costMicros', 'salesMicros', 'orders', 'units'] as const;

/**
 * Where a column's value comes from in each row, said as data rather than code, so that the
 * two writers read it the same way: the one over row objects (factRow, fact-lines.ts) and the
 * one over the Avro bytes the rows arrive in (encoded-rows.ts).
 */
export type RowSource =
  | { field: (typeof ROW_TEXT)[number] | (typeof ROW_COUNTS)[number] }
  /** The first of these attributes the row has ('' when none); with `onlyAt`, '' at other entity levels. */
  | { attribute: readonly string[]; onlyAt?: string }
  /** A measure of the batch's measureColumns (or the row's measures map); 0 when absent. */
  | { measure: string }
  /** Every attribute, as a JSON object. */
  | { attributesJson: true };

/** A column's value: from the message alone (`message`, computed once per message) or from each row. */
export type Field = { message: (ev: RowsParsed, stamp: PullStamp) => Value } | { row: RowSource };

const message = (f: (ev: RowsParsed, stamp: PullStamp) => Value): Field => ({ message: f });
const field = (name: (typeof ROW_TEXT)[number] | (typeof ROW_COUNTS)[number]): Field => ({ row: { field: name } });
const attribute = (...keys: string[]): Field => ({ row: { attribute: keys } });
const measure = (name: string): Field => ({ row: { measure: name } });
const attributesJson: Field = { row: { attributesJson: true } };
// A search term is the entity of search-term rows only; other levels key by '' there.
const searchTerm: Field = { row: { attribute: ['searchTerm'], onlyAt: 'search_term' } };

/** How one message's rows give a row source's value (built once per message, used per row). */
export function rowReader(src: RowSource, ev: RowsParsed): (r: MetricRow) => Value {
  if ('field' in src) {
    const name = src.field;
    return name === 'adGroupId' ? (r) => r.adGroupId ?? '' : (r) => r[name];
  }
  if ('attribute' in src) {
    if (src.onlyAt !== undefined && ev.entityLevel !== src.onlyAt) return () => '';
    const [a, b, ...more] = src.attribute;
    if (b === undefined) return (r) => r.attributes[a!] ?? '';
    if (!more.length) return (r) => r.attributes[a!] ?? r.attributes[b] ?? '';
    return (r) => {
      for (const k of src.attribute) if (r.attributes[k] !== undefined) return r.attributes[k];
      return '';
    };
  }
  if ('measure' in src) {
    const read = measureReader(ev, src.measure);
    return (r) => read(r) ?? 0;
  }
  return (r) => JSON.stringify(r.attributes);
}

const PULLED: Record<string, Field> = {
  pending_report_id: message((ev) => ev.pendingReportId),
  pulled_at: message((_, s) => s.pulledAt),
  version: message((_, s) => s.version),
};

/** The entity tables' headline figures, attributes and pull stamp, in their column order. */
const HEADLINE: Record<string, Field> = {
  currency: field('currency'),
  impressions: field('impressions'),
  clicks: field('clicks'),
  cost_micros: field('costMicros'),
  sales_micros: field('salesMicros'),
  orders: field('orders'),
  units: field('units'),
  attributes: attributesJson,
  ...PULLED,
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
    date: field('date'),
    campaign_name: field('entityId'),
    campaign_status: attribute('campaignStatus'),
    impressions: measure('impressions'),
    clicks: measure('clicks'),
    gross_impressions: measure('gross_impressions'),
    gross_click_throughs: measure('gross_click_throughs'),
    invalid_impressions: measure('invalid_impressions'),
    invalid_click_throughs: measure('invalid_click_throughs'),
    ...PULLED,
  },
  ads_purchased_products: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: field('date'),
    campaign_id: field('campaignId'),
    ad_group_id: field('adGroupId'),
    advertised_asin: attribute('advertisedAsin', 'promotedAsin'),
    purchased_asin: attribute('purchasedAsin', 'asinBrandHalo'),
    attribution_type: attribute('attributionType'),
    keyword_id: attribute('keywordId'),
    currency: field('currency'),
    sales_micros: field('salesMicros'),
    orders: field('orders'),
    units: field('units'),
    attributes: attributesJson,
    ...PULLED,
  },
  ads_metrics_daily: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: field('date'),
    entity_level: message((ev) => ev.entityLevel),
    entity_id: field('entityId'),
    search_term: searchTerm,
    // Placement reports' rows: the campaign's day at one placement; '' for every other type.
    placement: attribute('placementClassification'),
    campaign_id: field('campaignId'),
    ad_group_id: field('adGroupId'),
    ...HEADLINE,
  },
  ads_audience_daily: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: field('date'),
    campaign_id: field('campaignId'),
    segment_name: attribute('segmentName'),
    segment_class_code: attribute('segmentClassCode'),
    ...HEADLINE,
  },
  ads_conversion_paths: {
    profile_id: message((ev) => ev.profileId),
    report_type: message((ev) => ev.reportType),
    date: field('date'),
    brand_name: attribute('brandName'),
    path: attribute('simplifiedPath'),
    ...HEADLINE,
  },
  dsp_metrics_daily: {
    profile_id: message((ev) => ev.profileId),
    advertiser_id: attribute('advertiserId'),
    report_type: message((ev) => ev.reportType),
    entity_level: message((ev) => ev.entityLevel),
    row_key: field('entityId'),
    date: field('date'),
    order_id: field('campaignId'),
    line_item_id: field('adGroupId'),
    creative_id: attribute('creativeId'),
    supply_source: attribute('supplySource'),
    site: attribute('site'),
    country: attribute('country'),
    device: attribute('deviceName'),
    operating_system: attribute('operatingSystemName'),
    segment_id: attribute('segmentId'),
    asin: attribute('asin'),
    content_title: attribute('contentTitle'),
    ...Object.fromEntries(DSP_BREAKDOWN_COLUMNS.map(([column, from]) => [column, attribute(from)])),
    ...HEADLINE,
  },
};

/**
 * The streaming table's columns (RECENT_COLUMNS, in that order): the last RECENT_DAYS of entity
 * metrics, written beside ads_metrics_daily.
 */
export const RECENT_FIELDS: Record<string, Field> = {
  ...Object.fromEntries(
    RECENT_COLUMNS.filter((c) => c in FACT_FIELDS.ads_metrics_daily).map((c) => [c, FACT_FIELDS.ads_metrics_daily[c]!]),
  ),
  loaded_at: message((_, s) => s.loadedAt),
};

export const FACT_COLUMNS: Record<FactTable, readonly string[]> = {
  ads_traffic_quality: Object.keys(FACT_FIELDS.ads_traffic_quality),
  ads_purchased_products: Object.keys(FACT_FIELDS.ads_purchased_products),
  ads_metrics_daily: Object.keys(FACT_FIELDS.ads_metrics_daily),
  ads_audience_daily: Object.keys(FACT_FIELDS.ads_audience_daily),
  ads_conversion_paths: Object.keys(FACT_FIELDS.ads_conversion_paths),
  dsp_metrics_daily: Object.keys(FACT_FIELDS.dsp_metrics_daily),
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
    out[column] = 'message' in f ? f.message(ev, stamp) : rowReader(f.row, ev)(r);
  return { table, row: out };
}
