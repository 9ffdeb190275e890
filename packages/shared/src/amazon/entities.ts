/**
 * The entity lists entity-sync reads, each as an async iterator over every page, in
 * each family's own paging: SP v3 and Portfolios v3 and SB v4 (POST …/list with
 * nextToken), SB v3 keywords and Sponsored Display (GET with startIndex/count, a bare
 * array), SB v3 targets (POST …/list with typed filters), and budget rules (GET with
 * pageSize/nextToken). Every list asks for every state, so archived entities are kept.
 */
import type { AmazonAdsClient, PageHook } from './ads-client.ts';

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

export type EntityEndpoint =
  /** POST …/list, body filters, nextToken; Content-Type and Accept are the media type. */
  | { style: 'v3'; path: string; mediaType: string; key: string; maxResults: number; stateFilter: boolean }
  /** GET with startIndex/count answering a bare array; `states` is the stateFilter sent (none when null). */
  | { style: 'v2'; path: string; accept?: string; maxResults: number; states: string | null }
  /** POST …/list with {filters: [{filterType, values}]} and nextToken (SB v3 targets). */
  | { style: 'sbFilters'; path: string; accept: string; key: string; maxResults: number; states: string[] }
  /** GET with pageSize (required, at most 30) and nextToken (budget rules). */
  | { style: 'pageSize'; path: string; key: string; pageSize: number };

const SP_STATES = true;
const spV3 = (path: string, mediaType: string, key: string): EntityEndpoint => ({
  style: 'v3',
  path,
  mediaType,
  key,
  maxResults: 1000,
  stateFilter: SP_STATES,
});
const sd = (path: string): EntityEndpoint => ({
  style: 'v2',
  path,
  maxResults: 100,
  states: 'enabled,paused,archived',
});

/**
 * Page sizes stay at what every source agrees Amazon accepts (1000 for SP v3, 100 for
 * SB v4 and Sponsored Display); Sponsored Display is read from its /extended lists, the
 * only ones that carry lastUpdatedDate for incremental syncs. Where a source documents
 * it, see docs/amazon-contract.md.
 */
export const ENTITY_ENDPOINTS: Record<EntityKind, EntityEndpoint> = {
  // The generated model allows one state per request; without a filter every portfolio is listed.
  portfolios: {
    style: 'v3',
    path: '/portfolios/list',
    mediaType: 'application/vnd.spPortfolio.v3+json',
    key: 'portfolios',
    maxResults: 1000,
    stateFilter: false,
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
  sbCampaigns: {
    style: 'v3',
    path: '/sb/v4/campaigns/list',
    mediaType: 'application/vnd.sbcampaignresource.v4+json',
    key: 'campaigns',
    maxResults: 100,
    stateFilter: true,
  },
  sbAdGroups: {
    style: 'v3',
    path: '/sb/v4/adGroups/list',
    mediaType: 'application/vnd.sbadgroupresource.v4+json',
    key: 'adGroups',
    maxResults: 100,
    stateFilter: true,
  },
  sbAds: {
    style: 'v3',
    path: '/sb/v4/ads/list',
    mediaType: 'application/vnd.sbadresource.v4+json',
    key: 'ads',
    maxResults: 100,
    stateFilter: true,
  },
  sbKeywords: {
    style: 'v2',
    path: '/sb/keywords',
    accept: 'application/vnd.sbkeyword.v3.2+json',
    maxResults: 1000,
    states: 'enabled,paused,archived',
  },
  sbNegativeKeywords: {
    style: 'v2',
    path: '/sb/negativeKeywords',
    accept: 'application/vnd.sbnegativekeyword.v3.2+json',
    maxResults: 1000,
    states: 'enabled,archived',
  },
  sbProductTargets: {
    style: 'sbFilters',
    path: '/sb/targets/list',
    accept: 'application/vnd.sblisttargetsresponse.v3.2+json',
    key: 'targets',
    maxResults: 1000,
    states: ['enabled', 'paused', 'archived'],
  },
  sbNegativeTargets: {
    style: 'sbFilters',
    path: '/sb/negativeTargets/list',
    accept: 'application/vnd.sblistnegativetargetsresponse.v3.2+json',
    key: 'negativeTargets',
    maxResults: 1000,
    states: ['enabled', 'archived'],
  },
  sdCampaigns: sd('/sd/campaigns/extended'),
  sdAdGroups: sd('/sd/adGroups/extended'),
  sdProductAds: sd('/sd/productAds/extended'),
  sdTargets: sd('/sd/targets/extended'),
  sdNegativeTargets: sd('/sd/negativeTargets/extended'),
  // Creatives take no state filter (only adGroupIdFilter or creativeIdFilter).
  sdCreatives: { style: 'v2', path: '/sd/creatives', maxResults: 100, states: null },
  spBudgetRules: { style: 'pageSize', path: '/sp/budgetRules', key: 'budgetRulesForAdvertiserResponse', pageSize: 30 },
  sbBudgetRules: { style: 'pageSize', path: '/sb/budgetRules', key: 'budgetRulesForAdvertiserResponse', pageSize: 30 },
  sdBudgetRules: { style: 'pageSize', path: '/sd/budgetRules', key: 'budgetRulesForAdvertiserResponse', pageSize: 30 },
};

export function listEntities<T = Record<string, unknown>>(
  client: AmazonAdsClient,
  profileId: string,
  kind: EntityKind,
  opts: { maxResults?: number; onPage?: PageHook } = {},
): AsyncGenerator<T> {
  const ep = ENTITY_ENDPOINTS[kind];
  switch (ep.style) {
    case 'v2':
      return client.listV2<T>({
        path: ep.path,
        profileId,
        accept: ep.accept,
        count: Math.min(opts.maxResults ?? ep.maxResults, ep.maxResults),
        query: ep.states ? { stateFilter: ep.states } : {},
        onPage: opts.onPage,
      });
    case 'v3':
      return client.listV3<T>({
        path: ep.path,
        profileId,
        mediaType: ep.mediaType,
        key: ep.key,
        maxResults: Math.min(opts.maxResults ?? ep.maxResults, ep.maxResults),
        body: {
          includeExtendedDataFields: true,
          ...(ep.stateFilter ? { stateFilter: { include: ['ENABLED', 'PAUSED', 'ARCHIVED'] } } : {}),
        },
        onPage: opts.onPage,
      });
    case 'sbFilters':
      return client.listV3<T>({
        path: ep.path,
        profileId,
        mediaType: 'application/json',
        accept: ep.accept,
        key: ep.key,
        maxResults: Math.min(opts.maxResults ?? ep.maxResults, ep.maxResults),
        body: { filters: [{ filterType: 'TARGETING_STATE', values: ep.states }] },
        onPage: opts.onPage,
      });
    case 'pageSize':
      return client.listPageSize<T>({
        path: ep.path,
        profileId,
        key: ep.key,
        pageSize: ep.pageSize,
        onPage: opts.onPage,
      });
  }
}

/** The campaigns a budget rule is associated with (many-to-many; read by rule). */
export function budgetRuleCampaigns<T = Record<string, unknown>>(
  client: AmazonAdsClient,
  profileId: string,
  product: 'sp' | 'sb' | 'sd',
  ruleId: string,
  onPage?: PageHook,
): AsyncGenerator<T> {
  return client.listPageSize<T>({
    path: `/${product}/budgetRules/${encodeURIComponent(ruleId)}/campaigns`,
    profileId,
    key: 'associatedCampaigns',
    pageSize: 30,
    onPage,
  });
}

export interface AmazonProfile {
  profileId: number | string;
  countryCode: string;
  currencyCode: string;
  timezone: string;
  accountInfo: { marketplaceStringId: string; id: string; type: string; name: string; validPaymentMethod?: boolean };
}

/** GET /v2/profiles; `query` narrows it (accessLevel, profileTypeFilter), as Amazon documents. */
export async function listProfiles(
  client: AmazonAdsClient,
  query: { accessLevel?: string; profileTypeFilter?: string } = {},
): Promise<AmazonProfile[]> {
  const res = await client.call<AmazonProfile[]>({ method: 'GET', path: '/v2/profiles', query, what: 'list profiles' });
  return res.body;
}
