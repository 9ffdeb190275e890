/**
 * Amazon entities (SP v3, SB v4, SD and the Exports common model) → our rows.
 * Pure. Ids become strings, money becomes integer micros, states and budget types
 * are upper case whatever the API spelled (SD and SB v3 write "enabled"; the
 * exports and SP v3 "ENABLED"), so one entity reads the same whichever API last
 * synced it; keywords and product targets share one target shape.
 */
import type { BudgetRuleCampaignOf, EntityOf } from '@adsync/shared/amazon/model-types';
import { AppError } from '@adsync/shared/runtime/errors';

type Json = Record<string, unknown>;

export const toMicros = (v: unknown): number | null =>
  v === null || v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Math.round(Number(v) * 1e6);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const upper = (v: unknown): string | null =>
  v === null || v === undefined || v === '' ? null : String(v).toUpperCase();
const isoFromMs = (v: unknown): string | null =>
  typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : null;
/** Amazon sends dates as YYYY-MM-DD (v3) or YYYYMMDD (v2). */
export function toDate(v: unknown): string | null {
  if (typeof v !== 'string' || !v) return null;
  if (/^\d{8}$/.test(v)) return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
  return /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : null;
}

export interface CampaignRow {
  profile_id: string;
  campaign_id: string;
  ad_product: string;
  name: string | null;
  state: string | null;
  targeting_type: string | null;
  budget_micros: number | null;
  budget_type: string | null;
  bidding: unknown;
  start_date: string | null;
  end_date: string | null;
  portfolio_id: string | null;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export interface AdGroupRow {
  profile_id: string;
  ad_group_id: string;
  campaign_id: string;
  ad_product: string;
  name: string | null;
  state: string | null;
  default_bid_micros: number | null;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export interface AdRow {
  profile_id: string;
  ad_id: string;
  ad_group_id: string | null;
  /** Null until the ad group is known (exported ads name only their ad group). */
  campaign_id: string | null;
  ad_product: string;
  asin: string | null;
  sku: string | null;
  creative: unknown;
  state: string | null;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export interface TargetRow {
  profile_id: string;
  target_id: string;
  ad_group_id: string | null;
  /** Null until the ad group is known (exported ad-group targets name only their ad group). */
  campaign_id: string | null;
  ad_product: string;
  target_type: 'KEYWORD' | 'PRODUCT' | 'AUTO' | 'AUDIENCE';
  expression: unknown;
  expression_text: string | null;
  match_type: string | null;
  bid_micros: number | null;
  state: string | null;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export class EntityShapeError extends AppError {
  constructor(kind: string, missing: string, entity: Json) {
    super('AMAZON_ENTITY_SHAPE', `${kind} without ${missing}: ${JSON.stringify(entity).slice(0, 200)}`, {
      retriable: false,
    });
    this.name = 'EntityShapeError';
  }
}

function need(kind: string, e: Json, key: string): string {
  const v = e[key];
  if (v === null || v === undefined || v === '') throw new EntityShapeError(kind, key, e);
  return String(v);
}

const ext = (e: Json) => (e.extendedData ?? {}) as Json;

/**
 * Bidding in one shape, whichever API described it: the SP v3 strategy names
 * (the export's common-model names map onto them), placement adjustments, cost type.
 */
export interface Bidding {
  strategy: string | null;
  placements: { placement: string; percentage: number }[];
  costType: string | null;
}
const EXPORT_STRATEGY: Record<string, string> = {
  SALES_DOWN_ONLY: 'LEGACY_FOR_SALES',
  SALES_BID_DOWN_ONLY: 'LEGACY_FOR_SALES',
  SALES: 'AUTO_FOR_SALES',
  NONE: 'MANUAL',
  RULE_BASED: 'RULE_BASED',
};
function bidding(strategy: unknown, placements: unknown, costType: unknown): Bidding {
  return {
    strategy: strategy === undefined || strategy === null ? null : String(strategy),
    placements: Array.isArray(placements)
      ? placements.map((p: Json) => ({ placement: String(p.placement), percentage: Number(p.percentage) }))
      : [],
    costType: upper(costType),
  };
}

export function spCampaign(profileId: string, e: EntityOf['spCampaigns']): CampaignRow {
  const budget = (e.budget ?? {}) as Json;
  return {
    profile_id: profileId,
    campaign_id: need('SP campaign', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    name: str(e.name),
    state: upper(e.state),
    targeting_type: str(e.targetingType),
    budget_micros: toMicros(budget.budget),
    budget_type: upper(budget.budgetType),
    bidding: bidding(
      (e.dynamicBidding as Json | undefined)?.strategy,
      (e.dynamicBidding as Json | undefined)?.placementBidding,
      null,
    ),
    start_date: toDate(e.startDate),
    end_date: toDate(e.endDate),
    portfolio_id: str(e.portfolioId),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

export function sbCampaign(profileId: string, e: EntityOf['sbCampaigns']): CampaignRow {
  return {
    profile_id: profileId,
    campaign_id: need('SB campaign', e, 'campaignId'),
    ad_product: 'SPONSORED_BRANDS',
    name: str(e.name),
    state: upper(e.state),
    targeting_type: null,
    budget_micros: toMicros(e.budget),
    budget_type: upper(e.budgetType),
    bidding: bidding(
      (e.bidding as Json | undefined)?.bidOptimizationStrategy,
      (e.bidding as Json | undefined)?.bidAdjustmentsByPlacement,
      e.costType,
    ),
    start_date: toDate(e.startDate),
    end_date: toDate(e.endDate),
    portfolio_id: str(e.portfolioId),
    amazon_created_at: isoFromMs(ext(e).creationDate),
    amazon_updated_at: isoFromMs(ext(e).lastUpdateDate),
  };
}

export function sdCampaign(profileId: string, e: EntityOf['sdCampaigns']): CampaignRow {
  return {
    profile_id: profileId,
    campaign_id: need('SD campaign', e, 'campaignId'),
    ad_product: 'SPONSORED_DISPLAY',
    name: str(e.name),
    state: upper(e.state),
    targeting_type: str(e.tactic),
    budget_micros: toMicros(e.budget),
    budget_type: upper(e.budgetType),
    bidding: bidding(null, null, e.costType),
    start_date: toDate(e.startDate),
    end_date: toDate(e.endDate),
    portfolio_id: str(e.portfolioId),
    amazon_created_at: isoFromMs(e.creationDate),
    amazon_updated_at: isoFromMs(e.lastUpdatedDate),
  };
}

export function spAdGroup(profileId: string, e: EntityOf['spAdGroups']): AdGroupRow {
  return {
    profile_id: profileId,
    ad_group_id: need('SP ad group', e, 'adGroupId'),
    campaign_id: need('SP ad group', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    name: str(e.name),
    state: upper(e.state),
    default_bid_micros: toMicros(e.defaultBid),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

export function spProductAd(profileId: string, e: EntityOf['spProductAds']): AdRow {
  return {
    profile_id: profileId,
    ad_id: need('SP product ad', e, 'adId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SP product ad', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    asin: str(e.asin),
    sku: str(e.sku),
    // SP product ads have no creative in the model (SB ads do).
    creative: null,
    state: upper(e.state),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

/** The fields of a keyword, whichever API wrote them (SP v3, SB v3, an exported keyword target). */
type KeywordFields = {
  keywordId?: unknown;
  adGroupId?: unknown;
  campaignId?: unknown;
  keywordText?: unknown;
  matchType?: unknown;
  bid?: unknown;
  state?: unknown;
};

/** A keyword becomes a target: keywordId is its id; text and match type are its expression. */
function keywordTarget(
  profileId: string,
  e: KeywordFields,
  adProduct: string,
  times: [string | null, string | null],
): TargetRow {
  const text = str(e.keywordText);
  const matchType = upper(e.matchType);
  return {
    profile_id: profileId,
    target_id: need(`${adProduct} keyword`, e, 'keywordId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: str(e.campaignId),
    ad_product: adProduct,
    target_type: 'KEYWORD',
    expression: { type: 'KEYWORD', text, matchType },
    expression_text: text,
    match_type: matchType,
    bid_micros: toMicros(e.bid),
    state: upper(e.state),
    amazon_created_at: times[0],
    amazon_updated_at: times[1],
  };
}

export function spKeyword(profileId: string, e: EntityOf['spKeywords']): TargetRow {
  need('SP keyword', e, 'campaignId');
  return keywordTarget(profileId, e, 'SPONSORED_PRODUCTS', spTimes(e));
}

/** `asin="B0…"`-style text for a product-target expression, for search and labels. */
export function expressionText(expr: unknown): string | null {
  if (!Array.isArray(expr)) return null;
  return expr
    .map((p: Json) => {
      const type = String(p.type ?? '');
      const label = type.replace(/_SAME_AS$|_EQUALS$/, '').toLowerCase();
      return p.value === undefined ? label : `${label}="${String(p.value)}"`;
    })
    .join(' ');
}

export function spProductTarget(profileId: string, e: EntityOf['spProductTargets']): TargetRow {
  const expression = e.expression ?? e.resolvedExpression ?? [];
  return {
    profile_id: profileId,
    target_id: need('SP product target', e, 'targetId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SP product target', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    target_type: e.expressionType === 'AUTO' ? 'AUTO' : 'PRODUCT',
    expression,
    expression_text: expressionText(expression),
    match_type: null,
    bid_micros: toMicros(e.bid),
    state: upper(e.state),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

// ---------------------------------------------------------------- Exports (common model)

/** Exported ads and ad-group targets name their ad group only; the caller resolves the campaign. */
export type CampaignOfAdGroup = (adGroupId: string) => string | null;

const EXPORT_PRODUCTS = new Set(['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY']);
function adProductOf(kind: string, e: Json): string {
  const p = need(kind, e, 'adProduct');
  if (!EXPORT_PRODUCTS.has(p)) throw new EntityShapeError(kind, 'a known adProduct', e);
  return p;
}

export function exportCampaign(profileId: string, e: Json): CampaignRow {
  const caps = (e.budgetCaps ?? {}) as Json;
  const money = ((caps.budgetValue as Json | undefined)?.monetaryBudget ?? {}) as Json;
  const adProduct = adProductOf('exported campaign', e);
  return {
    profile_id: profileId,
    campaign_id: need('exported campaign', e, 'campaignId'),
    ad_product: adProduct,
    name: str(e.name),
    state: upper(e.state),
    // SP: MANUAL/AUTO; SD: its tactic (T00020, T00030).
    targeting_type: str(e.targetingSettings),
    budget_micros: toMicros(money.amount),
    budget_type: upper(caps.recurrenceTimePeriod),
    bidding: (() => {
      const o = (e.optimization ?? {}) as Json;
      const strategy =
        o.bidStrategy === undefined ? null : (EXPORT_STRATEGY[String(o.bidStrategy)] ?? String(o.bidStrategy));
      return bidding(
        adProduct === 'SPONSORED_PRODUCTS' ? strategy : null,
        adProduct === 'SPONSORED_PRODUCTS' ? o.placementBidAdjustments : null,
        e.costType,
      );
    })(),
    start_date: toDate(e.startDate),
    end_date: toDate(e.endDate),
    portfolio_id: str(e.portfolioId),
    amazon_created_at: str(e.creationDateTime),
    amazon_updated_at: str(e.lastUpdatedDateTime),
  };
}

export function exportAdGroup(profileId: string, e: Json): AdGroupRow {
  return {
    profile_id: profileId,
    ad_group_id: need('exported ad group', e, 'adGroupId'),
    campaign_id: need('exported ad group', e, 'campaignId'),
    ad_product: adProductOf('exported ad group', e),
    name: str(e.name),
    state: upper(e.state),
    default_bid_micros: toMicros((e.bid as Json | undefined)?.defaultBid),
    amazon_created_at: str(e.creationDateTime),
    amazon_updated_at: str(e.lastUpdatedDateTime),
  };
}

export function exportAd(profileId: string, e: Json, campaignOf: CampaignOfAdGroup): AdRow {
  const adGroupId = need('exported ad', e, 'adGroupId');
  const products = ((e.creative as Json | undefined)?.products ?? []) as Json[];
  const first = (type: string) => str(products.find((p) => p.productIdType === type)?.productId);
  return {
    profile_id: profileId,
    ad_id: need('exported ad', e, 'adId'),
    ad_group_id: adGroupId,
    campaign_id: campaignOf(adGroupId),
    ad_product: adProductOf('exported ad', e),
    asin: first('ASIN'),
    sku: first('SKU'),
    // SP and SD product ads have no creative of their own (SD creatives are listed apart);
    // the export's products list is their ASIN and SKU.
    creative:
      e.adProduct === 'SPONSORED_BRANDS'
        ? sbCreative(
            e.adType,
            products.filter((p) => p.productIdType === 'ASIN').map((p) => p.productId),
            e.creative,
          )
        : null,
    state: upper(e.state),
    amazon_created_at: str(e.creationDateTime),
    amazon_updated_at: str(e.lastUpdatedDateTime),
  };
}

const EXPORT_TARGET_TYPES: Record<string, TargetRow['target_type']> = {
  KEYWORD: 'KEYWORD',
  PRODUCT: 'PRODUCT',
  AUTO: 'AUTO',
  AUDIENCE: 'AUDIENCE',
  PRODUCT_AUDIENCE: 'AUDIENCE',
  PRODUCT_CATEGORY_AUDIENCE: 'AUDIENCE',
  PRODUCT_CATEGORY: 'PRODUCT',
};

/** Common-model auto-targeting match types → the SP v3 expression types. */
const AUTO_EXPRESSION: Record<string, string> = {
  SEARCH_LOOSE_MATCH: 'QUERY_BROAD_REL_MATCHES',
  SEARCH_CLOSE_MATCH: 'QUERY_HIGH_REL_MATCHES',
  PRODUCT_SUBSTITUTES: 'ASIN_SUBSTITUTE_RELATED',
  PRODUCT_COMPLEMENTS: 'ASIN_ACCESSORY_RELATED',
};

/** targetDetails (common model) → the SP v3 expression array the list APIs give, so both sources store the same. */
export function expressionOfDetails(d: Json): { type: string; value?: string }[] {
  const out: { type: string; value?: string }[] = [];
  if (d.asin !== undefined)
    out.push({
      type: d.matchType === 'PRODUCT_SIMILAR' ? 'ASIN_EXPANDED_FROM' : 'ASIN_SAME_AS',
      value: String(d.asin),
    });
  if (d.productCategoryId !== undefined)
    out.push({ type: 'ASIN_CATEGORY_SAME_AS', value: String(d.productCategoryId) });
  if (d.productBrand !== undefined) out.push({ type: 'ASIN_BRAND_SAME_AS', value: String(d.productBrand) });
  if (d.productPriceLessThan !== undefined)
    out.push({ type: 'ASIN_PRICE_LESS_THAN', value: String(d.productPriceLessThan) });
  if (d.productPriceGreaterThan !== undefined)
    out.push({ type: 'ASIN_PRICE_GREATER_THAN', value: String(d.productPriceGreaterThan) });
  if (out.length === 0 && d.matchType !== undefined)
    out.push({ type: AUTO_EXPRESSION[String(d.matchType)] ?? String(d.matchType) });
  // An audience naming no product or category is about products similar to the advertised
  // ones: the SD lists spell that expression similarProduct.
  if (out.length === 0 && d.event !== undefined) out.push({ type: 'SIMILAR_PRODUCT' });
  return out;
}

/** An exported target: keywords and product targets alike, stored exactly as the list APIs' rows are. */
export function exportTarget(profileId: string, e: Json, campaignOf: CampaignOfAdGroup): TargetRow {
  const details = (e.targetDetails ?? {}) as Json;
  const type = EXPORT_TARGET_TYPES[String(e.targetType)];
  if (!type) throw new EntityShapeError('exported target', 'a known targetType', e);
  const adGroupId = str(e.adGroupId);
  const campaignId = str(e.campaignId) ?? (adGroupId ? campaignOf(adGroupId) : null);
  const times = { amazon_created_at: str(e.creationDateTime), amazon_updated_at: str(e.lastUpdatedDateTime) };
  const common = {
    target_id: need('exported target', e, 'targetId'),
    adGroupId,
    campaignId,
    adProduct: adProductOf('exported target', e),
    bid: (e.bid as Json | undefined)?.bid,
    state: e.state,
  };
  if (type === 'KEYWORD')
    return keywordTarget(
      profileId,
      {
        keywordId: common.target_id,
        adGroupId,
        campaignId,
        keywordText: details.keyword,
        matchType: details.matchType,
        bid: common.bid,
        state: common.state,
      },
      common.adProduct,
      [times.amazon_created_at, times.amazon_updated_at],
    );
  const expression = expressionOfDetails(details);
  return {
    profile_id: profileId,
    target_id: common.target_id,
    ad_group_id: adGroupId,
    campaign_id: campaignId,
    ad_product: common.adProduct,
    target_type: type,
    expression,
    expression_text: expressionText(expression),
    match_type: null,
    bid_micros: toMicros(common.bid),
    state: upper(common.state),
    ...times,
  };
}

// ---------------------------------------------------------------- Sponsored Brands and Sponsored Display lists

/** SB v3 and SD spell expression types in camel case (asinSameAs); SP v3 and the exports in upper snake case. */
export const upperExpressionType = (t: unknown): string =>
  String(t ?? '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
const upperExpression = (x: unknown): { type: string; value?: string }[] =>
  Array.isArray(x)
    ? x.map((p: Json) =>
        p.value === undefined
          ? { type: upperExpressionType(p.type) }
          : { type: upperExpressionType(p.type), value: String(p.value) },
      )
    : [];

export function sbAdGroup(profileId: string, e: EntityOf['sbAdGroups']): AdGroupRow {
  return {
    profile_id: profileId,
    ad_group_id: need('SB ad group', e, 'adGroupId'),
    campaign_id: need('SB ad group', e, 'campaignId'),
    ad_product: 'SPONSORED_BRANDS',
    name: str(e.name),
    state: upper(e.state),
    default_bid_micros: null,
    amazon_created_at: isoFromMs(ext(e).creationDate),
    amazon_updated_at: isoFromMs(ext(e).lastUpdateDate),
  };
}

export function sdAdGroup(profileId: string, e: EntityOf['sdAdGroups']): AdGroupRow {
  return {
    profile_id: profileId,
    ad_group_id: need('SD ad group', e, 'adGroupId'),
    campaign_id: need('SD ad group', e, 'campaignId'),
    ad_product: 'SPONSORED_DISPLAY',
    name: str(e.name),
    state: upper(e.state),
    default_bid_micros: toMicros(e.defaultBid),
    amazon_created_at: isoFromMs(e.creationDate),
    amazon_updated_at: isoFromMs(e.lastUpdatedDate),
  };
}

/** An SB ad: its creative (a product collection, a video…) is the ad; its first ASIN is kept for joins. */
/**
 * An SB creative in the one shape both sources can fill: the v4 list and the export
 * spell it differently (asins vs products, creative.type vs adType) and only the
 * list knows the brand name, so that stays out.
 */
function sbCreative(type: unknown, asins: unknown[], creative: unknown): Json {
  const c = (creative ?? {}) as Json;
  return { type: str(type), asins: asins.map(String), headline: str(c.headline) };
}

export function sbAd(profileId: string, e: EntityOf['sbAds']): AdRow {
  const listed = (e.creative ?? null) as Json | null;
  const asins = Array.isArray(listed?.asins) ? (listed!.asins as unknown[]) : [];
  const creative = listed ? sbCreative(listed.type, asins, listed) : null;
  return {
    profile_id: profileId,
    ad_id: need('SB ad', e, 'adId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SB ad', e, 'campaignId'),
    ad_product: 'SPONSORED_BRANDS',
    asin: str(asins[0]),
    sku: null,
    creative,
    state: upper(e.state),
    amazon_created_at: isoFromMs(ext(e).creationDate),
    amazon_updated_at: isoFromMs(ext(e).lastUpdateDate),
  };
}

export function sdProductAd(profileId: string, e: EntityOf['sdProductAds']): AdRow {
  return {
    profile_id: profileId,
    ad_id: need('SD product ad', e, 'adId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SD product ad', e, 'campaignId'),
    ad_product: 'SPONSORED_DISPLAY',
    asin: str(e.asin),
    sku: str(e.sku),
    creative: null,
    state: upper(e.state),
    amazon_created_at: isoFromMs(e.creationDate),
    amazon_updated_at: isoFromMs(e.lastUpdatedDate),
  };
}

/** SB keywords (v3): numeric ids, lower-case states and match types, upper-cased like every other source. */
export function sbKeyword(profileId: string, e: EntityOf['sbKeywords']): TargetRow {
  return keywordTarget(profileId, e, 'SPONSORED_BRANDS', [null, null]);
}

export function sbProductTarget(profileId: string, e: EntityOf['sbProductTargets']): TargetRow {
  const expression = upperExpression(e.expressions ?? e.resolvedExpressions);
  return {
    profile_id: profileId,
    target_id: need('SB product target', e, 'targetId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SB product target', e, 'campaignId'),
    ad_product: 'SPONSORED_BRANDS',
    target_type: 'PRODUCT',
    expression,
    expression_text: expressionText(expression),
    match_type: null,
    bid_micros: toMicros(e.bid),
    state: upper(e.state),
    amazon_created_at: null,
    amazon_updated_at: null,
  };
}

export function sdTarget(profileId: string, e: EntityOf['sdTargets']): TargetRow {
  const expression = upperExpression(e.expression ?? e.resolvedExpression);
  const audience = expression.some((x) => /^(VIEWS|AUDIENCE|PURCHASES|SIMILAR_PRODUCT|CONTENT_CATEGORY)/.test(x.type));
  return {
    profile_id: profileId,
    target_id: need('SD target', e, 'targetId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SD target', e, 'campaignId'),
    ad_product: 'SPONSORED_DISPLAY',
    target_type: audience ? 'AUDIENCE' : 'PRODUCT',
    expression,
    expression_text: expressionText(expression),
    match_type: null,
    bid_micros: toMicros(e.bid),
    state: upper(e.state),
    amazon_created_at: isoFromMs(e.creationDate),
    amazon_updated_at: isoFromMs(e.lastUpdatedDate),
  };
}

// ---------------------------------------------------------------- negatives

export interface NegativeTargetRow {
  profile_id: string;
  negative_id: string;
  ad_product: string;
  /** AD_GROUP or CAMPAIGN: where the negative applies. */
  level: 'AD_GROUP' | 'CAMPAIGN';
  campaign_id: string | null;
  ad_group_id: string | null;
  target_type: 'KEYWORD' | 'PRODUCT';
  expression: unknown;
  expression_text: string | null;
  match_type: string | null;
  state: string | null;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

function negativeKeyword(
  profileId: string,
  e: Json,
  adProduct: string,
  level: NegativeTargetRow['level'],
  times: [string | null, string | null],
): NegativeTargetRow {
  const text = str(e.keywordText);
  // SB v3 spells negativeExact; SP v3 NEGATIVE_EXACT.
  const matchType = e.matchType === undefined ? null : upperExpressionType(e.matchType);
  return {
    profile_id: profileId,
    negative_id: need(`${adProduct} negative keyword`, e, 'keywordId'),
    ad_product: adProduct,
    level,
    campaign_id: str(e.campaignId),
    ad_group_id: level === 'AD_GROUP' ? str(e.adGroupId) : null,
    target_type: 'KEYWORD',
    expression: { type: 'KEYWORD', text, matchType },
    expression_text: text,
    match_type: matchType,
    state: upper(e.state),
    amazon_created_at: times[0],
    amazon_updated_at: times[1],
  };
}

function negativeTarget(
  profileId: string,
  e: Json,
  adProduct: string,
  level: NegativeTargetRow['level'],
  times: [string | null, string | null],
): NegativeTargetRow {
  const expression = upperExpression(e.expression ?? e.expressions ?? e.resolvedExpression ?? e.resolvedExpressions);
  return {
    profile_id: profileId,
    negative_id: need(`${adProduct} negative target`, e, 'targetId'),
    ad_product: adProduct,
    level,
    campaign_id: str(e.campaignId),
    ad_group_id: level === 'AD_GROUP' ? str(e.adGroupId) : null,
    target_type: 'PRODUCT',
    expression,
    expression_text: expressionText(expression),
    match_type: null,
    state: upper(e.state),
    amazon_created_at: times[0],
    amazon_updated_at: times[1],
  };
}

const spTimes = (e: Json): [string | null, string | null] => [
  str(ext(e).creationDateTime),
  str(ext(e).lastUpdateDateTime),
];
const sdTimes = (e: Json): [string | null, string | null] => [isoFromMs(e.creationDate), isoFromMs(e.lastUpdatedDate)];

export const spNegativeKeyword = (profileId: string, e: EntityOf['spNegativeKeywords']) =>
  negativeKeyword(profileId, e, 'SPONSORED_PRODUCTS', 'AD_GROUP', spTimes(e));
export const spCampaignNegativeKeyword = (profileId: string, e: EntityOf['spCampaignNegativeKeywords']) =>
  negativeKeyword(profileId, e, 'SPONSORED_PRODUCTS', 'CAMPAIGN', spTimes(e));
export const spNegativeTarget = (profileId: string, e: EntityOf['spNegativeTargets']) =>
  negativeTarget(profileId, e, 'SPONSORED_PRODUCTS', 'AD_GROUP', spTimes(e));
export const spCampaignNegativeTarget = (profileId: string, e: EntityOf['spCampaignNegativeTargets']) =>
  negativeTarget(profileId, e, 'SPONSORED_PRODUCTS', 'CAMPAIGN', spTimes(e));
export const sbNegativeKeyword = (profileId: string, e: EntityOf['sbNegativeKeywords']) =>
  negativeKeyword(profileId, e, 'SPONSORED_BRANDS', 'AD_GROUP', [null, null]);
export const sbNegativeTarget = (profileId: string, e: EntityOf['sbNegativeTargets']) =>
  negativeTarget(profileId, e, 'SPONSORED_BRANDS', 'AD_GROUP', [null, null]);
export const sdNegativeTarget = (profileId: string, e: EntityOf['sdNegativeTargets']) =>
  negativeTarget(profileId, e, 'SPONSORED_DISPLAY', 'AD_GROUP', sdTimes(e));

/** An exported negative (a target with negative: true): campaign-level ones name the campaign, ad-group ones the ad group. */
export function exportNegativeTarget(profileId: string, e: Json, campaignOf: CampaignOfAdGroup): NegativeTargetRow {
  const positive = exportTarget(profileId, { ...e, bid: undefined }, campaignOf);
  const details = (e.targetDetails ?? {}) as Json;
  const keyword = positive.target_type === 'KEYWORD';
  const matchType = keyword && details.matchType !== undefined ? upperExpressionType(details.matchType) : null;
  return {
    profile_id: profileId,
    negative_id: positive.target_id,
    ad_product: positive.ad_product,
    level: e.adGroupId ? 'AD_GROUP' : 'CAMPAIGN',
    campaign_id: positive.campaign_id,
    ad_group_id: positive.ad_group_id,
    target_type: keyword ? 'KEYWORD' : 'PRODUCT',
    expression: keyword ? { type: 'KEYWORD', text: positive.expression_text, matchType } : positive.expression,
    expression_text: positive.expression_text,
    match_type: matchType,
    state: positive.state,
    amazon_created_at: positive.amazon_created_at,
    amazon_updated_at: positive.amazon_updated_at,
  };
}

// ---------------------------------------------------------------- creatives, portfolios, budget rules

export interface CreativeRow {
  profile_id: string;
  creative_id: string;
  ad_group_id: string | null;
  ad_product: string;
  creative_type: string | null;
  properties: unknown;
  moderation_status: string | null;
  amazon_updated_at: string | null;
}

export function sdCreative(profileId: string, e: EntityOf['sdCreatives']): CreativeRow {
  return {
    profile_id: profileId,
    creative_id: need('SD creative', e, 'creativeId'),
    ad_group_id: str(e.adGroupId),
    ad_product: 'SPONSORED_DISPLAY',
    creative_type: upper(e.creativeType),
    properties: e.properties ?? null,
    moderation_status: upper(e.moderationStatus),
    amazon_updated_at: null,
  };
}

export interface PortfolioRow {
  profile_id: string;
  portfolio_id: string;
  name: string | null;
  state: string | null;
  in_budget: boolean | null;
  budget: unknown;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export function portfolio(profileId: string, e: EntityOf['portfolios']): PortfolioRow {
  const budget = (e.budget ?? null) as Json | null;
  return {
    profile_id: profileId,
    portfolio_id: need('portfolio', e, 'portfolioId'),
    name: str(e.name),
    state: upper(e.state),
    in_budget: typeof e.inBudget === 'boolean' ? e.inBudget : null,
    budget: budget ? { ...budget, amountMicros: toMicros(budget.amount) } : null,
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

export interface BudgetRuleRow {
  profile_id: string;
  rule_id: string;
  ad_product: string;
  name: string | null;
  rule_type: string | null;
  state: string | null;
  status: string | null;
  details: unknown;
  amazon_created_at: string | null;
  amazon_updated_at: string | null;
}

export const budgetRule =
  (adProduct: string) =>
  (profileId: string, e: EntityOf['spBudgetRules' | 'sbBudgetRules' | 'sdBudgetRules']): BudgetRuleRow => {
    const details = (e.ruleDetails ?? {}) as Json;
    return {
      profile_id: profileId,
      rule_id: need('budget rule', e, 'ruleId'),
      ad_product: adProduct,
      name: str(details.name),
      rule_type: upper(details.ruleType),
      state: upper(e.ruleState),
      status: upper(e.ruleStatus),
      details,
      amazon_created_at: isoFromMs(e.createdDate),
      amazon_updated_at: isoFromMs(e.lastUpdatedDate),
    };
  };

export interface BudgetRuleCampaignRow {
  profile_id: string;
  rule_id: string;
  campaign_id: string;
  ad_product: string;
  rule_status: string | null;
}

/** A campaign a rule is associated with; the models name no ad product there, so the rule's is taken. */
export function budgetRuleCampaign(
  profileId: string,
  ruleId: string,
  adProduct: string,
  e: BudgetRuleCampaignOf['sp' | 'sb' | 'sd'],
): BudgetRuleCampaignRow {
  return {
    profile_id: profileId,
    rule_id: ruleId,
    campaign_id: need('budget rule campaign', e, 'campaignId'),
    ad_product: adProduct,
    rule_status: upper(e.ruleStatus),
  };
}
