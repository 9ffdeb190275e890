/**
 * Amazon entities (SP v3, SB v4, SD and the Exports common model) → our rows.
 * Pure. Ids become strings, money becomes integer micros, states and budget types
 * are upper case whatever the API spelled (SD and SB v3 write "enabled"; the
 * exports and SP v3 "ENABLED"), so one entity reads the same whichever API last
 * synced it; keywords and product targets share one target shape.
 */
export type EntityType = 'campaigns' | 'ad_groups' | 'ads' | 'targets';
export const ENTITY_TYPES: EntityType[] = ['campaigns', 'ad_groups', 'ads', 'targets'];

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

export class EntityShapeError extends Error {
  constructor(kind: string, missing: string, entity: Json) {
    super(`${kind} without ${missing}: ${JSON.stringify(entity).slice(0, 200)}`);
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

export function spCampaign(profileId: string, e: Json): CampaignRow {
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

export function sbCampaign(profileId: string, e: Json): CampaignRow {
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

export function sdCampaign(profileId: string, e: Json): CampaignRow {
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

export function spAdGroup(profileId: string, e: Json): AdGroupRow {
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

export function spProductAd(profileId: string, e: Json): AdRow {
  return {
    profile_id: profileId,
    ad_id: need('SP product ad', e, 'adId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SP product ad', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    asin: str(e.asin),
    sku: str(e.sku),
    creative: e.creative ?? null,
    state: upper(e.state),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

/** A keyword becomes a target: keywordId is its id; text and match type are its expression. */
export function spKeyword(profileId: string, e: Json): TargetRow {
  const text = str(e.keywordText);
  return {
    profile_id: profileId,
    target_id: need('SP keyword', e, 'keywordId'),
    ad_group_id: str(e.adGroupId),
    campaign_id: need('SP keyword', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    target_type: 'KEYWORD',
    expression: { type: 'KEYWORD', text, matchType: e.matchType ?? null },
    expression_text: text,
    match_type: str(e.matchType),
    bid_micros: toMicros(e.bid),
    state: upper(e.state),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
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

export function spProductTarget(profileId: string, e: Json): TargetRow {
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
    // Sponsored Products ads have no creative of their own; the export's products list is their ASIN and SKU.
    creative: e.adProduct === 'SPONSORED_PRODUCTS' ? null : (e.creative ?? null),
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
  if (type === 'KEYWORD') {
    const row = spKeyword(profileId, {
      keywordId: common.target_id,
      adGroupId,
      campaignId: campaignId ?? '?',
      keywordText: details.keyword,
      matchType: details.matchType,
      bid: common.bid,
      state: common.state,
    });
    return { ...row, campaign_id: campaignId, ad_product: common.adProduct, ...times };
  }
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
