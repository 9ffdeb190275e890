/**
 * Amazon Marketing Stream data as the sandbox sends it (en-us/guides/amazon-marketing-stream/
 * datasets/*.md): hourly records per entity, deterministic from (seed, dataset, entity, hour).
 * Traffic and conversion records are deltas keyed by `idempotency_id`: an hour's first record,
 * then (when revisions are on) a revision with its own id that corrects it, as Amazon restates
 * traffic for ~72 h and conversions for weeks (aggregating-data.md: dedupe by idempotency_id,
 * then sum). Budget-usage notifications have no idempotency id. Pure.
 */
import { hash32, intBetween, unit } from './hash-random.ts';
import type { Dataset, Entity } from './dataset.ts';

export const STREAM_DATASETS = [
  'sp-traffic',
  'sp-conversion',
  'sb-traffic',
  'sb-conversion',
  'sd-traffic',
  'sd-conversion',
  'budget-usage',
] as const;
export type StreamDataset = (typeof STREAM_DATASETS)[number];

export type StreamRecord = Record<string, string | number>;

const HOUR = 3600_000;

/** `2026-11-24T10:00:00-08:00`: the start of the hour in the profile's time zone, ISO 8601 with its offset (overview.md). */
export function localHour(utcMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  const local = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')));
  const offsetMin = Math.round((local - utcMs) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:00:00${off}`;
}

/** The entities a dataset reports on for a profile: targets (SP, SB: keywords and product targets; SD: targets), delivering. */
function cells(ds: Dataset, product: 'sp' | 'sb' | 'sd', p: number): { target: Entity; adId: string }[] {
  const firstAd = new Map<string, string>();
  for (const ad of ds.all(product, 'ad', p))
    if (ad.adGroupId && !firstAd.has(ad.adGroupId)) firstAd.set(ad.adGroupId, ad.id);
  const kinds = product === 'sd' ? (['productTarget'] as const) : (['keyword', 'productTarget'] as const);
  const out: { target: Entity; adId: string }[] = [];
  for (const kind of kinds)
    for (const t of ds.all(product, kind, p))
      if (ds.delivering(t) && t.adGroupId && firstAd.has(t.adGroupId))
        out.push({ target: t, adId: firstAd.get(t.adGroupId)! });
  return out;
}

/** Metrics of one cell-hour, final values (what the deltas sum to). Money in the currency's units, 2 decimals. */
function finalMetrics(seed: number, dataset: StreamDataset, key: string): Record<string, number> {
  const k = (m: string) => `${dataset}|${key}|${m}`;
  const active = unit(seed, k('active')) < 0.55;
  if (!active) return {};
  const impressions = intBetween(seed, k('imp'), 1, 400);
  const clicks = Math.min(impressions, intBetween(seed, k('clk'), 0, 12));
  const cost = Math.round(clicks * intBetween(seed, k('cpc'), 20, 180)) / 100;
  if (dataset.endsWith('-traffic')) {
    const m: Record<string, number> = { impressions, clicks, cost };
    if (dataset === 'sb-traffic') m.viewable_impressions = Math.floor(impressions * 0.7);
    if (dataset === 'sd-traffic') m.view_impressions = Math.floor(impressions * 0.6);
    return m;
  }
  const conv = Math.min(clicks, intBetween(seed, k('conv'), 0, 3));
  const sales = Math.round(conv * intBetween(seed, k('aov'), 900, 6000)) / 100;
  const units = conv + (conv > 0 ? intBetween(seed, k('units'), 0, 2) : 0);
  if (conv === 0) return {};
  if (dataset === 'sp-conversion') {
    const m: Record<string, number> = {};
    for (const w of ['1d', '7d', '14d', '30d']) {
      m[`attributed_conversions_${w}`] = conv;
      m[`attributed_conversions_${w}_same_sku`] = Math.floor(conv / 2);
      m[`attributed_sales_${w}`] = sales;
      m[`attributed_sales_${w}_same_sku`] = Math.round((sales / 2) * 100) / 100;
      m[`attributed_units_ordered_${w}`] = units;
      m[`attributed_units_ordered_${w}_same_sku`] = Math.floor(units / 2);
    }
    return m;
  }
  const ntb = Math.floor(conv / 2);
  return {
    attributed_conversions_14d: conv,
    attributed_sales_14d: sales,
    attributed_units_ordered_14d: units,
    attributed_orders_new_to_brand_14d: ntb,
    attributed_sales_new_to_brand_14d: Math.round(((sales * ntb) / conv) * 100) / 100,
    attributed_units_ordered_new_to_brand_14d: ntb,
  };
}

export interface HourBatch {
  /** The records sent first for the hour. */
  originals: StreamRecord[];
  /** Corrections, each with its own idempotency id (deltas; may be negative). */
  revisions: StreamRecord[];
}

const productOf = (d: StreamDataset) => d.slice(0, 2) as 'sp' | 'sb' | 'sd';
const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * A profile's records of one dataset for the hour starting at `hourMs` (UTC). With revisions,
 * the first record of a cell is off (more clicks, later invalidated; fewer conversions, later
 * attributed) and a revision brings it to the final value.
 */
export function hourRecords(
  ds: Dataset,
  p: number,
  dataset: StreamDataset,
  hourMs: number,
  revisions: boolean,
): HourBatch {
  const profile = ds.profiles()[p]!;
  const base = {
    dataset_id: dataset,
    marketplace_id: profile.marketplaceStringId,
    advertiser_id: profile.accountInfo.id,
  };
  const out: HourBatch = { originals: [], revisions: [] };
  if (dataset === 'budget-usage') {
    for (const c of ds.all('sp', 'campaign', p)) {
      if (!ds.delivering(c)) continue;
      const key = `${c.id}|${hourMs}`;
      if (unit(ds.seed, `bu|${key}`) > 0.3) continue;
      out.originals.push({
        ...base,
        budget_scope_id: c.id,
        budget_scope_type: 'CAMPAIGN',
        advertising_product_type: 'sp',
        budget: c.budget ?? 50,
        budget_usage_percentage: 5 * intBetween(ds.seed, `bu%|${key}`, 1, 20),
        usage_updated_timestamp: new Date(hourMs + intBetween(ds.seed, `bu@|${key}`, 0, 3599) * 1000).toISOString(),
      });
    }
    return out;
  }
  const product = productOf(dataset);
  const when = localHour(hourMs, profile.timezone);
  for (const { target, adId } of cells(ds, product, p)) {
    const key = `${target.id}|${hourMs}`;
    const final = finalMetrics(ds.seed, dataset, key);
    if (Object.keys(final).length === 0) continue;
    const dims: StreamRecord = {
      ...base,
      currency: profile.currencyCode,
      campaign_id: target.campaignId!,
      ad_group_id: target.adGroupId!,
      ad_id: adId,
      time_window_start: when,
    };
    if (product === 'sd') dims.target_id = target.id;
    else dims.keyword_id = target.id;
    if (dataset === 'sp-traffic') {
      dims.keyword_text = target.keywordText ?? '';
      dims.match_type = target.matchType ?? 'TARGETING_EXPRESSION';
      dims.placement = pickPlacement(ds.seed, key);
    }
    if (dataset === 'sb-traffic') {
      dims.keyword_text = target.keywordText ?? '';
      dims.keyword_type = target.kind === 'keyword' ? (target.matchType ?? 'BROAD') : 'TARGETING_EXPRESSION';
      dims.placement_type = 'Top of Search on-Amazon';
    }
    if (dataset === 'sd-traffic') dims.targeting_text = (target.expression ?? []).map((e) => e.type).join(',');
    const id = (n: number) => `${dataset}-${hash32(ds.seed, `${key}|${n}`).toString(16)}-${n}`;
    if (!revisions || unit(ds.seed, `rev|${dataset}|${key}`) > 0.4) {
      out.originals.push({ ...dims, idempotency_id: id(0), ...final });
      continue;
    }
    // Traffic: invalid clicks removed later (first count higher); conversions: attributed later (first count lower).
    const first: Record<string, number> = {};
    for (const [m, v] of Object.entries(final)) {
      const shift = dataset.endsWith('-traffic') ? (m === 'clicks' || m === 'cost' ? 1.25 : 1) : 0.5;
      first[m] = Number.isInteger(v) ? Math.round(v * shift) : round2(v * shift);
    }
    const delta: Record<string, number> = {};
    for (const [m, v] of Object.entries(final))
      delta[m] = Number.isInteger(v) && Number.isInteger(first[m]!) ? v - first[m]! : round2(v - first[m]!);
    out.originals.push({ ...dims, idempotency_id: id(0), ...first });
    out.revisions.push({ ...dims, idempotency_id: id(1), ...delta });
  }
  return out;
}

const PLACEMENTS = ['Top of Search on-Amazon', 'Detail Page on-Amazon', 'Other on-Amazon'];
const pickPlacement = (seed: number, key: string) => PLACEMENTS[hash32(seed, `pl|${key}`) % PLACEMENTS.length]!;

export const HOUR_MS = HOUR;
