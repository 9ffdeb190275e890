/**
 * DSP advertiser discovery for an account: GET /dsp/advertisers under each of its active DSP
 * (agency) profiles, and GET /managerAccounts for advertisers linked to a manager account;
 * stored with the account's selection applied (shared/accounts/dsp-advertisers.ts). A DSP
 * profile Amazon refuses leaves its advertisers inaccessible with Amazon's reason; the others
 * are still discovered, and so are they when one route fails.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import {
  LINKED_ACCOUNTS_CAP,
  listDspAdvertisers,
  listManagerLinkedAdvertisers,
  type DspAdvertiserModel,
  type ManagerLinkedAdvertiser,
} from '@adsync/shared/amazon/dsp-accounts';
import {
  applyAdvertiserSelection,
  markAdvertisersInaccessibleVia,
  upsertDiscoveredAdvertisers,
  viaProfilesOfAccount,
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

/** What Amazon refused or failed, by route: kept on the result so a person sees why something is missing. */
export interface Unreachable {
  route: string;
  reason: string;
}

/** Amazon refusing what a route names (the profile's scope, the resource): its advertisers are marked. */
const isRefusal = (err: unknown) =>
  err instanceof AmazonApiError && (err.kind === 'forbidden' || err.kind === 'not_found');
/** A refused token is the account's problem, not a route's: it fails the discovery (and the account shows it). */
const isTokenRefusal = (err: unknown) => err instanceof AmazonApiError && err.kind === 'auth';
const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

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
  /** Routes Amazon refused or that failed after retries; the others were still discovered. */
  unreachable: Unreachable[];
  /** Lists that may be longer than Amazon answered (its caps). */
  warnings: string[];
}> {
  const dspProfiles = await activeDspProfileIds(db, accountId);
  const unreachable: Unreachable[] = [];
  const warnings: string[] = [];
  const viaProfiles: { profileId: string; advertisers: DspAdvertiserModel[] }[] = [];
  const refusedProfiles: { profileId: string; reason: string }[] = [];
  for (const profileId of dspProfiles) {
    try {
      const listed = await listDspAdvertisers(client, profileId);
      viaProfiles.push({ profileId, advertisers: listed.advertisers });
      if (listed.truncated)
        warnings.push(
          `DSP profile ${profileId} lists more than ${listed.advertisers.length} advertisers, past the last page GET /dsp/advertisers serves`,
        );
    } catch (err) {
      if (isTokenRefusal(err)) throw err;
      unreachable.push({ route: `GET /dsp/advertisers (profile ${profileId})`, reason: reasonOf(err) });
      if (isRefusal(err)) refusedProfiles.push({ profileId, reason: reasonOf(err) });
    }
  }
  let linked: ManagerLinkedAdvertiser[] = [];
  try {
    const listed = await listManagerLinkedAdvertisers(client);
    linked = listed.advertisers;
    for (const m of listed.full)
      warnings.push(
        `manager account ${m} lists ${LINKED_ACCOUNTS_CAP} linked accounts, the most GET /managerAccounts returns: more may be linked`,
      );
  } catch (err) {
    if (isTokenRefusal(err)) throw err;
    unreachable.push({ route: 'GET /managerAccounts', reason: reasonOf(err) });
  }
  const found = advertiserRows(viaProfiles, linked);
  const { added, claimed } = await upsertDiscoveredAdvertisers(db, accountId, found);
  // Reached through a DSP profile Amazon refused, or one no longer active (excluded, inaccessible):
  // not used until a discovery reaches them again.
  const refused = new Map(refusedProfiles.map((r) => [r.profileId, r.reason]));
  await markAdvertisersInaccessibleVia(db, accountId, [...refused.keys()], (id) => refused.get(id)!);
  const active = new Set(dspProfiles);
  const stale = (await viaProfilesOfAccount(db, accountId)).filter((id) => !active.has(id));
  await markAdvertisersInaccessibleVia(
    db,
    accountId,
    stale,
    (id) => `reached through DSP profile ${id}, which is not active (excluded or inaccessible)`,
  );
  const { included, excluded } = await applyAdvertiserSelection(
    db,
    accountId,
    await getProfileSelection(db, accountId),
  );
  const theirs = new Set(claimed);
  const used = new Set(included);
  const mine = found.filter((a) => !theirs.has(a.advertiser_id) && used.has(a.advertiser_id));
  return { advertisers: mine, added, excluded, claimed, unreachable, warnings };
}
