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
import { upsertDiscovered, type ProfileRow } from '@adsync/shared/accounts/profiles';
import {
  amazonProfileQuery,
  getProfileSelection,
  selected,
  type ProfileSelection,
} from '@adsync/shared/accounts/profile-selection';

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
    for (const id of unlisted)
      await db('profiles').where({ profile_id: id }).update({
        status: 'excluded',
        status_reason:
          'excluded by the profile selection: not listed by Amazon for accessLevel=edit (shared for viewing only)',
        updated_at: db.fn.now(),
      });
    excluded = [
      ...excluded,
      ...unlisted.map((profileId) => ({ profileId, reason: 'not listed by Amazon for accessLevel=edit' })),
    ];
    included = included.filter((id) => listed.has(id));
  }
  return { profiles: found.filter((p) => included.includes(p.profile_id)), added, excluded, claimed };
}

/**
 * Applies a selection to every profile the account has (not only those listed now): the
 * ones it leaves out become excluded with the reason; ones it takes back become active.
 */
export async function applySelection(
  db: Knex,
  accountId: string,
  selection: ProfileSelection,
): Promise<{ included: string[]; excluded: { profileId: string; reason: string }[] }> {
  const known: ProfileRow[] = await db('profiles')
    .where({ account_id: accountId })
    .select('profile_id', 'marketplace_id', 'account_type');
  const excluded: { profileId: string; reason: string }[] = [];
  const included: string[] = [];
  for (const p of known) {
    const s = selected(selection, p);
    if (s.selected) included.push(p.profile_id);
    else excluded.push({ profileId: p.profile_id, reason: s.reason });
  }
  for (const e of excluded)
    await db('profiles')
      .where({ profile_id: e.profileId })
      .update({
        status: 'excluded',
        status_reason: `excluded by the profile selection: ${e.reason}`,
        updated_at: db.fn.now(),
      });
  // A profile selected again is synced again (one Amazon refused stays inaccessible until it answers).
  if (included.length) {
    let back = db('profiles').whereIn('profile_id', included).where({ status: 'excluded' });
    // Only a discovery can tell whether a view-only profile is editable now.
    if (selection.accessLevel === 'edit') back = back.whereNot('status_reason', 'like', '%accessLevel=edit%');
    await back.update({ status: 'active', status_reason: null, updated_at: db.fn.now() });
  }
  return { included, excluded };
}
