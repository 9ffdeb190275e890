/**
 * Amazon entities (v3, SB v4 and SD v2 shapes) → our rows. Pure. Ids become
 * strings, money becomes integer micros, states stay exactly as Amazon sent them,
 * and keywords and product targets share one target shape.
 */
export type EntityType = 'campaigns' | 'ad_groups' | 'ads' | 'targets';
export const ENTITY_TYPES: EntityType[] = ['campaigns', 'ad_groups', 'ads', 'targets'];

type Json = Record<string, unknown>;

export const toMicros = (v: unknown): number | null => (v === null || v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Math.round(Number(v) * 1e6));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const isoFromMs = (v: unknown): string | null => (typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : null);
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
  campaign_id: string;
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
  campaign_id: string;
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

export function spCampaign(profileId: string, e: Json): CampaignRow {
  const budget = (e.budget ?? {}) as Json;
  return {
    profile_id: profileId,
    campaign_id: need('SP campaign', e, 'campaignId'),
    ad_product: 'SPONSORED_PRODUCTS',
    name: str(e.name),
    state: str(e.state),
    targeting_type: str(e.targetingType),
    budget_micros: toMicros(budget.budget),
    budget_type: str(budget.budgetType),
    bidding: e.dynamicBidding ?? null,
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
    state: str(e.state),
    targeting_type: null,
    budget_micros: toMicros(e.budget),
    budget_type: str(e.budgetType),
    bidding: e.bidding ?? (e.costType || e.goal ? { costType: e.costType ?? null, goal: e.goal ?? null } : null),
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
    state: str(e.state),
    targeting_type: str(e.tactic),
    budget_micros: toMicros(e.budget),
    budget_type: str(e.budgetType),
    bidding: e.costType ? { costType: e.costType } : null,
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
    state: str(e.state),
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
    state: str(e.state),
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
    state: str(e.state),
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
    state: str(e.state),
    amazon_created_at: str(ext(e).creationDateTime),
    amazon_updated_at: str(ext(e).lastUpdateDateTime),
  };
}

/** A row of the targets export: keywords and product targets together, told apart by targetType. */
export function spExportTarget(profileId: string, e: Json): TargetRow {
  if (e.targetType === 'KEYWORD' || e.keywordText !== undefined) return spKeyword(profileId, { ...e, keywordId: e.keywordId ?? e.targetId });
  return spProductTarget(profileId, e);
}
