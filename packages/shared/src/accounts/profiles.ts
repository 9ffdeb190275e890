/**
 * The module that owns `profiles`: the advertising profiles discovered for each
 * account (GET /v2/profiles), and whether adsync may use them. A profile Amazon
 * refuses (401 scope / 403) is marked inaccessible with Amazon's reason and skipped,
 * and completeness reports its days as gaps with that reason.
 */
import type { Knex } from '../db/postgres.ts';

export interface ProfileRow {
  profile_id: string;
  account_id: string;
  country_code: string;
  currency_code: string;
  timezone: string;
  marketplace_id: string | null;
  amazon_account_id: string | null;
  account_type: string | null;
  account_name: string | null;
}

const DISCOVERED_COLUMNS = [
  'account_id',
  'country_code',
  'currency_code',
  'timezone',
  'marketplace_id',
  'amazon_account_id',
  'account_type',
  'account_name',
];

/** Stores discovered profiles; returns how many are new. Profiles that vanished from Amazon's list are left as they were. */
export async function upsertDiscovered(db: Knex, found: ProfileRow[]): Promise<number> {
  if (found.length === 0) return 0;
  const existing = new Set(
    await db('profiles')
      .whereIn(
        'profile_id',
        found.map((p) => p.profile_id),
      )
      .pluck('profile_id'),
  );
  await db('profiles')
    .insert(found)
    .onConflict('profile_id')
    .merge({
      ...Object.fromEntries(DISCOVERED_COLUMNS.map((c) => [c, db.raw(`excluded.${c}`)])),
      last_seen_at: db.fn.now(),
      updated_at: db.fn.now(),
    });
  return found.filter((p) => !existing.has(p.profile_id)).length;
}

export async function markInaccessible(db: Knex, profileId: string, reason: string): Promise<void> {
  await db('profiles')
    .where({ profile_id: profileId })
    .update({ status: 'inaccessible', status_reason: reason, updated_at: db.fn.now() });
}

/** The account a profile belongs to, or undefined for a profile adsync does not know. */
export async function accountOfProfile(db: Knex, profileId: string): Promise<string | undefined> {
  return (await db('profiles').where({ profile_id: profileId }).first('account_id'))?.account_id;
}

export function profilesOfAccount(db: Knex, accountId: string) {
  return db('profiles').where({ account_id: accountId }).orderBy('profile_id');
}

/** Active profiles (optionally of one account, or some ids), with what planning needs. */
export function activeProfiles(
  db: Knex,
  opts: { accountId?: string; profileIds?: string[] } = {},
): Promise<{ profile_id: string; account_id: string; timezone: string; currency_code: string }[]> {
  let q = db('profiles')
    .where({ status: 'active' })
    .select('profile_id', 'account_id', 'timezone', 'currency_code')
    .orderBy('profile_id');
  if (opts.profileIds?.length) q = q.whereIn('profile_id', opts.profileIds);
  if (opts.accountId) q = q.where({ account_id: opts.accountId });
  return q;
}
