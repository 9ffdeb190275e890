/**
 * The module that owns `profiles` and `profile_claims`: the advertising profiles discovered
 * for each account (GET /v2/profiles), and whether adsync may use them. A profile has one
 * owning account; when another account's login also reaches it (an agency and a brand
 * sharing access), discovery records that account's claim and never moves the profile:
 * someone decides (transferProfile, dismissClaim). A profile Amazon refuses (401 scope /
 * 403) is marked inaccessible with Amazon's reason and skipped, and completeness reports
 * its days as gaps with that reason.
 */
import type { Knex } from '../db/postgres.ts';
import { selected, type ProfileSelection } from './profile-selection.ts';

export interface ProfileRow {
  profile_id: string;
  account_id: string;
  country_code: string;
  currency_code: string;
  timezone: string;
  marketplace_id: string | null;
  amazon_account_id: string | null;
  account_type: string | null;
  /** accountInfo.subType: KDP_AUTHOR, AMAZON_ATTRIBUTION, or none. */
  account_sub_type: string | null;
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
  'account_sub_type',
  'account_name',
];

/**
 * Stores what one account's discovery found: new profiles become its own, its own are
 * refreshed, and one another account owns stays that account's, with this account's claim
 * recorded (a pending claim is raised once; a dismissed one stays dismissed). Profiles that
 * vanished from Amazon's list are left as they were.
 */
export async function upsertDiscovered(
  db: Knex,
  accountId: string,
  found: Omit<ProfileRow, 'account_id'>[],
): Promise<{ added: number; claimed: string[] }> {
  if (found.length === 0) return { added: 0, claimed: [] };
  const ids = found.map((p) => p.profile_id);
  return db.transaction(async (trx) => {
    const before = new Set<string>(await trx('profiles').whereIn('profile_id', ids).pluck('profile_id'));
    // One statement decides ownership: a new profile becomes this account's, its own are
    // refreshed, and another account's is left alone (the conditional merge), even when two
    // discoveries of the same new profile race.
    await trx('profiles')
      .insert(found.map((p) => ({ ...p, account_id: accountId })))
      .onConflict('profile_id')
      .merge({
        ...Object.fromEntries(
          DISCOVERED_COLUMNS.filter((c) => c !== 'account_id').map((c) => [c, trx.raw(`excluded.${c}`)]),
        ),
        last_seen_at: trx.fn.now(),
        updated_at: trx.fn.now(),
      })
      .where('profiles.account_id', accountId);
    const owners = new Map<string, string>(
      (await trx('profiles').whereIn('profile_id', ids).select('profile_id', 'account_id')).map(
        (r: { profile_id: string; account_id: string }) => [r.profile_id, r.account_id],
      ),
    );
    const mine = ids.filter((id) => owners.get(id) === accountId);
    const claimed = ids.filter((id) => owners.get(id) !== accountId);
    if (claimed.length)
      await trx('profile_claims')
        .insert(claimed.map((profile_id) => ({ profile_id, account_id: accountId })))
        .onConflict(['profile_id', 'account_id'])
        .merge({ last_seen_at: trx.fn.now() });
    // A profile this account now owns needs no claim of its own.
    if (mine.length) await trx('profile_claims').where({ account_id: accountId }).whereIn('profile_id', mine).delete();
    return { added: mine.filter((id) => !before.has(id)).length, claimed };
  });
}

export interface ProfileClaim {
  profile_id: string;
  account_id: string;
  owner_account_id: string;
  status: 'pending' | 'dismissed';
  first_seen_at: string;
  last_seen_at: string;
}

/** Claims on profiles: those an account made (`claimant`), those made on profiles it owns (`owner`), or all. */
export function profileClaims(
  db: Knex,
  opts: { claimant?: string; owner?: string; status?: 'pending' | 'dismissed' } = {},
): Promise<ProfileClaim[]> {
  let q = db('profile_claims as c')
    .join('profiles as p', 'p.profile_id', 'c.profile_id')
    .select(
      'c.profile_id',
      'c.account_id',
      'p.account_id as owner_account_id',
      'c.status',
      'c.first_seen_at',
      'c.last_seen_at',
    )
    .orderBy(['c.profile_id', 'c.account_id']);
  if (opts.claimant) q = q.where('c.account_id', opts.claimant);
  if (opts.owner) q = q.where('p.account_id', opts.owner);
  if (opts.status) q = q.where('c.status', opts.status);
  return q;
}

/** How long a claim counts as a login still reaching the profile: one not seen for longer is stale. */
export const CLAIM_FRESH_DAYS = 30;

/**
 * Moves a profile to an account that claims it: everything keyed by the profile (entities,
 * reports, subscriptions) follows it. The former owner's access becomes a dismissed claim,
 * so its next discovery neither takes the profile back nor raises it again. `expectedOwner`
 * is the owner the caller was authorised against: if it changed meanwhile, nothing moves.
 * An owner gives only to a pending claim seen in the last CLAIM_FRESH_DAYS; an admin
 * (`anyClaim`) to any account that has reached it.
 */
export async function transferProfile(
  db: Knex,
  profileId: string,
  to: string,
  opts: { expectedOwner: string; anyClaim: boolean; resolution: string },
): Promise<{ from: string; to: string } | { refused: string }> {
  return db.transaction(async (trx) => {
    const p = await trx('profiles').where({ profile_id: profileId }).forUpdate().first('account_id');
    if (!p) return { refused: `no profile ${profileId}` };
    if (p.account_id !== opts.expectedOwner)
      return { refused: `profile ${profileId} changed owner meanwhile; look again before moving it` };
    if (p.account_id === to) return { refused: `profile ${profileId} already belongs to account ${to}` };
    const claim = await trx('profile_claims')
      .where({ profile_id: profileId, account_id: to })
      .forUpdate()
      .first('status', 'last_seen_at');
    if (!claim)
      return {
        refused: `account ${to} has not reached profile ${profileId}: only an account whose login reaches it can own it`,
      };
    if (!opts.anyClaim) {
      if (claim.status !== 'pending')
        return { refused: `account ${to} declined profile ${profileId}; only an admin can give it to that account` };
      if (Date.now() - new Date(claim.last_seen_at).getTime() > CLAIM_FRESH_DAYS * 86_400_000)
        return {
          refused: `account ${to} has not reached profile ${profileId} for over ${CLAIM_FRESH_DAYS} days; it must discover it again`,
        };
    }
    await trx('profiles').where({ profile_id: profileId }).update({ account_id: to, updated_at: trx.fn.now() });
    await trx('profile_claims').where({ profile_id: profileId, account_id: to }).delete();
    await trx('profile_claims')
      .insert({
        profile_id: profileId,
        account_id: p.account_id,
        status: 'dismissed',
        resolved_at: trx.fn.now(),
        resolution: opts.resolution,
      })
      .onConflict(['profile_id', 'account_id'])
      .merge({ status: 'dismissed', resolved_at: trx.fn.now(), resolution: opts.resolution });
    return { from: p.account_id as string, to };
  });
}

/** A claimant declines a profile another account owns: not raised again by its discoveries. */
export async function dismissClaim(
  db: Knex,
  profileId: string,
  accountId: string,
  resolution: string,
): Promise<boolean> {
  const n = await db('profile_claims')
    .where({ profile_id: profileId, account_id: accountId })
    .update({ status: 'dismissed', resolved_at: db.fn.now(), resolution });
  return n > 0;
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

export type ProfileStatus = 'active' | 'excluded' | 'inaccessible';

export interface StoredProfile extends ProfileRow {
  status: ProfileStatus;
  status_reason: string | null;
}

/** One profile as stored, or undefined for a profile adsync does not know. */
export async function findProfile(db: Knex, profileId: string): Promise<StoredProfile | undefined> {
  return db('profiles').where({ profile_id: profileId }).first();
}

export function profilesOfAccount(db: Knex, accountId: string) {
  return db('profiles').where({ account_id: accountId }).orderBy('profile_id');
}

/** An account's profile ids as a subquery, for other tables' owners to scope by (`whereIn(col, …)`). */
export function profileIdsOfAccount(db: Knex, accountId: string) {
  return db('profiles').where({ account_id: accountId }).select('profile_id');
}

/** Active profile ids as a subquery (`whereIn(col, …)`). */
export function activeProfileIds(db: Knex) {
  return db('profiles').where({ status: 'active' }).select('profile_id');
}

/** How many active profiles each of these accounts has (accounts with none are absent). */
export async function activeCountByAccount(db: Knex, accountIds: string[]): Promise<Map<string, number>> {
  const rows: { account_id: string; n: number }[] = await db('profiles')
    .whereIn('account_id', accountIds)
    .where({ status: 'active' })
    .groupBy('account_id')
    .select('account_id', db.raw('count(*)::int as n'));
  return new Map(rows.map((r) => [r.account_id, r.n]));
}

/** Profiles that can have data to report on (active, or refused by Amazon: their days are gaps with its reason). */
export function reportableProfiles(
  db: Knex,
  profileIds?: string[],
): Promise<Pick<StoredProfile, 'profile_id' | 'status' | 'status_reason' | 'timezone' | 'account_type'>[]> {
  let q = db('profiles')
    .whereIn('status', ['active', 'inaccessible'])
    .select('profile_id', 'status', 'status_reason', 'timezone', 'account_type');
  if (profileIds?.length) q = q.whereIn('profile_id', profileIds);
  return q;
}

/** advertiser id|marketplace id → profile id, for the profiles whose Amazon account is known (Marketing Stream keys). */
export async function profilesByAdvertiser(db: Knex): Promise<Map<string, string>> {
  const rows: { profile_id: string; amazon_account_id: string; marketplace_id: string }[] = await db('profiles')
    .whereNotNull('amazon_account_id')
    .select('profile_id', 'amazon_account_id', 'marketplace_id');
  return new Map(rows.map((r) => [`${r.amazon_account_id}|${r.marketplace_id}`, r.profile_id]));
}

export async function excludeProfiles(db: Knex, profileIds: string[], reason: string): Promise<void> {
  if (profileIds.length === 0) return;
  await db('profiles')
    .whereIn('profile_id', profileIds)
    .update({ status: 'excluded', status_reason: reason, updated_at: db.fn.now() });
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
  for (const e of excluded) await excludeProfiles(db, [e.profileId], `excluded by the profile selection: ${e.reason}`);
  // A profile selected again is synced again (one Amazon refused stays inaccessible until it answers).
  if (included.length) {
    let back = db('profiles').whereIn('profile_id', included).where({ status: 'excluded' });
    // Only a discovery can tell whether a view-only profile is editable now.
    if (selection.accessLevel === 'edit') back = back.whereNot('status_reason', 'like', '%accessLevel=edit%');
    await back.update({ status: 'active', status_reason: null, updated_at: db.fn.now() });
  }
  return { included, excluded };
}

/**
 * An account's active DSP profiles: the Profiles model's `agency` account type "is associated
 * with DSP"; GET /dsp/advertisers takes one as its scope, unless its subType is AMAZON_ATTRIBUTION
 * (the DspAdvertisers model's scope header).
 */
export function activeDspProfileIds(db: Knex, accountId: string): Promise<string[]> {
  return db('profiles')
    .where({ account_id: accountId, account_type: 'agency', status: 'active' })
    .where((q) => q.whereNull('account_sub_type').orWhereNot('account_sub_type', 'AMAZON_ATTRIBUTION'))
    .orderBy('profile_id')
    .pluck('profile_id');
}

/**
 * Whether a profile is a sponsored-ads advertiser's. An agency profile is a DSP entity's (the
 * Profiles model: agency "is associated with DSP") or Amazon Attribution's (subType
 * AMAZON_ATTRIBUTION): neither has sponsored-ads campaigns, reports or Stream datasets, and asking
 * Amazon for them under its scope would be refused. A profile whose type is unknown counts as one.
 */
export const sponsoredAdsProfile = (p: { account_type?: string | null }): boolean => p.account_type !== 'agency';

/** Active profiles (optionally of one account, or some ids), with what planning needs. */
export function activeProfiles(
  db: Knex,
  opts: { accountId?: string; profileIds?: string[] } = {},
): Promise<
  { profile_id: string; account_id: string; timezone: string; currency_code: string; account_type: string | null }[]
> {
  let q = db('profiles')
    .where({ status: 'active' })
    .select('profile_id', 'account_id', 'timezone', 'currency_code', 'account_type')
    .orderBy('profile_id');
  if (opts.profileIds?.length) q = q.whereIn('profile_id', opts.profileIds);
  if (opts.accountId) q = q.where({ account_id: opts.accountId });
  return q;
}
