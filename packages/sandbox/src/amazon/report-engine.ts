/**
 * Report rows for any request the contract accepts: every documented report type
 * and groupBy, DAILY or SUMMARY, filters, and every documented column.
 *
 *  - A groupBy picks the grain: campaigns, ad groups, ads, targets, search terms,
 *    placements, purchased or matched ASINs. Several groupBys give the finest of them.
 *  - A grain row delivers only while it and its parents are ENABLED; rows with no
 *    impressions are left out (search-term rows also need a click), as Amazon does.
 *  - Metrics are pure functions of (seed, grain row, day, pull generation), so exact
 *    totals of anything served can be recomputed. Additive columns of a SUMMARY row are
 *    the sums of the DAILY rows; rates are recomputed from those sums. Reach is of people,
 *    not added over days: a SUMMARY's is at least its largest day's and at most their sum.
 *  - Attribution windows nest (1d ≤ 7d ≤ 14d ≤ 30d), same-SKU ≤ all, click- and
 *    view-attributed parts add up to the total.
 *  - Restatement: conversions of a day grow with each later pull (generation 0 → 3), and
 *    (restateAwayEvery) a row can vanish from later pulls, its traffic judged invalid.
 */
import { addDays } from '@adsync/shared/calendar';
import { minorUnits } from '@adsync/shared/amazon/currency';
import type { AdProductKind, Dataset, Entity } from '../dataset.ts';
import { describingValue } from './report-values.ts';
import { hash32, intBetween, unit } from '../hash-random.ts';
import { AMAZON_REPORT_COLUMNS, AMAZON_REPORT_TYPES, type ReportConfiguration } from './report-contract.ts';

export const FINAL_GENERATION = 3;
const RESTATEMENT_FACTOR = [0.6, 0.8, 0.9, 1];
const WINDOW_SHARE: Record<string, number> = { '1': 0.5, '7': 0.8, '14': 0.95, '30': 1 };
const PLACEMENTS = ['Top of Search on-Amazon', 'Detail Page on-Amazon', 'Other on-Amazon'];

export type Value = string | number | null;
export type Row = Record<string, Value>;

export interface ReportSource {
  profileIndex: number;
  startDate: string;
  endDate: string;
  configuration: ReportConfiguration;
  /** The pull generation of each day (restatement); FINAL_GENERATION when restatement is off. */
  generationOf: (date: string) => number;
  /**
   * One in n rows of a day (by key) has its traffic judged invalid at every pull after the first
   * (generation > 0) and is no longer reported. 0 or absent: none.
   */
  restateAwayEvery?: number;
  /** Campaign ids the sandbox leaves out of this report (a fault: Amazon dropping campaigns silently). */
  omitCampaigns?: Set<string>;
  /** The DSP advertiser account the report was asked for (Amazon-Ads-AccountId): only its rows. */
  dspAccountId?: string | null;
}

// ---------------------------------------------------------------- grains

type Level =
  | 'campaign'
  | 'adGroup'
  | 'ad'
  | 'target'
  | 'searchTerm'
  | 'placement'
  | 'adGroupPlacement'
  | 'purchasedAsin'
  | 'matchedTarget';

interface GrainRow {
  key: string;
  product: AdProductKind;
  /** The finest entity the row describes (delivery follows it and its parents). */
  entity: Entity;
  campaign: Entity;
  adGroup?: Entity;
  ad?: Entity;
  target?: Entity;
  searchTerm?: string;
  placement?: string;
  purchasedAsin?: string;
  /** SB purchased products: bought as the promoted product, or another of the brand's. */
  attributionType?: string;
  matchedTargetAsin?: string;
}

const GROUP_LEVEL: Record<string, Level> = {
  campaign: 'campaign',
  adGroup: 'adGroup',
  campaignPlacement: 'placement',
  targeting: 'target',
  searchTerm: 'searchTerm',
  advertiser: 'ad',
  ads: 'ad',
  asin: 'purchasedAsin',
  purchasedAsin: 'purchasedAsin',
  matchedTarget: 'matchedTarget',
};
const FINENESS: Level[] = [
  'campaign',
  'adGroup',
  'placement',
  'adGroupPlacement',
  'ad',
  'target',
  'matchedTarget',
  'searchTerm',
  'purchasedAsin',
];

/**
 * The entity a report type's own base columns describe, whatever its groupBy: a targeting report
 * is a row per target whether grouped by campaign, ad group or targeting (stTargeting takes all
 * three: report-types/targeting.md lists keyword, keywordType, matchType among its base metrics).
 */
const TYPE_LEVEL: [RegExp, Level][] = [
  [/Targeting$/, 'target'],
  [/SearchTerm$/, 'searchTerm'],
  [/PurchasedProduct$/, 'purchasedAsin'],
  [/AdvertisedProduct$|^sbAds$/, 'ad'],
  [/AdGroup$/, 'adGroup'],
];

/** The grain of a request: the finest level among its groupBys and its type's own (adGroup with placement → ad group × placement). */
export function grainOf(groupBy: string[], reportTypeId = ''): Level {
  const levels = groupBy.map((g) => GROUP_LEVEL[g] ?? 'campaign');
  const own = TYPE_LEVEL.find(([re]) => re.test(reportTypeId))?.[1];
  if (own) levels.push(own);
  if (levels.includes('adGroup') && levels.includes('placement')) return 'adGroupPlacement';
  return levels.sort((a, b) => FINENESS.indexOf(b) - FINENESS.indexOf(a))[0]!;
}

/** Sponsored ads' products by the adProduct of a report type; DSP and ALL have no sponsored grain. */
const PRODUCT_OF: Record<string, AdProductKind> = {
  SPONSORED_PRODUCTS: 'sp',
  SPONSORED_BRANDS: 'sb',
  SPONSORED_DISPLAY: 'sd',
  SPONSORED_TELEVISION: 'st',
};

function* grainRows(
  ds: Dataset,
  product: AdProductKind,
  level: Level,
  reportTypeId: string,
  p: number,
): Generator<GrainRow> {
  const campaignOf = (e: Entity) => ds.entity(product, 'campaign', p, ds.indexOf(e.campaignId!));
  const adGroupOf = (e: Entity) => ds.entity(product, 'adGroup', p, ds.indexOf(e.adGroupId!));
  const targets = () =>
    product === 'sd' || product === 'st'
      ? [...ds.all(product, 'productTarget', p)]
      : [...ds.all(product, 'keyword', p), ...ds.all(product, 'productTarget', p)];
  switch (level) {
    case 'campaign':
      for (const c of ds.all(product, 'campaign', p)) yield { key: c.id, product, entity: c, campaign: c };
      return;
    case 'placement':
      for (const c of ds.all(product, 'campaign', p))
        for (const pl of PLACEMENTS) yield { key: `${c.id}:${pl}`, product, entity: c, campaign: c, placement: pl };
      return;
    case 'adGroup':
      for (const g of ds.all(product, 'adGroup', p))
        yield { key: g.id, product, entity: g, campaign: campaignOf(g), adGroup: g };
      return;
    case 'adGroupPlacement':
      for (const g of ds.all(product, 'adGroup', p))
        for (const pl of PLACEMENTS)
          yield { key: `${g.id}:${pl}`, product, entity: g, campaign: campaignOf(g), adGroup: g, placement: pl };
      return;
    case 'ad':
      for (const a of ds.all(product, 'ad', p))
        yield { key: a.id, product, entity: a, campaign: campaignOf(a), adGroup: adGroupOf(a), ad: a };
      return;
    case 'target':
      for (const t of targets())
        yield { key: t.id, product, entity: t, campaign: campaignOf(t), adGroup: adGroupOf(t), target: t };
      return;
    case 'matchedTarget': {
      const parents: Entity[] =
        reportTypeId === 'sdCampaigns'
          ? [...ds.all(product, 'campaign', p)]
          : reportTypeId === 'sdAdGroup'
            ? [...ds.all(product, 'adGroup', p)]
            : targets();
      for (const e of parents) {
        for (let m = 0; m < ds.scale.matchedTargetsPerAdGroup; m++) {
          yield {
            key: `${e.id}:m${m}`,
            product,
            entity: e,
            campaign: e.kind === 'campaign' ? e : campaignOf(e),
            adGroup: e.kind === 'adGroup' ? e : e.adGroupId ? adGroupOf(e) : undefined,
            target: e.kind === 'productTarget' ? e : undefined,
            matchedTargetAsin: ds.asin((hash32(ds.seed, `${e.id}:m${m}`) % 500) + 700),
          };
        }
      }
      return;
    }
    case 'searchTerm':
      for (const t of targets()) {
        for (let s = 0; s < ds.scale.searchTermsPerKeyword; s++) {
          const base = t.kind === 'keyword' ? t.keywordText! : 'coffee';
          yield {
            key: `${t.id}:st${s}`,
            product,
            entity: t,
            campaign: campaignOf(t),
            adGroup: adGroupOf(t),
            target: t,
            searchTerm: `${base} ${['best', 'cheap', 'for men', 'for women', 'bulk'][s % 5]}`,
          };
        }
      }
      return;
    case 'purchasedAsin': {
      // Amazon groups these rows by what the report names: SB by ad group and purchased
      // ASIN (it names no ad), SP and SD by ad group, advertised and purchased ASIN. Each
      // (parent, purchased ASIN) is drawn once, so no two rows share a key.
      const pick = (parentKey: string, k: number) => ds.asin(1000 + ((hash32(ds.seed, `${parentKey}:pa`) + k) % 500));
      if (product === 'sb') {
        for (const g of ds.all(product, 'adGroup', p))
          for (let k = 0; k < ds.scale.purchasedAsinsPerAd; k++)
            yield {
              key: `${g.id}:pa${k}`,
              product,
              entity: g,
              campaign: campaignOf(g),
              adGroup: g,
              purchasedAsin: pick(g.id, k),
              attributionType: k % 2 === 0 ? 'Promoted' : 'Brand Halo',
            };
        return;
      }
      const seen = new Set<string>();
      // SP names the keyword or target that led to each purchase (keywordId, keyword, keywordType):
      // one of the ad's ad group, drawn per row; an ad group that targets nothing sells nothing.
      const byAdGroup = new Map<string, Entity[]>();
      if (product === 'sp')
        for (const t of targets()) byAdGroup.set(t.adGroupId!, [...(byAdGroup.get(t.adGroupId!) ?? []), t]);
      for (const a of ds.all(product, 'ad', p)) {
        // Two ads of one ad group advertising the same ASIN would be one row at Amazon.
        const advertised = `${a.adGroupId}:${a.asin}`;
        if (seen.has(advertised)) continue;
        seen.add(advertised);
        const clauses = byAdGroup.get(a.adGroupId!) ?? [];
        if (product === 'sp' && clauses.length === 0) continue;
        for (let k = 0; k < ds.scale.purchasedAsinsPerAd; k++) {
          yield {
            key: `${a.id}:pa${k}`,
            product,
            entity: a,
            campaign: campaignOf(a),
            adGroup: adGroupOf(a),
            ad: a,
            target: product === 'sp' ? clauses[hash32(ds.seed, `${a.id}:pa${k}:t`) % clauses.length] : undefined,
            purchasedAsin: pick(advertised, k),
          };
        }
      }
      return;
    }
  }
}

// ---------------------------------------------------------------- dimension columns

/** How reports print SP's predefined expressions (the names the console shows). */
const PREDEFINED_TEXT: Record<string, string> = {
  QUERY_HIGH_REL_MATCHES: 'close-match',
  QUERY_BROAD_REL_MATCHES: 'loose-match',
  ASIN_SUBSTITUTE_RELATED: 'substitutes',
  ASIN_ACCESSORY_RELATED: 'complements',
};

const expressionText = (t: Entity) =>
  t.expression
    ?.map((x) =>
      x.value === undefined
        ? (PREDEFINED_TEXT[x.type] ?? x.type.toLowerCase().replace(/_/g, '-'))
        : `${x.type === 'ASIN_BRAND_SAME_AS' ? 'brand' : 'asin'}="${x.value}"`,
    )
    .join(' ') ?? '';

/** The non-metric columns of a grain row (ids as JSON numbers, as reports send them). */
function dimensions(ds: Dataset, g: GrainRow, currency: string, startDate: string, endDate: string): Row {
  const c = g.campaign;
  const t = g.target;
  const isKeyword = t?.kind === 'keyword';
  const keywordType = t
    ? isKeyword
      ? t.matchType!
      : t.expressionType === 'AUTO'
        ? 'TARGETING_EXPRESSION_PREDEFINED'
        : 'TARGETING_EXPRESSION'
    : null;
  const ruleIndex = ds.count(g.product, 'budgetRule') > 0 ? 0 : -1;
  const rule =
    ruleIndex >= 0 && ds.budgetRuleCampaigns(g.product, c.profileIndex, 0).includes(c.id)
      ? ds.entity(g.product, 'budgetRule', c.profileIndex, 0)
      : null;
  const d: Row = {
    startDate,
    endDate,
    campaignId: Number(c.id),
    campaignName: c.name ?? null,
    campaignStatus: c.state,
    campaignBudgetAmount: c.budget ?? null,
    campaignBudgetType: 'DAILY_BUDGET',
    campaignBudgetCurrencyCode: currency,
    budgetCurrency: currency,
    campaignRuleBasedBudgetAmount: rule
      ? Math.round((c.budget ?? 0) * (1 + (rule.increasePercent ?? 0) / 100) * 100) / 100
      : null,
    campaignApplicableBudgetRuleId: rule?.id ?? null,
    campaignApplicableBudgetRuleName: rule?.name ?? null,
    campaignBiddingStrategy: c.biddingStrategy ?? null,
    portfolioId: c.portfolioId ? Number(c.portfolioId) : null,
    costType: c.costType ?? null,
    campaignPriceTypeCode: c.costType ?? null,
    placementClassification: g.placement ?? null,
  };
  if (g.adGroup)
    Object.assign(d, {
      adGroupId: Number(g.adGroup.id),
      adGroupName: g.adGroup.name ?? null,
      adStatus: g.adGroup.state,
      bidOptimization: g.adGroup.bidOptimization ?? null,
    });
  if (g.ad)
    Object.assign(d, {
      adId: Number(g.ad.id),
      advertisedAsin: g.ad.asin ?? null,
      advertisedSku: g.ad.sku ?? null,
      promotedAsin: g.ad.asin ?? null,
      promotedSku: g.ad.sku ?? null,
      adStatus: g.ad.state,
      adCreativeStatus: g.ad.state,
    });
  if (t) {
    const text = isKeyword ? t.keywordText! : expressionText(t);
    Object.assign(d, {
      keywordId: Number(t.id),
      targetingId: Number(t.id),
      keyword: text,
      keywordText: text,
      targeting: text,
      targetingExpression: text,
      targetingText: text,
      matchType: keywordType,
      keywordType,
      targetingType: keywordType,
      adKeywordStatus: t.state,
      keywordStatus: t.state,
      keywordBid: t.bid ?? null,
    });
  }
  if (g.searchTerm) Object.assign(d, { searchTerm: g.searchTerm, query: g.searchTerm });
  if (g.purchasedAsin)
    Object.assign(d, {
      purchasedAsin: g.purchasedAsin,
      // SD names the purchased product of the brand "halo" ASIN.
      asinBrandHalo: g.purchasedAsin,
      attributionType: g.attributionType ?? null,
      productName: `Sandbox product ${g.purchasedAsin}`,
      productCategory: 'Grocery',
    });
  if (g.matchedTargetAsin) d.matchedTargetAsin = g.matchedTargetAsin;
  return d;
}

// ---------------------------------------------------------------- metric columns

type Sums = (col: string) => number;
interface MetricSpec {
  /** Additive: the day's value (summed over days in SUMMARY). */
  day?: (b: DayBase, col: string) => number;
  /** A ratio: recomputed from the (summed) additive columns it names. */
  rate?: (s: Sums) => number;
  money?: boolean;
  /** People, not events (reach): over several days, between the largest day and the sum (one person seen twice is one). */
  unique?: boolean;
}

interface DayBase {
  impressions: number;
  clicks: number;
  cost: number;
  /** Attributed purchases per window, after restatement. */
  orders: Record<string, number>;
  units: Record<string, number>;
  price: number;
  key: string;
  seed: number;
  money: (v: number) => number;
}

const reachOf = (b: DayBase) => Math.max(1, Math.floor(b.impressions / (1 + unit(b.seed, `${b.key}:freq`) * 4)));
const div = (a: number, b: number, scale = 1) => (b > 0 ? Math.round((a / b) * scale * 10_000) / 10_000 : 0);
const w = (col: string) => /(\d+)d$/.exec(col)?.[1] ?? '14';

const METRICS: { test: RegExp; spec: MetricSpec }[] = [
  { test: /^impressions$/, spec: { day: (b) => b.impressions } },
  { test: /^clicks$/, spec: { day: (b) => b.clicks } },
  { test: /^(cost|spend)$/, spec: { day: (b) => b.cost, money: true } },
  // DSP: what the advertiser pays, and the part that buys the inventory.
  { test: /^totalCost$/, spec: { day: (b) => b.money(b.cost * 1.15), money: true } },
  { test: /^supplyCost$/, spec: { day: (b) => b.cost, money: true } },
  // DSP reach and frequency (guide reach.md, campaign.md): the people a row's impressions reached
  // that day, each seen about `frequencyAverage` times (never below one); households fewer.
  { test: /^reach$/, spec: { day: (b) => reachOf(b), unique: true } },
  { test: /^householdReach$/, spec: { day: (b) => Math.max(1, Math.floor(reachOf(b) * 0.8)), unique: true } },
  { test: /^(frequencyAverage|impressionFrequencyAverage)$/, spec: { rate: (s) => div(s('impressions'), s('reach')) } },
  { test: /^householdFrequencyAverage$/, spec: { rate: (s) => div(s('impressions'), s('householdReach')) } },
  { test: /^viewableImpressions$|^impressionsViews$/, spec: { day: (b) => Math.floor(b.impressions * 0.7) } },
  { test: /^invalidImpressions$/, spec: { day: (b) => Math.floor(b.impressions * 0.03) } },
  { test: /^grossImpressions$/, spec: { day: (b) => b.impressions + Math.floor(b.impressions * 0.03) } },
  { test: /^invalidClickThroughs$/, spec: { day: (b) => Math.floor(b.clicks * 0.05) } },
  { test: /^grossClickThroughs$/, spec: { day: (b) => b.clicks + Math.floor(b.clicks * 0.05) } },
  // SP: windowed purchases, sales and units; same-SKU and other-SKU parts.
  { test: /^(purchases|orders)\d+d$/, spec: { day: (b, c) => b.orders[w(c)]! } },
  { test: /^purchasesSameSku\d+d$/, spec: { day: (b, c) => Math.floor(b.orders[w(c)]! * 0.7) } },
  { test: /^purchasesOtherSku\d+d$/, spec: { day: (b, c) => b.orders[w(c)]! - Math.floor(b.orders[w(c)]! * 0.7) } },
  { test: /^sales\d+d$/, spec: { day: (b, c) => b.money(b.orders[w(c)]! * b.price), money: true } },
  {
    test: /^attributedSalesSameSku\d+d$/,
    spec: { day: (b, c) => b.money(Math.floor(b.orders[w(c)]! * 0.7) * b.price), money: true },
  },
  {
    test: /^salesOtherSku\d+d$/,
    spec: { day: (b, c) => b.money((b.orders[w(c)]! - Math.floor(b.orders[w(c)]! * 0.7)) * b.price), money: true },
  },
  { test: /^unitsSold(Clicks)?\d+d$/, spec: { day: (b, c) => b.units[w(c)]! } },
  { test: /^unitsSoldSameSku\d+d$/, spec: { day: (b, c) => Math.floor(b.units[w(c)]! * 0.7) } },
  { test: /^unitsSoldOtherSku\d+d$/, spec: { day: (b, c) => b.units[w(c)]! - Math.floor(b.units[w(c)]! * 0.7) } },
  { test: /^ordersClicks14d$/, spec: { day: (b) => Math.floor(b.orders['14']! * 0.6) } },
  { test: /^salesClicks14d$/, spec: { day: (b) => b.money(Math.floor(b.orders['14']! * 0.6) * b.price), money: true } },
  // SB, SD and ST: 14-day totals, split into click- and view-attributed parts; promoted and new-to-brand shares.
  { test: /^purchases$/, spec: { day: (b) => b.orders['14']! } },
  { test: /^purchasesClicks$/, spec: { day: (b) => Math.floor(b.orders['14']! * 0.6) } },
  { test: /^purchasesViews$/, spec: { day: (b) => b.orders['14']! - Math.floor(b.orders['14']! * 0.6) } },
  { test: /^purchasesPromoted$/, spec: { day: (b) => Math.floor(b.orders['14']! * 0.9) } },
  { test: /^purchasesPromotedClicks$/, spec: { day: (b) => Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.9) } },
  { test: /^sales$/, spec: { day: (b) => b.money(b.orders['14']! * b.price), money: true } },
  { test: /^salesClicks$/, spec: { day: (b) => b.money(Math.floor(b.orders['14']! * 0.6) * b.price), money: true } },
  {
    test: /^salesViews$/,
    spec: { day: (b) => b.money((b.orders['14']! - Math.floor(b.orders['14']! * 0.6)) * b.price), money: true },
  },
  { test: /^salesPromoted$/, spec: { day: (b) => b.money(Math.floor(b.orders['14']! * 0.9) * b.price), money: true } },
  {
    test: /^salesPromotedClicks$/,
    spec: { day: (b) => b.money(Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.9) * b.price), money: true },
  },
  { test: /^unitsSold$/, spec: { day: (b) => b.units['14']! } },
  { test: /^unitsSoldClicks$/, spec: { day: (b) => Math.floor(b.units['14']! * 0.6) } },
  { test: /^unitsSoldViews$/, spec: { day: (b) => b.units['14']! - Math.floor(b.units['14']! * 0.6) } },
  { test: /^newToBrand(Purchases|Orders)(14d)?$/, spec: { day: (b) => Math.floor(b.orders['14']! * 0.4) } },
  { test: /^newToBrandPurchasesClicks$/, spec: { day: (b) => Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.4) } },
  {
    test: /^newToBrandPurchasesViews$/,
    spec: { day: (b) => Math.floor(b.orders['14']! * 0.4) - Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.4) },
  },
  {
    test: /^newToBrandSales(14d)?$/,
    spec: { day: (b) => b.money(Math.floor(b.orders['14']! * 0.4) * b.price), money: true },
  },
  {
    test: /^newToBrandSalesClicks$/,
    spec: { day: (b) => b.money(Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.4) * b.price), money: true },
  },
  {
    test: /^newToBrandSalesViews$/,
    spec: {
      day: (b) =>
        b.money((Math.floor(b.orders['14']! * 0.4) - Math.floor(Math.floor(b.orders['14']! * 0.6) * 0.4)) * b.price),
      money: true,
    },
  },
  { test: /^newToBrandUnitsSold(14d)?$/, spec: { day: (b) => Math.floor(b.units['14']! * 0.4) } },
  { test: /^newToBrandUnitsSoldClicks$/, spec: { day: (b) => Math.floor(Math.floor(b.units['14']! * 0.6) * 0.4) } },
  {
    test: /^newToBrandUnitsSoldViews$/,
    spec: { day: (b) => Math.floor(b.units['14']! * 0.4) - Math.floor(Math.floor(b.units['14']! * 0.6) * 0.4) },
  },
  // DSP bid adjustments (dsp/bid-adjustments/reports.md): bid responses, of which the impressions won.
  { test: /^bids$/, spec: { day: (b) => b.impressions * intBetween(b.seed, `${b.key}:bids`, 8, 60) } },
  { test: /^winRate$/, spec: { rate: (s) => div(s('impressions'), s('bids')) } },
  // Ratios, recomputed from their parts.
  { test: /^clickThroughRate$/, spec: { rate: (s) => div(s('clicks'), s('impressions')) } },
  { test: /^costPerClick$/, spec: { rate: (s) => div(s('cost'), s('clicks')) } },
  { test: /^costPerThousandImpressions$/, spec: { rate: (s) => div(s('cost'), s('impressions'), 1000) } },
  { test: /^acosClicks(\d+)d$/, spec: { rate: () => 0 } },
  { test: /^roasClicks(\d+)d$/, spec: { rate: () => 0 } },
  { test: /^roas$/, spec: { rate: (s) => div(s('sales'), s('cost')) } },
  { test: /^viewabilityRate$/, spec: { rate: (s) => div(s('viewableImpressions'), s('impressions')) } },
  { test: /^viewClickThroughRate$/, spec: { rate: (s) => div(s('clicks'), s('viewableImpressions')) } },
  { test: /^invalidClickThroughRate$/, spec: { rate: (s) => div(s('invalidClickThroughs'), s('grossClickThroughs')) } },
  { test: /^invalidImpressionRate$/, spec: { rate: (s) => div(s('invalidImpressions'), s('grossImpressions')) } },
  { test: /^newToBrandPurchasesRate$/, spec: { rate: (s) => div(s('newToBrandPurchases'), s('clicks')) } },
  {
    test: /^newToBrand(Purchases|Orders)Percentage(14d)?$/,
    spec: { rate: (s) => div(s('newToBrandPurchases'), s('purchases'), 100) },
  },
  { test: /^newToBrandSalesPercentage(14d)?$/, spec: { rate: (s) => div(s('newToBrandSales'), s('sales'), 100) } },
  {
    test: /^newToBrandUnitsSoldPercentage(14d)?$/,
    spec: { rate: (s) => div(s('newToBrandUnitsSold'), s('unitsSold'), 100) },
  },
];

function specOf(col: string): MetricSpec {
  for (const m of METRICS) {
    if (!m.test.test(col)) continue;
    if (/^acosClicks/.test(col)) return { rate: (s) => div(s('cost'), s(`sales${w(col)}d`)) };
    if (/^roasClicks/.test(col)) return { rate: (s) => div(s(`sales${w(col)}d`), s('cost')) };
    return m.spec;
  }
  const type = AMAZON_REPORT_COLUMNS[col]?.type;
  // Columns whose meaning the sandbox does not model get plausible, deterministic values of their type.
  if (type === 'Integer' || type === null)
    return { day: (b, c) => Math.floor(b.impressions * unit(b.seed, `${b.key}:${c}`) * 0.1) };
  if (/Sales|Royalties/.test(col)) return { day: (b, c) => b.money(unit(b.seed, `${b.key}:${c}`) * 40), money: true };
  // DSP's fees and costs (agency, Amazon's, third parties', per-conversion values): a share of the spend.
  if (/^3[pP]|Fees?$|Absorbed$|Cost$|^sales|ValueSum$/.test(col))
    return { day: (b, c) => b.money(unit(b.seed, `${b.key}:${c}`) * b.cost * 0.2), money: true };
  return { rate: () => NaN };
}

function dayBase(seed: number, key: string, date: string, generation: number, currency: string): DayBase {
  const k = `${key}@${date}`;
  const impressions = intBetween(seed, `${k}:imp`, 1, 3000);
  const clicks = Math.floor(impressions * (0.002 + unit(seed, `${k}:ctr`) * 0.05));
  const zeroDecimals = minorUnits(currency) === 0;
  const money = (v: number) => (zeroDecimals ? Math.round(v) : Math.round(v * 100) / 100);
  const cost = money(clicks * (0.2 + unit(seed, `${k}:cpc`) * 2.8));
  const final = Math.floor(clicks * (0.04 + unit(seed, `${k}:cvr`) * 0.2));
  const restated = RESTATEMENT_FACTOR[Math.min(generation, FINAL_GENERATION)]!;
  const extra = final > 0 ? intBetween(seed, `${k}:extra`, 0, Math.ceil(final / 3)) : 0;
  const orders: Record<string, number> = {};
  const units: Record<string, number> = {};
  for (const [win, share] of Object.entries(WINDOW_SHARE)) {
    orders[win] = Math.floor(final * share * restated);
    units[win] = orders[win]! + Math.floor(extra * share * restated);
  }
  return { impressions, clicks, cost, orders, units, price: 5 + unit(seed, `${k}:price`) * 55, key: k, seed, money };
}

/** The additive columns a row needs: the requested ones and the parts of requested ratios. */
function additiveNeeded(columns: string[]): string[] {
  const needed = new Set<string>(['impressions', 'clicks']);
  for (const c of columns) {
    const s = specOf(c);
    if (s.day) needed.add(c);
    if (s.rate) {
      const probe = new Set<string>();
      s.rate((x) => (probe.add(x), 1));
      for (const x of probe) needed.add(x);
    }
  }
  return [...needed];
}

// ---------------------------------------------------------------- rows

function daysOf(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A row's identity and its non-metric columns, before any day's metrics. */
interface Cell {
  key: string;
  dims: Row;
  campaignId?: string;
}

/** Sponsored ads rows at the grain of the groupBys the engine models (campaign … purchased ASIN). */
function* sponsoredCells(ds: Dataset, product: AdProductKind, src: ReportSource, currency: string): Generator<Cell> {
  const cfg = src.configuration;
  const known = cfg.groupBy.filter((g) => g in GROUP_LEVEL);
  const level = grainOf(known.length ? known : ['campaign'], cfg.reportTypeId);
  for (const g of grainRows(ds, product, level, cfg.reportTypeId, src.profileIndex)) {
    if (!ds.delivering(g.entity) || src.omitCampaigns?.has(g.campaign.id)) continue;
    yield { key: g.key, dims: dimensions(ds, g, currency, src.startDate, src.endDate), campaignId: g.campaign.id };
  }
}

/** groupBys that name a DSP entity, finest last: the finest one in a request picks the row's entity. */
const DSP_LEVELS: Record<string, number> = { advertiser: 0, order: 1, campaign: 1, lineItem: 2, ad: 2, creative: 3 };

/** DSP rows: one per advertiser, order, line item or creative, as the request's finest entity groupBy says. */
function* dspCells(ds: Dataset, src: ReportSource, currency: string): Generator<Cell> {
  // A type whose base columns name a line item (dspBidAdjustment) is a row per line item at least.
  const base = AMAZON_REPORT_TYPES[src.configuration.reportTypeId]!.baseColumns;
  const own = base.includes('creativeId') ? 3 : base.includes('lineItemId') ? 2 : base.includes('orderId') ? 1 : 0;
  const depth = Math.max(own, ...src.configuration.groupBy.map((g) => DSP_LEVELS[g] ?? 0));
  // bid-adjustment.md: the report shows only line items with bid adjustments (here two in three).
  const adjustedOnly = src.configuration.reportTypeId === 'dspBidAdjustment';
  for (const a of ds.dspAdvertisers(src.profileIndex)) {
    if (src.dspAccountId && a.advertiserId !== src.dspAccountId) continue;
    const base: Row = {
      advertiserId: a.advertiserId,
      advertiserName: a.name,
      entityId: a.advertiserId,
      advertiserTimezone: ds.profiles()[src.profileIndex]!.timezone,
      advertiserCountry: ds.profiles()[src.profileIndex]!.countryCode,
      orderCurrency: currency,
    };
    if (depth === 0) {
      yield { key: `dsp:${a.advertiserId}`, dims: base };
      continue;
    }
    for (const o of a.orders) {
      const order: Row = {
        ...base,
        orderId: o.orderId,
        orderName: o.name,
        orderBudget: o.budget,
        orderStartDate: o.startDate,
        orderEndDate: o.endDate,
        orderExternalId: `EXT-${o.orderId}`,
        omsProposalId: String(Number(o.orderId) + 7),
      };
      if (depth === 1) {
        yield { key: `dsp:${o.orderId}`, dims: order };
        continue;
      }
      for (const l of o.lineItems) {
        if (adjustedOnly && hash32(ds.seed, `bidAdjustments:${l.lineItemId}`) % 3 === 0) continue;
        const line: Row = {
          ...order,
          lineItemId: l.lineItemId,
          lineItemName: l.name,
          lineItemType: l.type,
          lineItemBudget: l.budget,
          lineItemStartDate: o.startDate,
          lineItemEndDate: o.endDate,
          lineItemExternalId: `EXT-${l.lineItemId}`,
          omsLineItemId: String(Number(l.lineItemId) + 7),
          lineItemComments: '',
          // Its bid adjustment rule, which every matched-terms row of it shares (reports.md's examples).
          ...(adjustedOnly ? bidAdjustmentRule(ds.seed, l.lineItemId, 0) : {}),
        };
        if (depth === 2) {
          yield { key: `dsp:${l.lineItemId}`, dims: line };
          continue;
        }
        for (const c of l.creatives)
          yield {
            key: `dsp:${c.creativeId}`,
            dims: {
              ...line,
              creativeId: c.creativeId,
              creativeName: c.name,
              creativeType: c.type,
              creativeSize: c.size,
            },
          };
      }
    }
  }
}

/** A bid adjustment rule: its name and its id, a UUID as Amazon's are (reports.md). Pure. */
function bidAdjustmentRule(seed: number, owner: string, m: number): Row {
  const h = (i: number) => hash32(seed, `rule:${owner}:${m}:${i}`).toString(16).padStart(8, '0');
  return {
    bidAdjustmentRule: describingValue(seed, 'bidAdjustmentRule', m, owner),
    bidAdjustmentRuleId: `${h(0)}-${h(1).slice(0, 4)}-4${h(1).slice(5, 8)}-8${h(2).slice(1, 4)}-${h(3)}${h(4).slice(0, 4)}`,
  };
}

/** How many members a groupBy the engine does not model as an entity splits a row into (a postal code, a site, …). */
const MEMBERS = 3;

/**
 * Bid adjustment matched terms as dsp/bid-adjustments/reports.md shows them: each term's ids, the
 * factor applied and the share of the line item's traffic it matched (its first example's shares,
 * which add up to one); the default traffic has no ids and no factor.
 */
const MATCHED_TERMS: Record<string, readonly Value[]> = {
  bidAdjustmentMatchedTermIds: ['[1]', '[2]', '[]'],
  bidAdjustment: [1.4, 1.2, null],
  matchRate: [0.2083, 0.3975, 0.3942],
};

/** A member's value of a column its groupBy adds: an id, a count, a rate or a name, by the column's documented type. */
function memberValue(seed: number, groupBy: string, col: string, m: number): Value {
  if (groupBy === 'bidAdjustmentMatchedTerms' && MATCHED_TERMS[col]) return MATCHED_TERMS[col][m % MEMBERS]!;
  const type = AMAZON_REPORT_COLUMNS[col]?.type;
  if (/Id$/.test(col)) {
    const id = 100_000 + (hash32(seed, `${groupBy}:${col}`) % 800_000) + m;
    return type === 'Integer' ? id : String(id);
  }
  if (type === 'Integer') return 100 + m;
  // managedServiceFee is a groupBy column the column dictionary leaves out: a fee, so money.
  if (type === 'Decimal' || (type === undefined && /Fee$/.test(col)))
    return Math.round(((m + 1) / (MEMBERS + 1)) * 10_000) / 10_000;
  return describingValue(seed, col, m, groupBy) ?? `${col} ${m + 1}`;
}

/**
 * Split groupBys whose member is told by other columns than all of the groupBy's own: SP and SB
 * audiences' campaign_bid_boost_segment ("Additional metrics: segmentName", audience.md) is one
 * row per campaign, segment and day, the segment named and classed; a conversion path
 * (conversion-path.md) is its path, and its sales, purchases and frequencies measure it.
 */
const MEMBER_COLUMNS: Record<string, string[]> = {
  campaign_bid_boost_segment: ['segmentName', 'segmentClassCode'],
  brandConversionPath: ['simplifiedPath'],
};

/** Splits every cell by each groupBy that names no entity (geography, inventory, tech, audience segment, path). */
function* splitByDimensions(cells: Iterable<Cell>, src: ReportSource, seed: number, dims: string[]): Generator<Cell> {
  const spec = AMAZON_REPORT_TYPES[src.configuration.reportTypeId]!;
  for (const cell of cells) {
    let parts: Cell[] = [cell];
    for (const g of dims) {
      const cols = MEMBER_COLUMNS[g] ?? spec.groupBys[g]?.columns ?? [];
      // A member whose every column repeats an earlier one's is that member (two rows saying
      // environment "App" under one line item would be one row at Amazon).
      const seen = new Set<string>();
      const members = Array.from({ length: MEMBERS }, (_, m) => m).filter((m) => {
        if (!cols.length) return true;
        const said = JSON.stringify(cols.map((col) => memberValue(seed, g, col, m)));
        if (seen.has(said)) return false;
        seen.add(said);
        return true;
      });
      parts = parts.flatMap((p) =>
        members.map((m) => {
          const extra: Row = { [g]: describingValue(seed, g, m, g) ?? `${g} ${m + 1}` };
          // A line item's rules, each with its own id, when rows are grouped by rule.
          if (g === 'bidAdjustmentRule') Object.assign(extra, bidAdjustmentRule(seed, p.key, m));
          for (const col of cols) extra[col] = memberValue(seed, g, col, m);
          return { key: `${p.key}|${g}=${m}`, dims: { ...p.dims, ...extra }, campaignId: p.campaignId };
        }),
      );
    }
    yield* parts;
  }
}

/** Streams the rows of one report (nothing is held beyond one grain row's days). */
export function* reportRows(ds: Dataset, src: ReportSource): Generator<Row> {
  const cfg = src.configuration;
  const spec = AMAZON_REPORT_TYPES[cfg.reportTypeId];
  if (!spec) throw new Error(`unknown report type ${cfg.reportTypeId}`);
  const product = PRODUCT_OF[spec.adProduct];
  const currency = ds.profiles()[src.profileIndex]!.currencyCode;
  const days = daysOf(src.startDate, src.endDate);
  const additive = additiveNeeded(cfg.columns);
  const daily = cfg.timeUnit === 'DAILY';
  const zeroDecimals = minorUnits(currency) === 0;
  const roundMoney = (v: number) => (zeroDecimals ? Math.round(v) : Math.round(v * 100) / 100);
  const known = cfg.groupBy.filter((g) => g in GROUP_LEVEL);
  const level = product ? grainOf(known.length ? known : ['campaign'], cfg.reportTypeId) : null;
  const searchTerms = level === 'searchTerm';
  const purchased = level === 'purchasedAsin';
  const modelled = product ? (g: string) => g in GROUP_LEVEL : (g: string) => g in DSP_LEVELS;
  const cells = splitByDimensions(
    product ? sponsoredCells(ds, product, src, currency) : dspCells(ds, src, currency),
    src,
    ds.seed,
    cfg.groupBy.filter((g) => !modelled(g)),
  );

  for (const { key, dims } of cells) {
    if (
      !(cfg.filters ?? []).every((f) =>
        f.values.includes(String(f.field === 'campaignSite' ? 'AmazonBusiness' : (dims[f.field] ?? ''))),
      )
    )
      continue;
    // campaignSite=AmazonBusiness selects Amazon Business placements, a separate slice of traffic.
    const siteKey = (cfg.filters ?? []).some((f) => f.field === 'campaignSite') ? `${key}:business` : key;
    const away = src.restateAwayEvery ?? 0;
    const perDay = days.flatMap((date) => {
      const generation = src.generationOf(date);
      if (away > 0 && generation > 0 && hash32(ds.seed, `invalid:${siteKey}:${date}`) % away === 0) return [];
      const b = dayBase(ds.seed, siteKey, date, generation, currency);
      const values: Record<string, number> = {};
      for (const col of additive) values[col] = specOf(col).day!(b, col);
      // A purchased-product row exists only for days something was bought.
      return [{ date, values, sold: b.orders['30']! > 0 }];
    });
    const emit = (values: Record<string, number>, date: string | null): Row | null => {
      if (!(values.impressions! > 0)) return null;
      if (searchTerms && !(values.clicks! > 0)) return null;
      const row: Row = {};
      for (const col of cfg.columns) {
        if (col === 'date') row.date = date ?? src.startDate;
        // bid-adjustment.md: "matchRate is only available in daily reports".
        else if (col === 'matchRate' && !daily) row[col] = null;
        else if (col === 'startDate' || col === 'endDate' || col === 'intervalStart' || col === 'intervalEnd')
          row[col] = date ?? (col === 'startDate' || col === 'intervalStart' ? src.startDate : src.endDate);
        else if (col in dims) row[col] = dims[col]!;
        else if (col in values) row[col] = specOf(col).money ? roundMoney(values[col]!) : values[col]!;
        else if (AMAZON_REPORT_COLUMNS[col]?.type === 'String')
          row[col] =
            describingValue(ds.seed, col, hash32(ds.seed, key) % MEMBERS, key) ??
            `${col} ${hash32(ds.seed, key) % 1000}`;
        else {
          const r = specOf(col).rate!((x) => values[x] ?? 0);
          row[col] = Number.isNaN(r)
            ? Math.round(unit(ds.seed, `${siteKey}:${col}:${date ?? `${src.startDate}..${src.endDate}`}`) * 10_000) /
              10_000
            : r;
        }
      }
      return row;
    };
    const days_ = purchased ? perDay.filter((d) => d.sold) : perDay;
    if (daily) {
      for (const d of days_) {
        const row = emit(d.values, d.date);
        if (row) yield row;
      }
    } else if (days_.length > 0) {
      const sum: Record<string, number> = {};
      for (const col of additive) {
        sum[col] = days_.reduce((a, d) => a + d.values[col]!, 0);
        if (specOf(col).unique) {
          // Half of the people of the other days were already seen on the largest day.
          const most = Math.max(...days_.map((d) => d.values[col]!));
          sum[col] = most + Math.floor((sum[col] - most) / 2);
        }
      }
      const row = emit(sum, null);
      if (row) yield row;
    }
  }
}

/** Columns that describe a row rather than measure it: never summed. */
const DIMENSION_COLUMNS = new Set([
  'date',
  'startDate',
  'endDate',
  'campaignBudgetAmount',
  'campaignRuleBasedBudgetAmount',
  'keywordBid',
  'portfolioId',
  'targetingId',
]);

/** Whether a column is an additive measure (summed over days and over rows). */
export function isAdditive(col: string): boolean {
  if (DIMENSION_COLUMNS.has(col) || /Id$/.test(col)) return false;
  const t = AMAZON_REPORT_COLUMNS[col]?.type;
  if (t === 'String') return false;
  return specOf(col).day !== undefined;
}

/** Whether an additive column is money (stored as micros). */
export const isMoney = (col: string): boolean => specOf(col).money === true;

export interface ReportTotals {
  rows: number;
  /** Per column summable across rows (money as micros, rounded per row; reach too, as a checksum of what was served). */
  sums: Record<string, number>;
  /** Per other numeric measure (rates, frequencies): the sum of each row's value in millionths, rounded per row. */
  millionths: Record<string, number>;
}

/** Exact totals of a report's rows, in the units a loader stores (money as micros, rounded per row). */
export function totalsOf(rows: Iterable<Row>): ReportTotals {
  const t: ReportTotals = { rows: 0, sums: {}, millionths: {} };
  for (const r of rows) {
    t.rows++;
    for (const [col, v] of Object.entries(r)) {
      if (typeof v !== 'number') continue;
      if (isAdditive(col)) t.sums[col] = (t.sums[col] ?? 0) + (isMoney(col) ? Math.round(v * 1e6) : v);
      else if (!DIMENSION_COLUMNS.has(col) && !/Id$/.test(col))
        t.millionths[col] = (t.millionths[col] ?? 0) + Math.round(v * 1e6);
    }
  }
  return t;
}

/** Ids of SB campaigns created before multi-ad-group campaigns, which Amazon's v3 SB reports may leave out. */
export function nonMultiAdGroupSbCampaigns(ds: Dataset, p: number): string[] {
  return [...ds.all('sb', 'campaign', p)].filter((c) => c.isMultiAdGroupsEnabled === false).map((c) => c.id);
}
