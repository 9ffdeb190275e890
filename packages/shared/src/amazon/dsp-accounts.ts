/**
 * Which Amazon DSP advertisers a login reaches, by the two routes Amazon documents (the
 * DspAdvertisers and ManagerAccounts models in packages/amazon-models):
 * - GET /dsp/advertisers under a DSP profile's scope (accountInfo.type `agency`), paged by
 *   startIndex and count (at most 100 a page; startIndex at most 29,900);
 * - GET /managerAccounts, whose linked accounts of type DSP_ADVERTISING_ACCOUNT carry the
 *   `dspAdvertiserId` that reports and Marketing Stream take in Amazon-Ads-AccountId
 *   (guides/reporting/dsp/creating-reports.md).
 */
import type { AmazonAdsClient } from './ads-client.ts';
import type { DspAdvertiserModel, DspAdvertisersPage, ManagerAccountsAnswer } from './model-types.ts';

export type { DspAdvertiserModel };

/** The model's largest page and last start index. */
export const DSP_ADVERTISERS_PAGE = 100;
const LAST_START_INDEX = 29_900;

/**
 * Every DSP advertiser of the entity a DSP (agency) profile names, page by page until a short
 * page (the model makes totalResults optional). `truncated`: the model's last start index was
 * reached with more said to remain.
 */
export async function listDspAdvertisers(
  client: AmazonAdsClient,
  profileId: string,
): Promise<{ advertisers: DspAdvertiserModel[]; truncated: boolean }> {
  const out: DspAdvertiserModel[] = [];
  for (let start = 0; ; start += DSP_ADVERTISERS_PAGE) {
    const res = await client.call<DspAdvertisersPage>({
      method: 'GET',
      path: '/dsp/advertisers',
      profileId,
      query: { startIndex: start, count: DSP_ADVERTISERS_PAGE },
      what: `list the DSP advertisers of profile ${profileId}`,
    });
    const page = res.body.response ?? [];
    out.push(...page);
    const total = res.body.totalResults ?? Infinity;
    if (page.length < DSP_ADVERTISERS_PAGE || out.length >= total) return { advertisers: out, truncated: false };
    if (start + DSP_ADVERTISERS_PAGE > LAST_START_INDEX) return { advertisers: out, truncated: true };
  }
}

export interface ManagerLinkedAdvertiser {
  managerAccountId: string;
  advertiserId: string;
  name: string;
  marketplaceId: string | null;
}

/** The most linked accounts Amazon returns per manager account (the model's maxItems). */
export const LINKED_ACCOUNTS_CAP = 50;

/**
 * The DSP advertisers linked to the manager accounts the login may use; `full`: the manager
 * accounts that listed the most Amazon returns, so more may be linked than were listed.
 */
export async function listManagerLinkedAdvertisers(
  client: AmazonAdsClient,
): Promise<{ advertisers: ManagerLinkedAdvertiser[]; full: string[] }> {
  const res = await client.call<ManagerAccountsAnswer>({
    method: 'GET',
    path: '/managerAccounts',
    accept: 'application/vnd.getmanageraccountsresponse.v1+json',
    what: 'list manager accounts',
  });
  const managers = res.body.managerAccounts ?? [];
  const full = managers
    .filter((m) => (m.linkedAccounts?.length ?? 0) >= LINKED_ACCOUNTS_CAP)
    .map((m) => m.managerAccountId ?? '');
  const advertisers = managers.flatMap((m) =>
    (m.linkedAccounts ?? [])
      .filter((a) => a.accountType === 'DSP_ADVERTISING_ACCOUNT' && a.dspAdvertiserId)
      .map((a) => ({
        managerAccountId: m.managerAccountId ?? '',
        advertiserId: a.dspAdvertiserId!,
        name: a.accountName ?? '',
        marketplaceId: a.marketplaceId ?? null,
      })),
  );
  return { advertisers, full };
}
