/**
 * Amazon DSP's entities from Amazon Ads API v1 (AdsApiV1 model: POST /adsApi/v1/query/{kind}),
 * the campaign-management API Amazon made generally available for DSP in 2025: campaigns (the
 * reports' orders), ad groups (line items), ads (creatives) and targets of one advertiser, named
 * by Amazon-Ads-AccountId, read a page at a time until no nextToken is left.
 */
import type { AmazonAdsClient } from './ads-client.ts';
import type { V1AdGroupPage, V1AdPage, V1CampaignPage, V1QueryCampaign, V1TargetPage } from './model-types.ts';

export const DSP_ENTITY_KINDS = ['campaigns', 'adGroups', 'ads', 'targets'] as const;
export type DspEntityKind = (typeof DSP_ENTITY_KINDS)[number];

export interface DspEntityOf {
  campaigns: NonNullable<V1CampaignPage['campaigns']>[number];
  adGroups: NonNullable<V1AdGroupPage['adGroups']>[number];
  ads: NonNullable<V1AdPage['ads']>[number];
  targets: NonNullable<V1TargetPage['targets']>[number];
}

/** The model's largest page per read. */
export const DSP_PAGE_SIZE: Record<DspEntityKind, number> = {
  campaigns: 5000,
  adGroups: 1000,
  ads: 1000,
  targets: 5000,
};

/** Every entity of one kind of a DSP advertiser, a page per yield. */
export async function* queryDspEntities<K extends DspEntityKind>(
  client: AmazonAdsClient,
  advertiserId: string,
  kind: K,
  pageSize = DSP_PAGE_SIZE[kind],
): AsyncGenerator<DspEntityOf[K][]> {
  let nextToken: string | undefined;
  do {
    const body: V1QueryCampaign = {
      adProductFilter: { include: ['AMAZON_DSP'] },
      maxResults: pageSize,
      ...(nextToken ? { nextToken } : {}),
    };
    const res = await client.call<Record<string, unknown> & { nextToken?: string }>({
      method: 'POST',
      path: `/adsApi/v1/query/${kind}`,
      accountId: advertiserId,
      body,
      what: `list the DSP ${kind} of advertiser ${advertiserId}`,
    });
    yield (res.body[kind] as DspEntityOf[K][] | undefined) ?? [];
    nextToken = res.body.nextToken || undefined;
  } while (nextToken);
}
