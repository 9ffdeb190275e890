/**
 * Marketing Stream messages as they arrive on the queue, and the rows they become. Pure.
 *
 * A message is the SNS envelope (`Type: Notification`, the record as a JSON string in
 * `Message`), a `SubscriptionConfirmation`, or — with raw delivery on — the record itself.
 * Records are normalised like the reports: money in micros, ids as strings, the hour both as
 * a UTC instant and as the profile's local day and hour Amazon stamped it with
 * (`time_window_start`, ISO 8601 with the profile's offset: datasets/overview.md).
 */
import { isSnsMessage, type SnsMessage } from '@adsync/shared/streams/sns-signature';
import { ENTITY_STREAM_DATASETS, type EntityStreamDataset } from './entity-records.ts';

export const SPONSORED_STREAM_DATASETS = [
  'sp-traffic',
  'sp-conversion',
  'sb-traffic',
  'sb-conversion',
  'sd-traffic',
  'sd-conversion',
  'budget-usage',
  'sp-budget-recommendations',
  'sb-clickstream',
  'sb-rich-media',
  'sponsored-ads-campaign-diagnostics-recommendations',
] as const;
/** Amazon DSP's (datasets/adsp-performance.md), subscribed per DSP advertiser. */
export const DSP_STREAM_DATASETS = ['adsp-traffic', 'adsp-conversion'] as const;
export const STREAM_DATASETS = [...SPONSORED_STREAM_DATASETS, ...DSP_STREAM_DATASETS] as const;
/** Amazon DSP's datasets, subscribed per advertiser. */
export const isDspDataset = (dataset: string): boolean => (DSP_STREAM_DATASETS as readonly string[]).includes(dataset);
export type StreamDataset = (typeof STREAM_DATASETS)[number];

export type Parsed =
  | { kind: 'confirmation'; subscribeUrl: string; topicArn: string; token: string; envelope: SnsMessage }
  /** `envelope` is the SNS message around the record (null with raw delivery, which carries no signature). */
  | {
      kind: 'record';
      dataset: StreamDataset | EntityStreamDataset;
      record: Record<string, unknown>;
      envelope: SnsMessage | null;
    }
  | { kind: 'invalid'; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseMessage(body: string): Parsed {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'the message body is not JSON' };
  }
  if (!isObject(outer)) return { kind: 'invalid', reason: 'the message body is not a JSON object' };
  // An SNS message is acted on only once its signature verifies (sns-gate.ts), so it must carry what is signed.
  if (typeof outer.Type === 'string' && !isSnsMessage(outer))
    return { kind: 'invalid', reason: `an SNS ${outer.Type.slice(0, 40)} without its signature fields` };
  if (outer.Type === 'SubscriptionConfirmation') {
    if (typeof outer.SubscribeURL !== 'string' || typeof outer.TopicArn !== 'string' || typeof outer.Token !== 'string')
      return { kind: 'invalid', reason: 'a SubscriptionConfirmation without SubscribeURL, TopicArn or Token' };
    return {
      kind: 'confirmation',
      subscribeUrl: outer.SubscribeURL,
      topicArn: outer.TopicArn,
      token: outer.Token,
      envelope: outer as unknown as SnsMessage,
    };
  }
  let record: unknown = outer;
  if (outer.Type === 'Notification') {
    if (typeof outer.Message !== 'string') return { kind: 'invalid', reason: 'an SNS Notification without a Message' };
    try {
      record = JSON.parse(outer.Message);
    } catch {
      return { kind: 'invalid', reason: 'the SNS Notification Message is not JSON' };
    }
  } else if (typeof outer.Type === 'string') {
    return { kind: 'invalid', reason: `an SNS message of type ${outer.Type}, which carries no record` };
  }
  if (!isObject(record)) return { kind: 'invalid', reason: 'the record is not a JSON object' };
  const flat = unwrapped(record);
  const dataset = flat.dataset_id;
  if (typeof dataset !== 'string') return { kind: 'invalid', reason: 'the record has no dataset_id' };
  if (![...STREAM_DATASETS, ...ENTITY_STREAM_DATASETS].includes(dataset as StreamDataset))
    return { kind: 'invalid', reason: `unknown dataset ${JSON.stringify(dataset).slice(0, 80)}` };
  return {
    kind: 'record',
    dataset: dataset as StreamDataset | EntityStreamDataset,
    record: flat,
    envelope: outer.Type === 'Notification' ? (outer as unknown as SnsMessage) : null,
  };
}

/**
 * A recommendation as Amazon's partner-opportunities guide shows it arriving: the dataset's fields
 * in `messageBody`, the dataset and advertiser beside it in camelCase
 * (guides/recommendations/partner-opportunities/how-to.md). Read as the dataset page's flat record.
 */
function unwrapped(record: Record<string, unknown>): Record<string, unknown> {
  if (record.dataset_id !== undefined || typeof record.datasetId !== 'string' || !isObject(record.messageBody))
    return record;
  return {
    ...record.messageBody,
    dataset_id: record.datasetId,
    advertiser_id: record.messageBody.advertiser_id ?? record.advertiserId,
    marketplace_id: record.messageBody.marketplace_id ?? record.marketplaceId,
    ...(record.entityId !== undefined ? { entity_id: record.entityId } : {}),
  };
}

export type StreamTable =
  | 'stream_traffic_hourly'
  | 'stream_conversion_hourly'
  | 'stream_budget_usage'
  | 'stream_budget_recommendations'
  | 'stream_sb_clickstream_hourly'
  | 'stream_sb_rich_media_hourly'
  | 'stream_campaign_recommendations';
export type RowValues = Record<string, string | number>;

const WINDOWS = ['1d', '7d', '14d', '30d'];
/** Every conversion metric column, and the record fields that fill it. */
export const CONVERSION_COLUMNS: Record<string, { field: string; money: boolean }> = {};
for (const w of WINDOWS) {
  CONVERSION_COLUMNS[`conversions_${w}`] = { field: `attributed_conversions_${w}`, money: false };
  CONVERSION_COLUMNS[`conversions_same_sku_${w}`] = { field: `attributed_conversions_${w}_same_sku`, money: false };
  CONVERSION_COLUMNS[`sales_micros_${w}`] = { field: `attributed_sales_${w}`, money: true };
  CONVERSION_COLUMNS[`sales_same_sku_micros_${w}`] = { field: `attributed_sales_${w}_same_sku`, money: true };
  CONVERSION_COLUMNS[`units_${w}`] = { field: `attributed_units_ordered_${w}`, money: false };
  CONVERSION_COLUMNS[`units_same_sku_${w}`] = { field: `attributed_units_ordered_${w}_same_sku`, money: false };
}
Object.assign(CONVERSION_COLUMNS, {
  ntb_orders_14d: { field: 'attributed_orders_new_to_brand_14d', money: false },
  ntb_sales_micros_14d: { field: 'attributed_sales_new_to_brand_14d', money: true },
  ntb_units_14d: { field: 'attributed_units_ordered_new_to_brand_14d', money: false },
  view_conversions_14d: { field: 'view_attributed_conversions_14d', money: false },
  view_sales_micros_14d: { field: 'view_attributed_sales_14d', money: true },
  view_units_14d: { field: 'view_attributed_units_ordered_14d', money: false },
  view_ntb_orders_14d: { field: 'view_attributed_orders_new_to_brand_14d', money: false },
  view_ntb_sales_micros_14d: { field: 'view_attributed_sales_new_to_brand_14d', money: true },
  view_ntb_units_14d: { field: 'view_attributed_units_ordered_new_to_brand_14d', money: false },
});
export const TRAFFIC_COLUMNS: Record<string, { field: string[]; money: boolean }> = {
  impressions: { field: ['impressions'], money: false },
  clicks: { field: ['clicks'], money: false },
  cost_micros: { field: ['cost'], money: true },
  // SB says viewable_impressions, SD view_impressions: the same measure.
  viewable_impressions: { field: ['viewable_impressions', 'view_impressions'], money: false },
};

/** The Sponsored Brands clickstream and rich media datasets' measures (datasets/sb-performance.md), by column. */
export const SB_ENGAGEMENT_COLUMNS: Record<'sb-clickstream' | 'sb-rich-media', Record<string, string>> = {
  'sb-clickstream': {
    branded_searches_14d: 'attributed_branded_searches_14d',
    view_branded_searches_14d: 'view_attributed_branded_searches_14d',
    detail_page_views_14d: 'attributed_detail_page_views_14d',
    view_detail_page_views_14d: 'view_attributed_detail_page_views_14d',
  },
  'sb-rich-media': {
    video_5_second_views: 'video_5_second_views',
    video_first_quartile_views: 'video_first_quartile_views',
    video_midpoint_views: 'video_midpoint_views',
    video_third_quartile_views: 'video_third_quartile_views',
    video_complete_views: 'video_complete_views',
    video_unmutes: 'video_unmutes',
  },
};

/**
 * Amazon DSP's records (datasets/adsp-performance.md) in the same hourly tables: an order is the
 * campaign, a line item the ad group, a creative the ad; spend is total_cost. DSP's conversions
 * are 14-day (clicks and views), its new-to-brand and brand-halo totals kept in `extra`.
 */
const DSP_TRAFFIC_COLUMNS: Record<string, { field: string[]; money: boolean }> = {
  impressions: { field: ['impressions'], money: false },
  clicks: { field: ['clicks'], money: false },
  cost_micros: { field: ['total_cost'], money: true },
  viewable_impressions: { field: ['viewable_impressions'], money: false },
};
const DSP_CONVERSION_FIELDS: Record<string, string> = {
  conversions_14d: 'purchases',
  sales_micros_14d: 'sales',
  units_14d: 'units_sold',
  ntb_orders_14d: 'new_to_brand_purchases',
  view_conversions_14d: 'purchases_views',
};

/** Fields that name what a record is about, not what it measures. */
const DIMENSION_FIELDS = new Set([
  'idempotency_id',
  'dataset_id',
  'marketplace_id',
  'currency',
  'advertiser_id',
  'campaign_id',
  'ad_group_id',
  'ad_id',
  'keyword_id',
  'target_id',
  'keyword_text',
  'targeting_text',
  'match_type',
  'keyword_type',
  'placement',
  'placement_type',
  'time_window_start',
  'adgroup_id',
  'creative_id',
  'advertiser_country',
  'advertiser_timezone',
]);

const TIME_WINDOW = /^(\d{4}-\d{2}-\d{2})T(\d{2}):00:00(?:\.0+)?(Z|[+-]\d{2}:\d{2})$/;

/** yyyy-MM-dd HH:mm:ss (UTC) for ClickHouse. */
export const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const micros = (v: number) => Math.round(v * 1_000_000);

/** A record of a known dataset as a row of its hourly table, or why it cannot be one. */
export function normalise(
  dataset: StreamDataset,
  r: Record<string, unknown>,
  profileId: string,
  receivedAtMs: number,
  /** The currency when the record names none (a DSP advertiser's, from its discovery). */
  currency = '',
): { table: StreamTable; values: RowValues } | { invalid: string } {
  const received_at = chTime(receivedAtMs);
  if (dataset === 'sp-budget-recommendations') return budgetRecommendation(r, profileId, received_at);
  if (dataset === 'sponsored-ads-campaign-diagnostics-recommendations')
    return campaignRecommendation(r, profileId, received_at);
  if (dataset === 'budget-usage') {
    for (const f of ['budget_scope_id', 'budget_scope_type', 'usage_updated_timestamp'])
      if (typeof r[f] !== 'string' || !r[f]) return { invalid: `budget-usage record without ${f}` };
    const at = Date.parse(String(r.usage_updated_timestamp));
    if (!Number.isFinite(at))
      return { invalid: `usage_updated_timestamp ${str(r.usage_updated_timestamp)} is not a time` };
    for (const f of ['budget', 'budget_usage_percentage'])
      if (typeof r[f] !== 'number' || !Number.isFinite(r[f])) return { invalid: `${f} must be a number` };
    return {
      table: 'stream_budget_usage',
      values: {
        profile_id: profileId,
        advertiser_id: str(r.advertiser_id),
        marketplace_id: str(r.marketplace_id),
        budget_scope_id: str(r.budget_scope_id),
        budget_scope_type: str(r.budget_scope_type),
        ad_product: str(r.advertising_product_type),
        budget_micros: micros(r.budget as number),
        usage_percentage: r.budget_usage_percentage as number,
        usage_updated_at: chTime(at),
        hour: chTime(Math.floor(at / 3600_000) * 3600_000),
        received_at,
      },
    };
  }
  if (typeof r.idempotency_id !== 'string' || !r.idempotency_id) return { invalid: 'a record without idempotency_id' };
  if (r.campaign_id === undefined || r.campaign_id === null || r.campaign_id === '')
    return { invalid: 'a record without campaign_id' };
  const tw = TIME_WINDOW.exec(str(r.time_window_start));
  const hourMs = Date.parse(str(r.time_window_start));
  if (!tw || !Number.isFinite(hourMs))
    return {
      invalid: `time_window_start ${JSON.stringify(r.time_window_start)} is not the start of an hour (ISO 8601 with offset)`,
    };
  const engagement = dataset === 'sb-clickstream' || dataset === 'sb-rich-media' ? dataset : null;
  const traffic = dataset.endsWith('-traffic') || engagement !== null;
  const dsp = isDspDataset(dataset);
  const values: RowValues = {
    profile_id: profileId,
    // The engagement tables are one dataset each: no dataset, product or currency column.
    ...(engagement
      ? {}
      : { dataset_id: dataset, ad_product: dsp ? 'dsp' : dataset.slice(0, 2), currency: str(r.currency) || currency }),
    advertiser_id: str(r.advertiser_id),
    marketplace_id: str(r.marketplace_id),
    campaign_id: str(r.campaign_id),
    ad_group_id: str(r.ad_group_id ?? r.adgroup_id),
    ad_id: str(r.ad_id ?? r.creative_id),
    target_id: str(r.keyword_id ?? r.target_id),
    hour: chTime(hourMs),
    local_date: tw[1]!,
    local_hour: Number(tw[2]),
    idempotency_id: r.idempotency_id,
    received_at,
  };
  if (traffic) {
    values.target_text = str(r.keyword_text ?? r.targeting_text);
    values.match_type = str(r.match_type ?? r.keyword_type);
    values.placement = str(r.placement ?? r.placement_type);
  }
  const used = new Set<string>();
  const num = (field: string): number | { bad: string } | undefined => {
    const v = r[field];
    if (v === undefined || v === null) return undefined;
    used.add(field);
    if (typeof v !== 'number' || !Number.isFinite(v))
      return { bad: `${field} must be a number, not ${JSON.stringify(v).slice(0, 40)}` };
    return v;
  };
  const columns = engagement
    ? Object.entries(SB_ENGAGEMENT_COLUMNS[engagement]).map(([c, f]) => [c, [f], false] as const)
    : traffic
      ? Object.entries(dsp ? DSP_TRAFFIC_COLUMNS : TRAFFIC_COLUMNS).map(([c, s]) => [c, s.field, s.money] as const)
      : Object.entries(CONVERSION_COLUMNS).map(([c, s]) => {
          const field = dsp ? DSP_CONVERSION_FIELDS[c] : s.field;
          return [c, field ? [field] : [], s.money] as const;
        });
  for (const [col, fields, money] of columns) {
    let v: number | undefined;
    for (const f of fields) {
      const got = num(f);
      if (got && typeof got === 'object') return { invalid: got.bad };
      if (typeof got === 'number') v = got;
    }
    values[col] = v === undefined ? 0 : money ? micros(v) : Math.round(v);
  }
  // Fields Amazon adds later are kept, not dropped.
  const extra = Object.fromEntries(Object.entries(r).filter(([k]) => !DIMENSION_FIELDS.has(k) && !used.has(k)));
  values.extra = JSON.stringify(extra);
  const table: StreamTable =
    engagement === 'sb-clickstream'
      ? 'stream_sb_clickstream_hourly'
      : engagement === 'sb-rich-media'
        ? 'stream_sb_rich_media_hourly'
        : traffic
          ? 'stream_traffic_hourly'
          : 'stream_conversion_hourly';
  return { table, values };
}

/** "2024-09-04T17:11:14 UTC" (Amazon's example), an ISO instant, or a day. */
function instant(v: unknown): number {
  const s = str(v).trim().replace(/ UTC$/, 'Z');
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
}

/**
 * A sponsored-ads campaign recommendation (datasets/sponsored-ads-campaign-diagnostics-
 * recommendations.md): what to change (type), why (explanation.description), what the campaign
 * missed (lower and upper bounds), and its current and recommended settings, kept as sent.
 */
function campaignRecommendation(
  r: Record<string, unknown>,
  profileId: string,
  received_at: string,
): { table: StreamTable; values: RowValues } | { invalid: string } {
  if (typeof r.recommendation_id !== 'string' || !r.recommendation_id)
    return { invalid: 'a campaign recommendation without recommendation_id' };
  const published = instant(r.published_date);
  if (!Number.isFinite(published))
    return { invalid: `published_date ${JSON.stringify(r.published_date)} is not a time` };
  const expires = r.expiry_date === undefined || r.expiry_date === null ? published : instant(r.expiry_date);
  if (!Number.isFinite(expires)) return { invalid: `expiry_date ${JSON.stringify(r.expiry_date)} is not a time` };
  const explanation = isObject(r.explanation) ? r.explanation : {};
  const missed = isObject(explanation.missed_opportunities) ? explanation.missed_opportunities : {};
  const bounds: Record<string, number> = {};
  for (const m of ['impressions', 'clicks', 'conversions'])
    for (const b of ['lower', 'upper']) {
      const v = isObject(missed[m]) ? missed[m][`${b}_bound`] : undefined;
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
        return {
          invalid: `missed_opportunities.${m}.${b}_bound must be a number, not ${JSON.stringify(v).slice(0, 40)}`,
        };
      bounds[`missed_${m}_${b}`] = typeof v === 'number' ? Math.round(v) : 0;
    }
  const known = new Set([
    'recommendation_id',
    'advertiser_id',
    'marketplace_id',
    'dataset_id',
    'group_id',
    'apply_endpoint',
    'type',
    'published_date',
    'expiry_date',
    'explanation',
    'campaign_name',
    'campaign_id',
    'ad_product',
    'current_campaign_settings',
    'recommended_campaign_settings',
  ]);
  const json = (v: unknown) => (v === undefined || v === null ? '' : JSON.stringify(v));
  return {
    table: 'stream_campaign_recommendations',
    values: {
      profile_id: profileId,
      advertiser_id: str(r.advertiser_id),
      marketplace_id: str(r.marketplace_id),
      recommendation_id: r.recommendation_id,
      group_id: str(r.group_id),
      type: str(r.type),
      ad_product: str(r.ad_product),
      campaign_id: str(r.campaign_id),
      campaign_name: str(r.campaign_name),
      published_at: chTime(published),
      expires_at: chTime(expires),
      description: str(explanation.description),
      ...bounds,
      missed_time_period: str(missed.time_period),
      apply_endpoint: str(r.apply_endpoint),
      current_settings: json(r.current_campaign_settings),
      recommended_settings: json(r.recommended_campaign_settings),
      // What Amazon adds beyond the dataset page (its guide's example carries publish_metadata, …).
      extra: JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !known.has(k)))),
      received_at,
    },
  };
}

const REC_MONEY = ['suggested_budget', 'estimated_missed_sales_lower', 'estimated_missed_sales_upper'];
const REC_COUNTS = [
  'estimated_missed_clicks_lower',
  'estimated_missed_clicks_upper',
  'estimated_missed_impressions_lower',
  'estimated_missed_impressions_upper',
];

/**
 * A Sponsored Products budget recommendation (datasets/budget-recs-missed-opportunities.md): the
 * daily budget Amazon suggests for a campaign that ran out, and what the last seven days missed,
 * as lower and upper estimates. It has no idempotency id: a campaign's recommendation at one time
 * is one row, however often it comes.
 */
function budgetRecommendation(
  r: Record<string, unknown>,
  profileId: string,
  received_at: string,
): { table: StreamTable; values: RowValues } | { invalid: string } {
  if (r.campaign_id === undefined || r.campaign_id === null || r.campaign_id === '')
    return { invalid: 'a budget recommendation without campaign_id' };
  const at = Date.parse(str(r.recommendation_time));
  if (!Number.isFinite(at))
    return { invalid: `recommendation_time ${JSON.stringify(r.recommendation_time)} is not a time` };
  for (const f of [...REC_MONEY, ...REC_COUNTS, 'percent_time_in_budget'])
    if (r[f] !== undefined && r[f] !== null && (typeof r[f] !== 'number' || !Number.isFinite(r[f])))
      return { invalid: `${f} must be a number, not ${JSON.stringify(r[f]).slice(0, 40)}` };
  if (typeof r.suggested_budget !== 'number') return { invalid: 'a budget recommendation without suggested_budget' };
  const day = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : '1970-01-01');
  const n = (f: string) => (typeof r[f] === 'number' ? (r[f] as number) : 0);
  return {
    table: 'stream_budget_recommendations',
    values: {
      profile_id: profileId,
      advertiser_id: str(r.advertiser_id),
      marketplace_id: str(r.marketplace_id),
      campaign_id: str(r.campaign_id),
      recommendation_time: chTime(at),
      suggested_budget_micros: micros(n('suggested_budget')),
      reason: str(r.reason_for_suggestion),
      missed_sales_lower_micros: micros(n('estimated_missed_sales_lower')),
      missed_sales_upper_micros: micros(n('estimated_missed_sales_upper')),
      missed_clicks_lower: n('estimated_missed_clicks_lower'),
      missed_clicks_upper: n('estimated_missed_clicks_upper'),
      missed_impressions_lower: n('estimated_missed_impressions_lower'),
      missed_impressions_upper: n('estimated_missed_impressions_upper'),
      start_date: day(r.start_date),
      end_date: day(r.end_date),
      // -1: Amazon had too little to say (the schema's own value), kept as it came.
      percent_time_in_budget: typeof r.percent_time_in_budget === 'number' ? r.percent_time_in_budget : -1,
      received_at,
    },
  };
}
