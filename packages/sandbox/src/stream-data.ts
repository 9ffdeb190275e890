/**
 * Amazon Marketing Stream data as the sandbox sends it (en-us/guides/amazon-marketing-stream/
 * datasets/*.md): hourly records per entity, deterministic from (seed, dataset, entity, hour).
 * Traffic and conversion records are deltas keyed by `idempotency_id`: an hour's first record,
 * then (when revisions are on) a revision with its own id that corrects it, as Amazon restates
 * traffic for ~72 h and conversions for weeks (aggregating-data.md: dedupe by idempotency_id,
 * then sum). Budget-usage notifications have no idempotency id. Pure.
 */
import { hash32, intBetween, unit } from './hash-random.ts';
import { AD_PRODUCT_NAMES, type Dataset, type Entity, type EntityKind, type Profile } from './dataset.ts';
import { EXPORT_BID_STRATEGY, exported, placementAdjustments } from './amazon/views.ts';
import { FINAL_GENERATION, reportRows } from './amazon/report-engine.ts';

export const STREAM_DATASETS = [
  'sp-traffic',
  'sp-conversion',
  'sb-traffic',
  'sb-conversion',
  'sd-traffic',
  'sd-conversion',
  'budget-usage',
  // datasets/budget-recs-missed-opportunities.md: a recommendation when an SP campaign runs out of budget.
  'sp-budget-recommendations',
  // datasets/sb-performance.md: branded searches and detail page views, and video views, by hour.
  'sb-clickstream',
  'sb-rich-media',
  // datasets/sponsored-ads-campaign-diagnostics-recommendations.md: what to change, diagnosed weekly.
  'sponsored-ads-campaign-diagnostics-recommendations',
] as const;
/** Amazon DSP's performance datasets (datasets/adsp-performance.md), managed by /dsp/streams/subscriptions only. */
export const DSP_STREAM_DATASETS = ['adsp-traffic', 'adsp-conversion'] as const;
export type DspStreamDataset = (typeof DSP_STREAM_DATASETS)[number];
export type StreamDataset = (typeof STREAM_DATASETS)[number] | DspStreamDataset;

export type StreamRecord = Record<string, string | number>;

/**
 * The sponsored-ads campaign management datasets (datasets/sponsored-ads-campaign-management.md):
 * a snapshot of a campaign, ad group, ad or target each time it changes, within minutes.
 */
export const ENTITY_STREAM_DATASETS = ['campaigns', 'adgroups', 'ads', 'targets'] as const;
export type EntityStreamDataset = (typeof ENTITY_STREAM_DATASETS)[number];
export const isEntityStreamDataset = (d: string): d is EntityStreamDataset =>
  (ENTITY_STREAM_DATASETS as readonly string[]).includes(d);
const DATASET_OF_KIND: Partial<Record<EntityKind, EntityStreamDataset>> = {
  campaign: 'campaigns',
  adGroup: 'adgroups',
  ad: 'ads',
  keyword: 'targets',
  productTarget: 'targets',
};
/** The dataset that announces changes to an entity, if one does. */
export const entityDatasetOf = (e: Entity): EntityStreamDataset | null => DATASET_OF_KIND[e.kind] ?? null;

const isoDay = (d: string | undefined) =>
  d === undefined
    ? undefined
    : /^\d{8}$/.test(d)
      ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`
      : d.slice(0, 10);

/**
 * An entity's record as its dataset's schema and sample payload give it, built from the same values
 * the Exports API serves (so a full sync after it finds the same object). `version` orders an
 * object's changes; its update time serves, as it only grows.
 */
export function entityRecord(e: Entity, profile: Profile): Record<string, unknown> | null {
  const dataset = entityDatasetOf(e);
  if (!dataset) return null;
  const x = exported(e, profile.currencyCode) as Record<string, unknown>;
  const head = {
    dataset_id: dataset,
    advertiser_id: profile.accountInfo.id,
    marketplace_id: profile.marketplaceStringId,
    accountId: profile.profileId,
    version: Date.parse(e.updatedAt ?? e.createdAt ?? '1970-01-01T00:00:00Z'),
    adProduct: AD_PRODUCT_NAMES[e.product],
    state: e.state,
    audit: { creationDateTime: e.createdAt, lastUpdatedDateTime: e.updatedAt },
  };
  const drop = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  switch (dataset) {
    case 'campaigns': {
      const caps = x.budgetCaps as {
        recurrenceTimePeriod: string;
        budgetValue: { monetaryBudget: { amount: number } };
      };
      const start = isoDay(e.startDate);
      const end = isoDay(e.endDate);
      return drop({
        ...head,
        campaignId: e.id,
        portfolioId: e.portfolioId,
        name: e.name,
        startDateTime: start && `${start}T00:00:00Z`,
        endDateTime: end && `${end}T00:00:00Z`,
        targetingSettings: x.targetingSettings,
        budget: {
          budgetCap: {
            monetaryBudget: { amount: caps.budgetValue.monetaryBudget.amount, currencyCode: profile.currencyCode },
            recurrence: { recurrenceType: caps.recurrenceTimePeriod },
          },
        },
        bidSetting:
          e.product === 'sp'
            ? {
                bidStrategy: EXPORT_BID_STRATEGY[e.biddingStrategy!] ? e.biddingStrategy : undefined,
                placementBidAdjustment: placementAdjustments(e),
              }
            : undefined,
      });
    }
    case 'adgroups':
      return drop({
        ...head,
        adGroupId: e.id,
        campaignId: e.campaignId,
        name: e.name,
        bidValue:
          e.defaultBid === undefined
            ? undefined
            : { defaultBid: { value: e.defaultBid, currencyCode: profile.currencyCode } },
      });
    case 'ads':
      return drop({
        ...head,
        adId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        name: e.name,
        asin: e.asin,
        sku: e.sku,
      });
    case 'targets': {
      const keyword = e.kind === 'keyword';
      const first = e.expression?.[0];
      return drop({
        ...head,
        targetId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        targetType: keyword ? 'KEYWORD' : e.expressionType === 'AUTO' ? 'AUTO' : 'EXPRESSION',
        negative: false,
        bid: e.bid,
        currencyCode: profile.currencyCode,
        keywordTarget: keyword ? { keyword: e.keywordText, matchType: e.matchType } : undefined,
        productTarget:
          keyword || !first
            ? undefined
            : {
                matchType: first.type,
                targetingClause: first.value === undefined ? first.type : `${first.type}="${first.value}"`,
              },
      });
    }
  }
}

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

/**
 * Which campaign-report column becomes which Stream field, per dataset. The hourly records of a
 * campaign's local day sum exactly to its campaign report for that day, so the reconciliation of
 * Stream with the daily reports has an exact answer to find.
 */
/** The datasets whose hours are a share of a campaign report's day. */
type SplitDataset = Exclude<
  StreamDataset,
  'budget-usage' | 'sp-budget-recommendations' | 'sponsored-ads-campaign-diagnostics-recommendations' | DspStreamDataset
>;

const WINDOWS = ['1d', '7d', '14d', '30d'];
/** SB and SD campaign reports name their 14-day conversions alike, and so do their Stream datasets. */
const SB_SD_CONVERSION = {
  purchases: 'attributed_conversions_14d',
  sales: 'attributed_sales_14d',
  unitsSold: 'attributed_units_ordered_14d',
  newToBrandPurchases: 'attributed_orders_new_to_brand_14d',
  newToBrandSales: 'attributed_sales_new_to_brand_14d',
  newToBrandUnitsSold: 'attributed_units_ordered_new_to_brand_14d',
};
const STREAM_FIELDS: Record<SplitDataset, Record<string, string>> = {
  'sp-traffic': { impressions: 'impressions', clicks: 'clicks', cost: 'cost' },
  'sp-conversion': Object.fromEntries(
    WINDOWS.flatMap((w) => [
      [`purchases${w}`, `attributed_conversions_${w}`],
      [`purchasesSameSku${w}`, `attributed_conversions_${w}_same_sku`],
      [`sales${w}`, `attributed_sales_${w}`],
      [`attributedSalesSameSku${w}`, `attributed_sales_${w}_same_sku`],
      [`unitsSoldClicks${w}`, `attributed_units_ordered_${w}`],
      [`unitsSoldSameSku${w}`, `attributed_units_ordered_${w}_same_sku`],
    ]),
  ),
  'sb-traffic': {
    impressions: 'impressions',
    clicks: 'clicks',
    cost: 'cost',
    viewableImpressions: 'viewable_impressions',
  },
  'sb-conversion': SB_SD_CONVERSION,
  'sd-traffic': { impressions: 'impressions', clicks: 'clicks', cost: 'cost', impressionsViews: 'view_impressions' },
  'sd-conversion': SB_SD_CONVERSION,
  // sbCampaigns' brandedSearches and detailPageViews count views and clicks, their *Clicks clicks only.
  'sb-clickstream': {
    brandedSearchesClicks: 'attributed_branded_searches_14d',
    brandedSearches: 'view_attributed_branded_searches_14d',
    detailPageViewsClicks: 'attributed_detail_page_views_14d',
    detailPageViews: 'view_attributed_detail_page_views_14d',
  },
  'sb-rich-media': {
    video5SecondViews: 'video_5_second_views',
    videoFirstQuartileViews: 'video_first_quartile_views',
    videoMidpointViews: 'video_midpoint_views',
    videoThirdQuartileViews: 'video_third_quartile_views',
    videoCompleteViews: 'video_complete_views',
    videoUnmutes: 'video_unmutes',
  },
};
const MONEY = /^(cost|sales|attributedSales|newToBrandSales)/;

/** The local (profile time zone) date of an instant. */
const localDate = (utcMs: number, timeZone: string) => localHour(utcMs, timeZone).slice(0, 10);

/** The UTC starts of the hours of a local day (23 or 25 on a DST change). */
function hoursOfLocalDay(date: string, timeZone: string): number[] {
  const guess = Date.parse(`${date}T00:00:00Z`);
  const out: number[] = [];
  for (let t = guess - 14 * HOUR; t < guess + 38 * HOUR; t += HOUR) if (localDate(t, timeZone) === date) out.push(t);
  return out;
}

/** Splits an integer total over weighted parts exactly (largest remainder, ties by position). */
function split(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  const sign = total < 0 ? -1 : 1;
  const abs = Math.abs(total);
  const raw = weights.map((w) => (abs * w) / sum);
  const out = raw.map(Math.floor);
  let left = abs - out.reduce((a, v) => a + v, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out.map((v) => v * sign);
}

/** The final value of every (cell, hour) of a campaign's local day, per Stream field. Cached per day. */
type DaySplit = Map<string, Record<string, number>>;
export type SplitCache = Map<string, DaySplit>;

function daySplit(ds: Dataset, p: number, dataset: SplitDataset, date: string, cache: SplitCache): DaySplit {
  const cacheKey = `${p}|${dataset}|${date}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const product = productOf(dataset);
  const profile = ds.profiles()[p]!;
  const fields = STREAM_FIELDS[dataset];
  const reportTypeId = `${product}Campaigns`;
  const rows = [
    ...reportRows(ds, {
      profileIndex: p,
      startDate: date,
      endDate: date,
      configuration: {
        adProduct: AD_PRODUCT_NAMES[product],
        reportTypeId,
        groupBy: ['campaign'],
        columns: ['campaignId', ...Object.keys(fields)],
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
        filters: null,
      },
      generationOf: () => FINAL_GENERATION,
    }),
  ];
  const hours = hoursOfLocalDay(date, profile.timezone);
  const byCampaign = new Map<string, { target: Entity | null; adId: string; adGroupId: string }[]>();
  for (const c of cells(ds, product, p)) {
    const list = byCampaign.get(c.target.campaignId!) ?? [];
    list.push({ target: c.target, adId: c.adId, adGroupId: c.target.adGroupId! });
    byCampaign.set(c.target.campaignId!, list);
  }
  const out: DaySplit = new Map();
  for (const row of rows) {
    const campaignId = String(row.campaignId);
    // A campaign delivering without a target we model still has its totals: one campaign-level cell.
    const targets = byCampaign.get(campaignId) ?? [{ target: null, adId: '', adGroupId: '' }];
    const parts = targets.flatMap((t) => hours.map((h) => ({ t, h })));
    const weights = parts.map(
      ({ t, h }) => 1 + (hash32(ds.seed, `w|${dataset}|${t.target?.id ?? campaignId}|${h}`) % 97),
    );
    for (const [col, field] of Object.entries(fields)) {
      const v = Number(row[col] ?? 0);
      const money = MONEY.test(col);
      const shares = split(money ? Math.round(v * 100) : Math.round(v), weights);
      shares.forEach((share, i) => {
        if (share === 0) return;
        const { t, h } = parts[i]!;
        const key = `${campaignId}|${t.target?.id ?? ''}|${h}`;
        // A record carries every measure of its dataset, 0 where the hour had none.
        const cell = out.get(key) ?? Object.fromEntries(Object.values(fields).map((f) => [f, 0]));
        cell[field] = money ? share / 100 : share;
        out.set(key, cell);
      });
    }
  }
  cache.set(cacheKey, out);
  return out;
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
 * A profile's records of one dataset for the hour starting at `hourMs` (UTC): the hour's share
 * of each campaign's report for the profile's local day. With revisions, the first record of a
 * cell is off (more clicks, later invalidated; fewer conversions, later attributed) and a
 * revision, with its own idempotency id, brings it to the final value.
 */
export function hourRecords(
  ds: Dataset,
  p: number,
  dataset: StreamDataset,
  hourMs: number,
  revisions: boolean,
  cache: SplitCache = new Map(),
): HourBatch {
  const profile = ds.profiles()[p]!;
  const base = {
    dataset_id: dataset,
    marketplace_id: profile.marketplaceStringId,
    advertiser_id: profile.accountInfo.id,
  };
  const out: HourBatch = { originals: [], revisions: [] };
  if (dataset === 'adsp-traffic' || dataset === 'adsp-conversion')
    throw new Error(`${dataset} is a DSP advertiser's: use dspHourRecords`);
  if (dataset === 'sp-budget-recommendations') {
    // A campaign whose usage reached 80 % in the hour (budget-usage below, the same draws) was out of
    // budget part of the day: Amazon recommends a budget and estimates what the last week missed.
    for (const c of ds.all('sp', 'campaign', p)) {
      if (!ds.delivering(c)) continue;
      const key = `${c.id}|${hourMs}`;
      if (unit(ds.seed, `bu|${key}`) > 0.3 || 5 * intBetween(ds.seed, `bu%|${key}`, 1, 20) < 80) continue;
      const budget = c.budget ?? 50;
      const day = new Date(hourMs).toISOString().slice(0, 10);
      const clicks = intBetween(ds.seed, `rec-c|${key}`, 5, 80);
      const money = (v: number) => Math.round(v * 100) / 100;
      out.originals.push({
        ...base,
        recommendation_time: new Date(hourMs + intBetween(ds.seed, `rec@|${key}`, 0, 3599) * 1000).toISOString(),
        campaign_id: c.id,
        suggested_budget: money(budget * (1.2 + unit(ds.seed, `rec-b|${key}`))),
        reason_for_suggestion: 'Campaign ran out of budget on recent days',
        estimated_missed_sales_lower: money(clicks * 1.5),
        estimated_missed_sales_upper: money(clicks * 3),
        estimated_missed_clicks_lower: clicks,
        estimated_missed_clicks_upper: clicks * 2,
        estimated_missed_impressions_lower: clicks * 40,
        estimated_missed_impressions_upper: clicks * 90,
        start_date: new Date(Date.parse(day) - 7 * 86_400_000).toISOString().slice(0, 10),
        end_date: day,
        percent_time_in_budget: Math.round(unit(ds.seed, `rec-t|${key}`) * 100) / 100,
      });
    }
    return out;
  }
  if (dataset === 'sponsored-ads-campaign-diagnostics-recommendations') {
    campaignRecommendations(ds, p, hourMs, base, out);
    return out;
  }
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
  const split_ = daySplit(ds, p, dataset, when.slice(0, 10), cache);
  const targets = new Map(cells(ds, product, p).map((c) => [c.target.id, c]));
  for (const [key, final] of split_) {
    const [campaignId, targetId, h] = key.split('|');
    if (Number(h) !== hourMs) continue;
    const cell = targetId ? targets.get(targetId) : undefined;
    const target = cell?.target;
    const dims: StreamRecord = {
      ...base,
      currency: profile.currencyCode,
      campaign_id: campaignId!,
      ad_group_id: target?.adGroupId ?? '',
      ad_id: cell?.adId ?? '',
      time_window_start: when,
    };
    if (product === 'sd') dims.target_id = targetId!;
    else dims.keyword_id = targetId!;
    if (dataset === 'sp-traffic') {
      dims.keyword_text = target?.keywordText ?? '';
      dims.match_type = target?.matchType ?? 'TARGETING_EXPRESSION';
      dims.placement = pickPlacement(ds.seed, key);
    }
    if (dataset === 'sb-traffic' || dataset === 'sb-clickstream' || dataset === 'sb-rich-media') {
      dims.keyword_text = target?.keywordText ?? '';
      dims.keyword_type = target?.kind === 'keyword' ? (target.matchType ?? 'BROAD') : 'TARGETING_EXPRESSION';
      dims.placement_type = 'Top of Search on-Amazon';
    }
    if (dataset === 'sd-traffic') dims.targeting_text = (target?.expression ?? []).map((e) => e.type).join(',');
    withRevisions(ds.seed, dataset, key, dims, final, revisions, out);
  }
  return out;
}

const WEEK_MS = 7 * 24 * HOUR;
const RECOMMENDATION_KINDS: Record<'sp' | 'sb' | 'sd', { type: string; description: string }[]> = {
  sp: [
    {
      type: 'CAMPAIGN_BUDGET',
      description:
        "High-performing campaign with ROAS greater than 3 and last week's budget utilization greater than 80%. We've estimated this is a missed opportunity in sales and clicks. Apply the recommended budget.",
    },
    {
      type: 'KEYWORD_BID',
      description:
        'Low-performing Sponsored Products campaign with at least one impression in the last 14 days and ROAS less than or equal to 3. Apply the recommended bid to improve performance.',
    },
  ],
  sb: [
    {
      type: 'KEYWORD_BID',
      description:
        'Low-performing Sponsored Brands campaign with at least one impression in the last 14 days and ROAS less than or equal to 3. Apply the recommended bid to improve performance.',
    },
  ],
  sd: [
    {
      type: 'PRODUCT_TARGETING_BID',
      description:
        "Low-performing Sponsored Display campaign with spend in the top 50% of the advertiser's campaigns. Apply the recommended bid to improve performance.",
    },
  ],
};

/**
 * The week's campaign recommendations (datasets/sponsored-ads-campaign-diagnostics-recommendations.md):
 * some delivering campaigns get one a week, its id the same whichever hour of the week sends it (a
 * resend is the same recommendation). Budget recommendations carry what the last week missed;
 * bid recommendations a target's current and recommended bid.
 */
function campaignRecommendations(ds: Dataset, p: number, hourMs: number, base: StreamRecord, out: HourBatch): void {
  const week = Math.floor(hourMs / WEEK_MS);
  const published = week * WEEK_MS;
  // Written as Amazon's example writes it: "2024-09-04T17:11:14 UTC" (recommendations/partner-opportunities/how-to.md).
  const day = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)} UTC`;
  for (const product of ['sp', 'sb', 'sd'] as const)
    for (const c of ds.all(product, 'campaign', p)) {
      if (!ds.delivering(c)) continue;
      const key = `diag|${c.id}|${week}`;
      // A fifth of the campaigns each week; sent in a few hours of it (resends of the same recommendation).
      if (unit(ds.seed, key) > 0.2 || unit(ds.seed, `${key}|${hourMs}`) > 0.5) continue;
      const kinds = RECOMMENDATION_KINDS[product];
      const kind = kinds[intBetween(ds.seed, `${key}|kind`, 0, kinds.length - 1)]!;
      const id = (what: string) => {
        const h = hash32(ds.seed, `${key}|${what}`).toString(16).padStart(8, '0');
        return `${h}-${h.slice(0, 4)}-4${h.slice(5, 8)}-8${h.slice(1, 4)}-${hash32(ds.seed, `${key}|${what}|2`).toString(16).padStart(12, '0')}`;
      };
      const budget = c.budget ?? 50;
      const clicks = intBetween(ds.seed, `${key}|clicks`, 5, 60);
      const budgetKind = kind.type === 'CAMPAIGN_BUDGET';
      const bid = Math.round((0.3 + unit(ds.seed, `${key}|bid`) * 2) * 100) / 100;
      const settings = (recommended: boolean) =>
        budgetKind
          ? {
              budget: {
                budget_rules: [
                  {
                    rule_name: recommended ? 'Recommended budget' : 'Current budget',
                    type: 'SCHEDULE',
                    increase_by: recommended ? String(Math.round(budget * 0.5 * 100) / 100) : '0',
                  },
                ],
              },
              ad_groups: null,
            }
          : {
              budget: null,
              ad_groups: [
                {
                  adgroup_id: `${c.id}1`,
                  target_type: product === 'sd' ? 'PRODUCT' : 'KEYWORD',
                  targets: [{ bid: recommended ? Math.round(bid * 1.3 * 100) / 100 : bid, match_type: 'BROAD' }],
                },
              ],
            };
      out.originals.push({
        ...base,
        recommendation_id: id('rec'),
        group_id: id('group'),
        apply_endpoint: '/recommendations/apply',
        type: kind.type,
        published_date: day(published),
        expiry_date: day(published + 2 * WEEK_MS),
        explanation: {
          description: kind.description,
          missed_opportunities: budgetKind
            ? {
                impressions: { lower_bound: clicks * 40, upper_bound: clicks * 90 },
                clicks: { lower_bound: clicks, upper_bound: clicks * 2 },
                conversions: { lower_bound: Math.floor(clicks / 10), upper_bound: Math.floor(clicks / 5) },
                time_period: 'LAST_7_DAYS',
              }
            : null,
        },
        campaign_name: c.name ?? '',
        campaign_id: c.id,
        ad_product: product.toUpperCase(),
        current_campaign_settings: settings(false),
        recommended_campaign_settings: settings(true),
      } as unknown as StreamRecord);
    }
}

/**
 * A cell's record for an hour, or (with revisions, for some cells) a first record that is off and
 * a revision with its own idempotency id that brings it to the final value. Traffic: invalid
 * clicks removed later (first count higher); conversions: attributed later (first count lower).
 */
function withRevisions(
  seed: number,
  dataset: StreamDataset,
  key: string,
  dims: StreamRecord,
  final: Record<string, number>,
  revisions: boolean,
  out: HourBatch,
): void {
  const id = (n: number) => `${dataset}-${hash32(seed, `${dataset}|${key}|${n}`).toString(16)}-${n}`;
  if (!revisions || unit(seed, `rev|${dataset}|${key}`) > 0.4) {
    out.originals.push({ ...dims, idempotency_id: id(0), ...final });
    return;
  }
  const costly = (m: string) => m === 'clicks' || m === 'cost' || m === 'total_cost' || m === 'supply_cost';
  const first: Record<string, number> = {};
  for (const [m, v] of Object.entries(final)) {
    // Video views are invalidated within 72 hours (first count higher); clickstream, like
    // conversions, is attributed later (first count lower).
    const shift = dataset.endsWith('-traffic') ? (costly(m) ? 1.25 : 1) : dataset === 'sb-rich-media' ? 1.25 : 0.5;
    first[m] = Number.isInteger(v) ? Math.round(v * shift) : round2(v * shift);
  }
  const delta: Record<string, number> = {};
  for (const [m, v] of Object.entries(final))
    delta[m] = Number.isInteger(v) && Number.isInteger(first[m]!) ? v - first[m]! : round2(v - first[m]!);
  out.originals.push({ ...dims, idempotency_id: id(0), ...first });
  out.revisions.push({ ...dims, idempotency_id: id(1), ...delta });
}

/**
 * Which dspCampaign report column becomes which adsp-* field (datasets/adsp-performance.md):
 * the hourly records of a creative's local day sum exactly to its dspCampaign report row.
 */
const DSP_STREAM_FIELDS: Record<DspStreamDataset, Record<string, string>> = {
  'adsp-traffic': {
    impressions: 'impressions',
    clicks: 'clicks',
    totalCost: 'total_cost',
    supplyCost: 'supply_cost',
    agencyFee: 'agency_fee',
    amazonDSPAudienceFee: 'amazon_dsp_audience_fee',
    amazonDSPConsoleFee: 'amazon_dsp_console_fee',
    grossImpressions: 'gross_impressions',
    invalidImpressions: 'invalid_impressions',
    viewableImpressions: 'viewable_impressions',
  },
  'adsp-conversion': {
    purchases: 'purchases',
    purchasesClicks: 'purchases_clicks',
    purchasesViews: 'purchases_views',
    sales: 'sales',
    unitsSold: 'units_sold',
    newToBrandPurchases: 'new_to_brand_purchases',
    totalPurchases: 'total_purchases',
    totalSales: 'total_sales',
    totalUnitsSold: 'total_units_sold',
  },
};
const DSP_MONEY = /Cost$|Fee$|[sS]ales$/;

/**
 * A DSP advertiser's records of an adsp-* dataset for the hour starting at `hourMs` (UTC): each
 * creative's dspCampaign report for the advertiser's local day, split over its hours. Records
 * carry no currency (the advertiser's is), and name orders campaign_id and line items adgroup_id.
 */
export function dspHourRecords(
  ds: Dataset,
  p: number,
  advertiserId: string,
  dataset: DspStreamDataset,
  hourMs: number,
  revisions: boolean,
  cache: SplitCache = new Map(),
): HourBatch {
  const profile = ds.profiles()[p]!;
  const when = localHour(hourMs, profile.timezone);
  const date = when.slice(0, 10);
  const fields = DSP_STREAM_FIELDS[dataset];
  const cacheKey = `dsp|${advertiserId}|${dataset}|${date}`;
  let day = cache.get(cacheKey);
  if (!day) {
    day = new Map();
    const rows = reportRows(ds, {
      profileIndex: p,
      startDate: date,
      endDate: date,
      configuration: {
        adProduct: 'DEMAND_SIDE_PLATFORM',
        reportTypeId: 'dspCampaign',
        groupBy: ['creative'],
        columns: ['orderId', 'lineItemId', 'creativeId', ...Object.keys(fields)],
        timeUnit: 'DAILY',
        format: 'GZIP_JSON',
        filters: [{ field: 'advertiserId', values: [advertiserId] }],
      },
      generationOf: () => FINAL_GENERATION,
    });
    const hours = hoursOfLocalDay(date, profile.timezone);
    for (const row of rows) {
      const cellKey = `${row.orderId}|${row.lineItemId}|${row.creativeId}`;
      const weights = hours.map((h) => 1 + (hash32(ds.seed, `w|${dataset}|${cellKey}|${h}`) % 97));
      for (const [col, field] of Object.entries(fields)) {
        const v = Number(row[col] ?? 0);
        const money = DSP_MONEY.test(col);
        split(money ? Math.round(v * 100) : Math.round(v), weights).forEach((share, i) => {
          if (share === 0) return;
          const key = `${cellKey}|${hours[i]}`;
          const cell = day!.get(key) ?? Object.fromEntries(Object.values(fields).map((f) => [f, 0]));
          cell[field] = money ? share / 100 : share;
          day!.set(key, cell);
        });
      }
    }
    cache.set(cacheKey, day);
  }
  const out: HourBatch = { originals: [], revisions: [] };
  for (const [key, final] of day) {
    const [orderId, lineItemId, creativeId, h] = key.split('|');
    if (Number(h) !== hourMs) continue;
    const dims: StreamRecord = {
      dataset_id: dataset,
      advertiser_id: advertiserId,
      marketplace_id: profile.marketplaceStringId,
      advertiser_country: profile.countryCode,
      advertiser_timezone: profile.timezone,
      campaign_id: orderId!,
      adgroup_id: lineItemId!,
      creative_id: creativeId!,
      time_window_start: when,
    };
    withRevisions(ds.seed, dataset, key, dims, final, revisions, out);
  }
  return out;
}

const PLACEMENTS = ['Top of Search on-Amazon', 'Detail Page on-Amazon', 'Other on-Amazon'];
const pickPlacement = (seed: number, key: string) => PLACEMENTS[hash32(seed, `pl|${key}`) % PLACEMENTS.length]!;

export const HOUR_MS = HOUR;
