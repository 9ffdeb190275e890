/**
 * How each Amazon API family writes the same entity. Pure renderers of the
 * canonical dataset entities:
 *  - SP v3 and Portfolios v3 lists: string ids, upper-case states, ISO extendedData;
 *  - SB v4 lists: string ids, upper-case states, extendedData times in epoch ms;
 *  - SB v3 keywords and targets, and Sponsored Display: numeric ids, lower-case
 *    states, camelCase expression types, SD dates as YYYYMMDD;
 *  - the Exports common model: string ids, adProduct on every entity,
 *    deliveryStatus, budgetCaps, targetDetails — field names unlike any list API.
 * Sources: entity reference pages and samples of idealerror/amazon-ads-api-docs
 * (en-us/reference/common-models/*.md for exports), summarised in docs/amazon-contract.md.
 */
import { AD_PRODUCT_NAMES, type Entity, type Expression } from '../dataset.ts';

type Json = Record<string, unknown>;

const ms = (iso: string) => Date.parse(iso);
const lower = (s: string) => s.toLowerCase();
const ymd = (d: string | undefined) => d?.replaceAll('-', '');
/** ASIN_SAME_AS → asinSameAs, the spelling of the SB v3 and SD APIs. */
export const camelType = (t: string) => t.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const camelExpr = (x: Expression[] | undefined) =>
  (x ?? []).map((p) =>
    p.value === undefined ? { type: camelType(p.type) } : { type: camelType(p.type), value: p.value },
  );
// A loop, not entries/filter/fromEntries: every exported entity passes through here.
const withoutUndefined = <T extends Json>(o: T): T => {
  const out: Record<string, unknown> = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
};

/**
 * servingStatus as SP v3 and SB v4 name it (their *ServingStatus enums): campaigns and ad
 * groups "…_STATUS_ENABLED", ads "AD_STATUS_LIVE", keywords and targets
 * "TARGETING_CLAUSE_STATUS_LIVE"; paused and archived ones "<LEVEL>_PAUSED" / "_ARCHIVED".
 */
const SERVING: Record<string, [string, string]> = {
  campaign: ['CAMPAIGN_STATUS_ENABLED', 'CAMPAIGN'],
  adGroup: ['AD_GROUP_STATUS_ENABLED', 'AD_GROUP'],
  ad: ['AD_STATUS_LIVE', 'AD'],
};
const servingStatus = (e: Entity) => {
  const [enabled, level] = SERVING[e.kind] ?? ['TARGETING_CLAUSE_STATUS_LIVE', 'TARGETING_CLAUSE'];
  return e.state === 'ENABLED' ? enabled : `${level}_${e.state}`;
};

// ---------------------------------------------------------------- SP v3 lists

/** An SP campaign's placement bid adjustments: the top of search always, the others where set. */
export function placementAdjustments(e: Entity): { placement: string; percentage: number }[] {
  return [
    { placement: 'PLACEMENT_TOP', percentage: e.placementTopPercentage ?? 0 },
    { placement: 'PLACEMENT_PRODUCT_PAGE', percentage: e.placementProductPagePercentage ?? 0 },
    { placement: 'PLACEMENT_REST_OF_SEARCH', percentage: e.placementRestOfSearchPercentage ?? 0 },
  ].filter((p, i) => i === 0 || p.percentage > 0);
}

export function spV3(e: Entity, extended: boolean): Json {
  const ext = extended
    ? {
        extendedData: {
          creationDateTime: e.createdAt,
          lastUpdateDateTime: e.updatedAt,
          servingStatus: servingStatus(e),
        },
      }
    : {};
  switch (e.kind) {
    case 'campaign':
      return withoutUndefined({
        campaignId: e.id,
        portfolioId: e.portfolioId,
        name: e.name,
        targetingType: e.targetingType,
        state: e.state,
        dynamicBidding: {
          strategy: e.biddingStrategy,
          placementBidding: placementAdjustments(e),
        },
        startDate: e.startDate,
        endDate: e.endDate,
        budget: { budgetType: 'DAILY', budget: e.budget },
        ...ext,
      });
    case 'adGroup':
      return {
        adGroupId: e.id,
        campaignId: e.campaignId,
        name: e.name,
        state: e.state,
        defaultBid: e.defaultBid,
        ...ext,
      };
    case 'ad':
      return {
        adId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        state: e.state,
        asin: e.asin,
        sku: e.sku,
        ...ext,
      };
    case 'keyword':
      return {
        keywordId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        keywordText: e.keywordText,
        matchType: e.matchType,
        state: e.state,
        bid: e.bid,
        ...ext,
      };
    case 'productTarget':
      return {
        targetId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        expression: e.expression,
        resolvedExpression: e.expression,
        expressionType: e.expressionType,
        state: e.state,
        bid: e.bid,
        ...ext,
      };
    case 'negativeKeyword':
      return {
        keywordId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        keywordText: e.keywordText,
        matchType: e.matchType,
        state: e.state,
        ...ext,
      };
    case 'campaignNegativeKeyword':
      return {
        keywordId: e.id,
        campaignId: e.campaignId,
        keywordText: e.keywordText,
        matchType: e.matchType,
        state: e.state,
        ...ext,
      };
    case 'negativeTarget':
      return {
        targetId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        expression: e.expression,
        resolvedExpression: e.expression,
        state: e.state,
        ...ext,
      };
    case 'campaignNegativeTarget':
      return {
        targetId: e.id,
        campaignId: e.campaignId,
        expression: e.expression,
        resolvedExpression: e.expression,
        state: e.state,
        ...ext,
      };
    default:
      throw new Error(`SP v3 has no ${e.kind} list`);
  }
}

export function portfolioV3(e: Entity, currencyCode: string, extended: boolean): Json {
  return {
    portfolioId: e.id,
    name: e.name,
    state: e.state,
    inBudget: true,
    budget: { amount: e.amount, currencyCode, policy: 'MONTHLY_RECURRING' },
    ...(extended
      ? {
          extendedData: {
            creationDateTime: e.createdAt,
            lastUpdateDateTime: e.updatedAt,
            servingStatus: 'PORTFOLIO_STATUS_ENABLED',
            statusReasons: [],
          },
        }
      : {}),
  };
}

// ---------------------------------------------------------------- SB v4 lists

export function sbV4(e: Entity, extended: boolean): Json {
  const ext = extended
    ? {
        extendedData: {
          creationDate: ms(e.createdAt),
          lastUpdateDate: ms(e.updatedAt),
          servingStatus: servingStatus(e),
        },
      }
    : {};
  switch (e.kind) {
    case 'campaign':
      return withoutUndefined({
        campaignId: e.id,
        portfolioId: e.portfolioId,
        name: e.name,
        state: e.state,
        budget: e.budget,
        budgetType: 'DAILY',
        startDate: e.startDate,
        endDate: e.endDate,
        brandEntityId: e.brandEntityId,
        costType: e.costType,
        goal: 'BRAND_IMPRESSION_SHARE',
        isMultiAdGroupsEnabled: e.isMultiAdGroupsEnabled,
        bidding: { bidOptimization: true },
        ...ext,
      });
    case 'adGroup':
      return { adGroupId: e.id, campaignId: e.campaignId, name: e.name, state: e.state, ...ext };
    case 'ad':
      return {
        adId: e.id,
        adGroupId: e.adGroupId,
        campaignId: e.campaignId,
        name: e.name,
        state: e.state,
        creative: { type: 'PRODUCT_COLLECTION', asins: e.asins, headline: e.headline, brandName: 'Sandbox Brand' },
        landingPage: { pageType: 'PRODUCT_LIST', url: `https://www.amazon.com/stores/page/${e.id}` },
        ...ext,
      };
    default:
      throw new Error(`SB v4 has no ${e.kind} list`);
  }
}

// ---------------------------------------------------------------- SB v3 keywords and targets

export function sbV3(e: Entity): Json {
  const ids = { adGroupId: Number(e.adGroupId), campaignId: Number(e.campaignId) };
  switch (e.kind) {
    case 'keyword':
      return {
        keywordId: Number(e.id),
        ...ids,
        keywordText: e.keywordText,
        matchType: lower(e.matchType!),
        state: lower(e.state),
        bid: e.bid,
      };
    case 'negativeKeyword':
      return {
        keywordId: Number(e.id),
        ...ids,
        keywordText: e.keywordText,
        matchType: camelType(e.matchType!),
        state: lower(e.state),
      };
    case 'productTarget':
      return {
        targetId: Number(e.id),
        ...ids,
        expressions: camelExpr(e.expression),
        resolvedExpressions: camelExpr(e.expression),
        state: lower(e.state),
        bid: e.bid,
      };
    case 'negativeTarget':
      return {
        targetId: Number(e.id),
        ...ids,
        expressions: camelExpr(e.expression),
        resolvedExpressions: camelExpr(e.expression),
        state: lower(e.state),
      };
    default:
      throw new Error(`SB v3 has no ${e.kind} list`);
  }
}

// ---------------------------------------------------------------- Sponsored Display

/** Sponsored Display's servingStatus names (SponsoredDisplay_v3.yaml, *ResponseEx): no CAMPAIGN_STATUS_ENABLED there. */
const SD_SERVING: Record<string, Record<string, string>> = {
  campaign: { ENABLED: 'ADVERTISER_STATUS_ENABLED', PAUSED: 'CAMPAIGN_PAUSED', ARCHIVED: 'CAMPAIGN_ARCHIVED' },
  adGroup: { ENABLED: 'AD_GROUP_STATUS_ENABLED', PAUSED: 'AD_GROUP_PAUSED', ARCHIVED: 'AD_GROUP_ARCHIVED' },
  ad: { ENABLED: 'AD_STATUS_LIVE', PAUSED: 'AD_STATUS_PAUSED', ARCHIVED: 'AD_STATUS_ARCHIVED' },
  target: { ENABLED: 'TARGET_STATUS_LIVE', PAUSED: 'TARGET_STATUS_PAUSED', ARCHIVED: 'TARGET_STATUS_ARCHIVED' },
};

export function sd(e: Entity, extended: boolean): Json {
  const ext = extended
    ? {
        servingStatus:
          (SD_SERVING[e.kind === 'campaign' || e.kind === 'adGroup' || e.kind === 'ad' ? e.kind : 'target'] ?? {})[
            e.state
          ] ?? 'STATUS_UNAVAILABLE',
        creationDate: ms(e.createdAt),
        lastUpdatedDate: ms(e.updatedAt),
      }
    : {};
  const ids = { adGroupId: Number(e.adGroupId), campaignId: Number(e.campaignId) };
  switch (e.kind) {
    case 'campaign':
      return withoutUndefined({
        campaignId: Number(e.id),
        name: e.name,
        tactic: e.tactic,
        startDate: ymd(e.startDate),
        endDate: ymd(e.endDate),
        state: lower(e.state),
        costType: lower(e.costType!),
        budget: e.budget,
        budgetType: 'daily',
        deliveryProfile: 'as_soon_as_possible',
        portfolioId: e.portfolioId === undefined ? undefined : Number(e.portfolioId),
        ...ext,
      });
    case 'adGroup':
      return {
        adGroupId: Number(e.id),
        campaignId: Number(e.campaignId),
        name: e.name,
        defaultBid: e.defaultBid,
        state: lower(e.state),
        bidOptimization: e.bidOptimization,
        tactic: e.tactic,
        creativeType: e.creativeType,
        ...ext,
      };
    case 'ad':
      return { adId: Number(e.id), ...ids, asin: e.asin, sku: e.sku, state: lower(e.state), ...ext };
    case 'productTarget':
      return {
        targetId: Number(e.id),
        ...ids,
        state: lower(e.state),
        expressionType: 'manual',
        expression: camelExpr(e.expression),
        resolvedExpression: camelExpr(e.expression),
        bid: e.bid,
        ...ext,
      };
    case 'negativeTarget':
      return {
        targetId: Number(e.id),
        ...ids,
        state: lower(e.state),
        expressionType: 'manual',
        expression: camelExpr(e.expression),
        ...ext,
      };
    case 'creative':
      return {
        creativeId: Number(e.id),
        adGroupId: Number(e.adGroupId),
        creativeType: e.creativeType,
        properties: { headline: e.headline },
        moderationStatus: 'APPROVED',
      };
    default:
      throw new Error(`Sponsored Display has no ${e.kind} list`);
  }
}

// ---------------------------------------------------------------- budget rules

/** A budget rule as the BudgetRules API writes it; SP's model allows only a DAILY recurrence, SB's and SD's also WEEKLY. */
export function budgetRule(e: Entity, product: 'sp' | 'sb' | 'sd'): Json {
  return {
    ruleId: e.id,
    ruleState: 'ACTIVE',
    ruleStatus: 'ACTIVE',
    createdDate: ms(e.createdAt),
    lastUpdatedDate: ms(e.updatedAt),
    ruleDetails: {
      name: e.name,
      ruleType: e.ruleType,
      duration: { dateRangeTypeRuleDuration: { startDate: e.createdAt.slice(0, 10).replaceAll('-', '') } },
      recurrence: product === 'sp' ? { type: 'DAILY' } : { type: 'WEEKLY', daysOfWeek: ['SATURDAY', 'SUNDAY'] },
      budgetIncreaseBy: { type: 'PERCENT', value: e.increasePercent },
    },
  };
}

// ---------------------------------------------------------------- Exports (common model)

/** The common model names bid strategies differently from SP v3 (en-us/reference/common-models/enums.md). */
export const EXPORT_BID_STRATEGY: Record<string, string> = {
  LEGACY_FOR_SALES: 'SALES_DOWN_ONLY',
  AUTO_FOR_SALES: 'SALES',
  MANUAL: 'NONE',
  RULE_BASED: 'RULE_BASED',
};

const deliveryOf = (e: Entity) =>
  e.state === 'ENABLED'
    ? { deliveryStatus: 'DELIVERING' }
    : {
        deliveryStatus: 'NOT_DELIVERING',
        deliveryReasons: [
          e.kind === 'campaign' ? `CAMPAIGN_${e.state}` : e.kind === 'adGroup' ? `AD_GROUP_${e.state}` : 'OTHER',
        ],
      };
const times = (e: Entity) => ({ creationDateTime: e.createdAt, lastUpdatedDateTime: e.updatedAt });

/** SP's predefined expressions as the common model's auto-targeting match types (common-models/targets.md). */
const COMMON_AUTO_MATCH: Record<string, string> = {
  QUERY_BROAD_REL_MATCHES: 'SEARCH_LOOSE_MATCH',
  QUERY_HIGH_REL_MATCHES: 'SEARCH_CLOSE_MATCH',
  ASIN_SUBSTITUTE_RELATED: 'PRODUCT_SUBSTITUTES',
  ASIN_ACCESSORY_RELATED: 'PRODUCT_COMPLEMENTS',
};

export function exported(e: Entity, currencyCode: string): Json {
  const adProduct = AD_PRODUCT_NAMES[e.product];
  switch (e.kind) {
    case 'campaign':
      return withoutUndefined({
        campaignId: e.id,
        adProduct,
        portfolioId: e.portfolioId,
        name: e.name,
        startDate: e.startDate,
        endDate: e.endDate,
        state: e.state,
        ...deliveryOf(e),
        brandEntityId: e.brandEntityId,
        optimization:
          e.product === 'sp'
            ? {
                bidStrategy: EXPORT_BID_STRATEGY[e.biddingStrategy!],
                placementBidAdjustments: placementAdjustments(e),
              }
            : undefined,
        budgetCaps: {
          budgetType: 'MONETARY',
          recurrenceTimePeriod: 'DAILY',
          budgetValue: { monetaryBudget: { currencyCode, amount: e.budget } },
        },
        targetingSettings: e.product === 'sp' ? e.targetingType : e.product === 'sd' ? e.tactic : undefined,
        costType: e.costType,
        ...times(e),
      });
    case 'adGroup':
      return withoutUndefined({
        adGroupId: e.id,
        campaignId: e.campaignId,
        adProduct,
        name: e.name,
        state: e.state,
        ...deliveryOf(e),
        creativeType: e.creativeType,
        bid: e.defaultBid === undefined ? undefined : { defaultBid: e.defaultBid, currencyCode },
        ...times(e),
      });
    case 'ad':
      // Exported ads name their ad group only, not their campaign (common-models/ads.md).
      return withoutUndefined({
        adId: e.id,
        adGroupId: e.adGroupId,
        adProduct,
        state: e.state,
        name: e.name,
        adType: e.product === 'sb' ? 'PRODUCT_COLLECTION' : 'PRODUCT_AD',
        creative: {
          products: e.asins
            ? e.asins.map((a) => ({ productIdType: 'ASIN', productId: a }))
            : [
                { productIdType: 'ASIN', productId: e.asin },
                { productIdType: 'SKU', productId: e.sku },
              ],
          headline: e.headline,
        },
        ...deliveryOf(e),
        ...times(e),
      });
    case 'keyword':
    case 'productTarget':
    case 'negativeKeyword':
    case 'negativeTarget':
    case 'campaignNegativeKeyword':
    case 'campaignNegativeTarget': {
      const negative = e.kind.includes('egative');
      const campaignLevel = e.kind.startsWith('campaign');
      const isKeyword = e.kind.toLowerCase().includes('keyword');
      const first = e.expression?.[0];
      const auto = e.expressionType === 'AUTO';
      const targetDetails = isKeyword
        ? { matchType: e.matchType, keyword: e.keywordText }
        : auto
          ? { matchType: COMMON_AUTO_MATCH[first!.type] }
          : first?.type === 'ASIN_BRAND_SAME_AS'
            ? { productBrand: first.value }
            : first?.type === 'SIMILAR_PRODUCT'
              ? { event: 'VIEW', lookback: 30 }
              : { matchType: 'PRODUCT_EXACT', asin: first?.value };
      // Ad-group targets name their ad group; only campaign-level targets name the campaign (common-models/targets.md).
      return withoutUndefined({
        targetId: e.id,
        adGroupId: campaignLevel ? undefined : e.adGroupId,
        campaignId: campaignLevel ? e.campaignId : undefined,
        adProduct,
        state: e.state,
        negative,
        bid: negative || e.bid === undefined ? undefined : { bid: e.bid, currencyCode },
        targetType: isKeyword
          ? 'KEYWORD'
          : auto
            ? 'AUTO'
            : first?.type === 'SIMILAR_PRODUCT'
              ? 'PRODUCT_AUDIENCE'
              : 'PRODUCT',
        targetDetails,
        ...deliveryOf(e),
        ...times(e),
      });
    }
    default:
      throw new Error(`exports carry no ${e.kind}`);
  }
}
