/**
 * The entity lists entity-sync reads, each as an async iterator over every page, in
 * each family's own paging: SP v3 and Portfolios v3 and SB v4 (POST …/list with
 * nextToken), SB v3 keywords and Sponsored Display (GET with startIndex/count, a bare
 * array), SB v3 targets (POST …/list with typed filters), and budget rules (GET with
 * pageSize/nextToken). Every list asks for every state, so archived entities are kept.
 */
import type { AmazonAdsClient, PageHook } from './ads-client.ts';
import type {
  AmazonProfileModel,
  BudgetRuleCampaignOf,
  EntityOf,
  PortfolioListBody,
  ProfilesQuery,
  SbKeywordQuery,
  SbNegativeKeywordQuery,
  SbNegativeTargetListBody,
  SbTargetListBody,
  SbV4ListBody,
  SdListQuery,
  SpListBody,
} from './model-types.ts';

export type EntityKind =
  | 'portfolios'
  | 'spCampaigns'
  | 'spAdGroups'
  | 'spProductAds'
  | 'spKeywords'
  | 'spProductTargets'
  | 'spNegativeKeywords'
  | 'spNegativeTargets'
  | 'spCampaignNegativeKeywords'
  | 'spCampaignNegativeTargets'
  | 'sbCampaigns'
  | 'sbAdGroups'
  | 'sbAds'
  | 'sbKeywords'
  | 'sbProductTargets'
  | 'sbNegativeKeywords'
  | 'sbNegativeTargets'
  | 'sdCampaigns'
  | 'sdAdGroups'
  | 'sdProductAds'
  | 'sdTargets'
  | 'sdNegativeTargets'
  | 'sdCreatives'
  | 'spBudgetRules'
  | 'sbBudgetRules'
  | 'sdBudgetRules';

/** How each list is read; bodies and queries are typed by Amazon's models (model-types.ts). */
export type EntityEndpoint =
  /** POST …/list, body filters, nextToken; Content-Type and Accept are the media type. */
  | { style: 'v3'; path: string; mediaType: string; key: string; maxResults: number; body: Record<string, unknown> }
  /** GET with startIndex/count answering a bare array, once per query (a model that takes one state per call gets one call each). */
  | { style: 'v2'; path: string; accept?: string; maxResults: number; queries: Record<string, string>[] }
  /** POST …/list with {filters: [{filterType, values}]} and nextToken (SB v3 targets); the answer has its own media type. */
  | {
      style: 'sbFilters';
      path: string;
      accept: string;
      key: string;
      maxResults: number;
      body: SbTargetListBody | SbNegativeTargetListBody;
    }
  /** GET with pageSize and nextToken (budget rules). */
  | { style: 'pageSize'; path: string; key: string; pageSize: number };

/** Every state there is, so archived entities are kept (SP v3 and SB v4 name them in upper case). */
const SP_LIST_BODY: SpListBody = {
  includeExtendedDataFields: true,
  stateFilter: { include: ['ENABLED', 'PAUSED', 'ARCHIVED'] },
};
const SB_V4_LIST_BODY: SbV4ListBody = {
  includeExtendedDataFields: true,
  stateFilter: { include: ['ENABLED', 'PAUSED', 'ARCHIVED'] },
};
// The Portfolios model takes one state per request; without a filter every portfolio is listed.
const PORTFOLIO_LIST_BODY: PortfolioListBody = { includeExtendedDataFields: true };
// The Sponsored Display model enumerates its state combinations with ", " between them; this one is every state.
const SD_STATES: NonNullable<SdListQuery['stateFilter']> = 'enabled, paused, archived';
// SB v3's keyword lists take one state each (their models' enums), so each state is its own call.
const SB_KEYWORD_STATES: NonNullable<SbKeywordQuery['stateFilter']>[] = ['enabled', 'paused', 'archived'];
const SB_NEGATIVE_KEYWORD_STATES: NonNullable<SbNegativeKeywordQuery['stateFilter']>[] = ['enabled', 'archived'];

const spV3 = (path: string, mediaType: string, key: string): EntityEndpoint => ({
  style: 'v3',
  path,
  mediaType,
  key,
  maxResults: 1000,
  body: SP_LIST_BODY,
});
const sd = (path: string): EntityEndpoint => ({
  style: 'v2',
  path,
  maxResults: 100,
  queries: [{ stateFilter: SD_STATES }],
});
const sbV4 = (path: string, mediaType: string, key: string): EntityEndpoint => ({
  style: 'v3',
  path,
  mediaType,
  key,
  maxResults: 100,
  body: SB_V4_LIST_BODY,
});
const budgetRules = (path: string): EntityEndpoint => ({
  style: 'pageSize',
  path,
  key: 'budgetRulesForAdvertiserResponse',
  pageSize: 30,
});

/**
 * Page sizes stay at what every source agrees Amazon accepts (1000 for SP v3, 100 for
 * SB v4 and Sponsored Display); Sponsored Display is read from its /extended lists, the
 * only ones that carry lastUpdatedDate for incremental syncs. Where a source documents
 * it, see docs/amazon-contract.md.
 */
export const ENTITY_ENDPOINTS: Record<EntityKind, EntityEndpoint> = {
  portfolios: {
    style: 'v3',
    path: '/portfolios/list',
    mediaType: 'application/vnd.spPortfolio.v3+json',
    key: 'portfolios',
    maxResults: 1000,
    body: PORTFOLIO_LIST_BODY,
  },
  spCampaigns: spV3('/sp/campaigns/list', 'application/vnd.spCampaign.v3+json', 'campaigns'),
  spAdGroups: spV3('/sp/adGroups/list', 'application/vnd.spAdGroup.v3+json', 'adGroups'),
  spProductAds: spV3('/sp/productAds/list', 'application/vnd.spProductAd.v3+json', 'productAds'),
  spKeywords: spV3('/sp/keywords/list', 'application/vnd.spKeyword.v3+json', 'keywords'),
  spProductTargets: spV3('/sp/targets/list', 'application/vnd.spTargetingClause.v3+json', 'targetingClauses'),
  spNegativeKeywords: spV3(
    '/sp/negativeKeywords/list',
    'application/vnd.spNegativeKeyword.v3+json',
    'negativeKeywords',
  ),
  spNegativeTargets: spV3(
    '/sp/negativeTargets/list',
    'application/vnd.spNegativeTargetingClause.v3+json',
    'negativeTargetingClauses',
  ),
  spCampaignNegativeKeywords: spV3(
    '/sp/campaignNegativeKeywords/list',
    'application/vnd.spCampaignNegativeKeyword.v3+json',
    'campaignNegativeKeywords',
  ),
  spCampaignNegativeTargets: spV3(
    '/sp/campaignNegativeTargets/list',
    'application/vnd.spCampaignNegativeTargetingClause.v3+json',
    'campaignNegativeTargetingClauses',
  ),
  sbCampaigns: sbV4('/sb/v4/campaigns/list', 'application/vnd.sbcampaignresource.v4+json', 'campaigns'),
  sbAdGroups: sbV4('/sb/v4/adGroups/list', 'application/vnd.sbadgroupresource.v4+json', 'adGroups'),
  sbAds: sbV4('/sb/v4/ads/list', 'application/vnd.sbadresource.v4+json', 'ads'),
  sbKeywords: {
    style: 'v2',
    path: '/sb/keywords',
    accept: 'application/vnd.sbkeyword.v3.2+json',
    maxResults: 1000,
    queries: SB_KEYWORD_STATES.map((stateFilter) => ({ stateFilter })),
  },
  sbNegativeKeywords: {
    style: 'v2',
    path: '/sb/negativeKeywords',
    accept: 'application/vnd.sbnegativekeyword.v3.2+json',
    maxResults: 1000,
    queries: SB_NEGATIVE_KEYWORD_STATES.map((stateFilter) => ({ stateFilter })),
  },
  sbProductTargets: {
    style: 'sbFilters',
    path: '/sb/targets/list',
    accept: 'application/vnd.sblisttargetsresponse.v3.2+json',
    key: 'targets',
    maxResults: 1000,
    body: {
      filters: [{ filterType: 'TARGETING_STATE', values: ['enabled', 'paused', 'archived'] }],
    } satisfies SbTargetListBody,
  },
  sbNegativeTargets: {
    style: 'sbFilters',
    path: '/sb/negativeTargets/list',
    accept: 'application/vnd.sblistnegativetargetsresponse.v3.2+json',
    key: 'negativeTargets',
    maxResults: 1000,
    body: {
      filters: [{ filterType: 'TARGETING_STATE', values: ['enabled', 'archived'] }],
    } satisfies SbNegativeTargetListBody,
  },
  sdCampaigns: sd('/sd/campaigns/extended'),
  sdAdGroups: sd('/sd/adGroups/extended'),
  sdProductAds: sd('/sd/productAds/extended'),
  sdTargets: sd('/sd/targets/extended'),
  sdNegativeTargets: sd('/sd/negativeTargets/extended'),
  // Creatives take no state filter (only adGroupIdFilter or creativeIdFilter).
  sdCreatives: { style: 'v2', path: '/sd/creatives', maxResults: 100, queries: [{}] },
  spBudgetRules: budgetRules('/sp/budgetRules'),
  sbBudgetRules: budgetRules('/sb/budgetRules'),
  sdBudgetRules: budgetRules('/sd/budgetRules'),
};

/** Every entity of a kind, page by page, typed as Amazon's model of its list answers it. */
export function listEntities<K extends EntityKind>(
  client: AmazonAdsClient,
  profileId: string,
  kind: K,
  opts: { maxResults?: number; onPage?: PageHook } = {},
): AsyncGenerator<EntityOf[K]> {
  const ep = ENTITY_ENDPOINTS[kind];
  const size = (max: number) => Math.min(opts.maxResults ?? max, max);
  switch (ep.style) {
    case 'v2':
      return (async function* () {
        for (const query of ep.queries)
          yield* client.listV2<EntityOf[K]>({
            path: ep.path,
            profileId,
            accept: ep.accept,
            count: size(ep.maxResults),
            query,
            onPage: opts.onPage,
          });
      })();
    case 'v3':
      return client.listV3<EntityOf[K]>({
        path: ep.path,
        profileId,
        mediaType: ep.mediaType,
        key: ep.key,
        maxResults: size(ep.maxResults),
        body: ep.body,
        onPage: opts.onPage,
      });
    case 'sbFilters':
      return client.listV3<EntityOf[K]>({
        path: ep.path,
        profileId,
        mediaType: 'application/json',
        accept: ep.accept,
        key: ep.key,
        maxResults: size(ep.maxResults),
        body: ep.body,
        onPage: opts.onPage,
      });
    case 'pageSize':
      return client.listPageSize<EntityOf[K]>({
        path: ep.path,
        profileId,
        key: ep.key,
        pageSize: ep.pageSize,
        onPage: opts.onPage,
      });
  }
}

/** The campaigns a budget rule is associated with (many-to-many; read by rule). */
export function budgetRuleCampaigns<P extends 'sp' | 'sb' | 'sd'>(
  client: AmazonAdsClient,
  profileId: string,
  product: P,
  ruleId: string,
  onPage?: PageHook,
): AsyncGenerator<BudgetRuleCampaignOf[P]> {
  return client.listPageSize<BudgetRuleCampaignOf[P]>({
    path: `/${product}/budgetRules/${encodeURIComponent(ruleId)}/campaigns`,
    profileId,
    key: 'associatedCampaigns',
    pageSize: 30,
    onPage,
  });
}

/** A profile as GET /v2/profiles answers it (Profiles model). */
export type AmazonProfile = AmazonProfileModel;

/** GET /v2/profiles; `query` narrows it (accessLevel, profileTypeFilter), as Amazon documents. */
export async function listProfiles(client: AmazonAdsClient, query: ProfilesQuery = {}): Promise<AmazonProfile[]> {
  const res = await client.call<AmazonProfile[]>({
    method: 'GET',
    path: '/v2/profiles',
    query: query as Record<string, string | undefined>,
    what: 'list profiles',
  });
  return res.body;
}
