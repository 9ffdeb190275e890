/** The entity lists entity-sync reads, each as an async iterator over every page. */
import type { AmazonAdsClient, PageHook } from './ads-client.ts';

export type EntityKind =
  'spCampaigns' | 'spAdGroups' | 'spProductAds' | 'spKeywords' | 'spProductTargets' | 'sbCampaigns' | 'sdCampaigns';

export interface EntityEndpoint {
  style: 'v3' | 'v2';
  path: string;
  mediaType?: string;
  key?: string;
  maxResults: number;
}

/**
 * Page sizes stay at what every source agrees Amazon accepts (1000 for SP v3, 100
 * for SB v4 and Sponsored Display); Sponsored Display is read from its /extended
 * lists, the only ones that carry lastUpdatedDate for incremental syncs.
 */
export const ENTITY_ENDPOINTS: Record<EntityKind, EntityEndpoint> = {
  spCampaigns: {
    style: 'v3',
    path: '/sp/campaigns/list',
    mediaType: 'application/vnd.spCampaign.v3+json',
    key: 'campaigns',
    maxResults: 1000,
  },
  spAdGroups: {
    style: 'v3',
    path: '/sp/adGroups/list',
    mediaType: 'application/vnd.spAdGroup.v3+json',
    key: 'adGroups',
    maxResults: 1000,
  },
  spProductAds: {
    style: 'v3',
    path: '/sp/productAds/list',
    mediaType: 'application/vnd.spProductAd.v3+json',
    key: 'productAds',
    maxResults: 1000,
  },
  spKeywords: {
    style: 'v3',
    path: '/sp/keywords/list',
    mediaType: 'application/vnd.spKeyword.v3+json',
    key: 'keywords',
    maxResults: 1000,
  },
  spProductTargets: {
    style: 'v3',
    path: '/sp/targets/list',
    mediaType: 'application/vnd.spTargetingClause.v3+json',
    key: 'targetingClauses',
    maxResults: 1000,
  },
  sbCampaigns: {
    style: 'v3',
    path: '/sb/v4/campaigns/list',
    mediaType: 'application/vnd.sbcampaignresource.v4+json',
    key: 'campaigns',
    maxResults: 100,
  },
  sdCampaigns: { style: 'v2', path: '/sd/campaigns/extended', maxResults: 100 },
};

export function listEntities<T = Record<string, unknown>>(
  client: AmazonAdsClient,
  profileId: string,
  kind: EntityKind,
  opts: { maxResults?: number; onPage?: PageHook } = {},
): AsyncGenerator<T> {
  const ep = ENTITY_ENDPOINTS[kind];
  const maxResults = Math.min(opts.maxResults ?? ep.maxResults, ep.maxResults);
  if (ep.style === 'v2')
    return client.listV2<T>({
      path: ep.path,
      profileId,
      count: maxResults,
      query: { stateFilter: 'enabled,paused,archived' },
      onPage: opts.onPage,
    });
  // Every state, explicitly: archived entities are kept, whatever a list's default filter is.
  return client.listV3<T>({
    path: ep.path,
    profileId,
    mediaType: ep.mediaType!,
    key: ep.key!,
    maxResults,
    body: { includeExtendedDataFields: true, stateFilter: { include: ['ENABLED', 'PAUSED', 'ARCHIVED'] } },
    onPage: opts.onPage,
  });
}

export interface AmazonProfile {
  profileId: number | string;
  countryCode: string;
  currencyCode: string;
  timezone: string;
  accountInfo: { marketplaceStringId: string; id: string; type: string; name: string; validPaymentMethod?: boolean };
}

export async function listProfiles(client: AmazonAdsClient): Promise<AmazonProfile[]> {
  const res = await client.call<AmazonProfile[]>({ method: 'GET', path: '/v2/profiles', what: 'list profiles' });
  return res.body;
}
