/**
 * DSP advertiser discovery for an account: GET /dsp/advertisers under each of its active DSP
 * (agency) profiles, and GET /managerAccounts for advertisers linked to a manager account;
 * stored with the account's selection applied (shared/accounts/dsp-advertisers.ts). A DSP
 * profile Amazon refuses leaves its advertisers inaccessible with Amazon's reason; the others
 * are still discovered.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import {
  listDspAdvertisers,
  listManagerLinkedAdvertisers,
  type DspAdvertiserModel,
  type ManagerLinkedAdvertiser,
} from '@adsync/shared/amazon/dsp-accounts';
import {
  applyAdvertiserSelection,
  markAdvertisersInaccessibleVia,
  upsertDiscoveredAdvertisers,
  type DspAdvertiserRow,
} from '@adsync/shared/accounts/dsp-advertisers';
import { getProfileSelection } from '@adsync/shared/accounts/accounts';
import { activeDspProfileIds } from '@adsync/shared/accounts/profiles';

type Found = Omit<DspAdvertiserRow, 'account_id'>;

/**
 * One row per advertiser from both routes. The profile route wins where both list one: it
 * carries the currency and timezone reports are read in; the manager account is kept beside it.
 */
export function advertiserRows(
  viaProfiles: { profileId: string; advertisers: DspAdvertiserModel[] }[],
  linked: ManagerLinkedAdvertiser[],
): Found[] {
  const rows = new Map<string, Found>();
  for (const l of linked)
    if (!rows.has(l.advertiserId))
      rows.set(l.advertiserId, {
        advertiser_id: l.advertiserId,
        name: l.name,
        currency_code: null,
        country_code: null,
        timezone: null,
        url: null,
        marketplace_id: l.marketplaceId,
        via_profile_id: null,
        manager_account_id: l.managerAccountId || null,
      });
  for (const { profileId, advertisers } of viaProfiles)
    for (const a of advertisers) {
      if (!a.advertiserId) continue;
      const before = rows.get(a.advertiserId);
      if (before?.via_profile_id) continue; // the first DSP profile listing it reaches it
      rows.set(a.advertiserId, {
        advertiser_id: a.advertiserId,
        name: a.name ?? before?.name ?? '',
        currency_code: a.currency ?? null,
        country_code: a.country ?? null,
        timezone: a.timezone ?? null,
        url: a.url ?? null,
        marketplace_id: before?.marketplace_id ?? null,
        via_profile_id: profileId,
        manager_account_id: before?.manager_account_id ?? null,
      });
    }
  return [...rows.values()];
}

/** What Amazon refused, by route: kept on the result so a person sees why something is missing. */
export interface Unreachable {
  route: string;
  reason: string;
}

/** Amazon refusing this route (the profile's scope, the resource): recorded. A refused token fails the discovery. */
const refusal = (err: unknown): string | null =>
  err instanceof AmazonApiError && (err.kind === 'forbidden' || err.kind === 'not_found') ? err.message : null;

export async function discoverDspAdvertisers(
  db: Knex,
  client: AmazonAdsClient,
  accountId: string,
): Promise<{
  advertisers: Found[];
  added: number;
  excluded: { advertiserId: string; reason: string }[];
  /** Advertisers this login reaches that another account owns: never moved. */
  claimed: string[];
  unreachable: Unreachable[];
}> {
  const dspProfiles = await activeDspProfileIds(db, accountId);
  const unreachable: Unreachable[] = [];
  const viaProfiles: { profileId: string; advertisers: DspAdvertiserModel[] }[] = [];
  for (const profileId of dspProfiles) {
    try {
      viaProfiles.push({ profileId, advertisers: await listDspAdvertisers(client, profileId) });
    } catch (err) {
      const reason = refusal(err);
      if (!reason) throw err;
      unreachable.push({ route: `GET /dsp/advertisers (profile ${profileId})`, reason });
      await markAdvertisersInaccessibleVia(db, profileId, reason);
    }
  }
  let linked: ManagerLinkedAdvertiser[] = [];
  try {
    linked = await listManagerLinkedAdvertisers(client);
  } catch (err) {
    const reason = refusal(err);
    if (!reason) throw err;
    unreachable.push({ route: 'GET /managerAccounts', reason });
  }
  const found = advertiserRows(viaProfiles, linked);
  const { added, claimed } = await upsertDiscoveredAdvertisers(db, accountId, found);
  const { included, excluded } = await applyAdvertiserSelection(
    db,
    accountId,
    await getProfileSelection(db, accountId),
  );
  const mine = found.filter((a) => !claimed.includes(a.advertiser_id) && included.includes(a.advertiser_id));
  return { advertisers: mine, added, excluded, claimed, unreachable };
}
