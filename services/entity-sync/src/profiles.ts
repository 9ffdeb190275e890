/**
 * Profile discovery: GET /v2/profiles for an account, with the account's profile
 * selection applied (what Amazon filters is asked of Amazon; ids and marketplaces here).
 * Selected profiles are upserted active; the rest are recorded as excluded with the
 * reason, so nothing ever calls Amazon for them. Profiles that vanished are left as they were;
 * one another account owns stays that account's, with this account's claim recorded.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { listProfiles, type AmazonProfile } from '@adsync/shared/amazon/entities';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { applySelection, excludeProfiles, upsertDiscovered, type ProfileRow } from '@adsync/shared/accounts/profiles';
import { amazonProfileQuery } from '@adsync/shared/accounts/profile-selection';
import { getProfileSelection } from '@adsync/shared/accounts/accounts';

export function profileRow(accountId: string, p: AmazonProfile): ProfileRow {
  return {
    profile_id: String(p.profileId),
    account_id: accountId,
    // The Profiles model makes none of these required; Amazon sends them for every profile.
    country_code: p.countryCode ?? '',
    currency_code: p.currencyCode ?? '',
    timezone: p.timezone ?? 'UTC',
    marketplace_id: p.accountInfo?.marketplaceStringId ?? null,
    amazon_account_id: p.accountInfo?.id ?? null,
    account_type: p.accountInfo?.type ?? null,
    account_sub_type: p.accountInfo?.subType ?? null,
    account_name: p.accountInfo?.name ?? null,
  };
}

export async function discoverProfiles(
  db: Knex,
  client: AmazonAdsClient,
  accountId: string,
): Promise<{
  profiles: ProfileRow[];
  added: number;
  excluded: { profileId: string; reason: string }[];
  /** Profiles this login reaches that another account owns: recorded as claims, never moved. */
  claimed: string[];
}> {
  const selection = await getProfileSelection(db, accountId);
  const listed = (await listProfiles(client, amazonProfileQuery(selection))).map((p) => profileRow(accountId, p));
  const { added, claimed } = await upsertDiscovered(db, accountId, listed);
  const found = listed.filter((p) => !claimed.includes(p.profile_id));
  let { excluded, included } = await applySelection(db, accountId, selection);
  // With accessLevel=edit, Amazon leaves out profiles shared for viewing only: not listed means not selected.
  if (selection.accessLevel === 'edit') {
    const listed = new Set(found.map((p) => p.profile_id));
    const unlisted = included.filter((id) => !listed.has(id));
    await excludeProfiles(
      db,
      unlisted,
      'excluded by the profile selection: not listed by Amazon for accessLevel=edit (shared for viewing only)',
    );
    excluded = [
      ...excluded,
      ...unlisted.map((profileId) => ({ profileId, reason: 'not listed by Amazon for accessLevel=edit' })),
    ];
    included = included.filter((id) => listed.has(id));
  }
  return { profiles: found.filter((p) => included.includes(p.profile_id)), added, excluded, claimed };
}
