/**
 * The module that owns `dsp_advertisers`: the Amazon DSP advertisers each account's login
 * reaches, and whether adsync may use them. Like a profile, an advertiser has one owning
 * account: another account's login that also reaches it never moves it (it is reported as
 * claimed), and the account's selection (includeDspAdvertiserIds / excludeDspAdvertiserIds)
 * decides which are used; the rest are recorded excluded with the reason.
 */
import type { Knex } from '../db/postgres.ts';
import { dspAdvertiserSelected, type ProfileSelection } from './profile-selection.ts';
import { marketplaceTimeZone } from '../amazon/marketplaces.ts';

export interface DspAdvertiserRow {
  advertiser_id: string;
  account_id: string;
  name: string;
  currency_code: string | null;
  country_code: string | null;
  timezone: string | null;
  url: string | null;
  marketplace_id: string | null;
  /** The DSP (agency) profile whose scope reaches it; null: Amazon-Ads-AccountId reaches it. */
  via_profile_id: string | null;
  manager_account_id: string | null;
}

export type DspAdvertiserStatus = 'active' | 'excluded' | 'inaccessible';

export interface StoredDspAdvertiser extends DspAdvertiserRow {
  status: DspAdvertiserStatus;
  status_reason: string | null;
  last_seen_at: Date;
}

const UPSERT_SLICE = 1000;

const DISCOVERED: (keyof DspAdvertiserRow)[] = [
  'name',
  'currency_code',
  'country_code',
  'timezone',
  'url',
  'marketplace_id',
  'via_profile_id',
  'manager_account_id',
];

/**
 * Stores what one account's discovery found: new advertisers become its own, its own are
 * refreshed, and one another account owns stays that account's (returned as claimed).
 * Advertisers that vanished from Amazon's lists are left as they were.
 */
export async function upsertDiscoveredAdvertisers(
  db: Knex,
  accountId: string,
  found: Omit<DspAdvertiserRow, 'account_id'>[],
): Promise<{ added: number; claimed: string[] }> {
  if (found.length === 0) return { added: 0, claimed: [] };
  const ids = found.map((a) => a.advertiser_id);
  return db.transaction(async (trx) => {
    const before = new Set<string>(await trx('dsp_advertisers').whereIn('advertiser_id', ids).pluck('advertiser_id'));
    // One statement per slice decides ownership, as for profiles: the conditional merge leaves
    // another account's advertiser alone even when two discoveries of a new one race. In slices:
    // an entity may list 30,000 advertisers, past Postgres's 65,535 bind parameters a statement.
    for (let i = 0; i < found.length; i += UPSERT_SLICE)
      await trx('dsp_advertisers')
        .insert(found.slice(i, i + UPSERT_SLICE).map((a) => ({ ...a, account_id: accountId })))
        .onConflict('advertiser_id')
        .merge({
          // A route that does not know a value (the manager account gives no currency, and no
          // profile) never blanks what the other found: an advertiser a DSP profile reaches stays
          // that profile's, so its reports never change owner, when only the manager account
          // listed it this time (the profile route failed, or the profile is paused).
          ...Object.fromEntries(DISCOVERED.map((c) => [c, trx.raw(`coalesce(excluded.${c}, dsp_advertisers.${c})`)])),
          // Listed again: Amazon answers for it now (an exclusion is the selection's to lift).
          status: trx.raw(
            `case when dsp_advertisers.status = 'inaccessible' then 'active' else dsp_advertisers.status end`,
          ),
          status_reason: trx.raw(
            `case when dsp_advertisers.status = 'inaccessible' then null else dsp_advertisers.status_reason end`,
          ),
          last_seen_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        })
        .where('dsp_advertisers.account_id', accountId);
    const owners = new Map<string, string>(
      (await trx('dsp_advertisers').whereIn('advertiser_id', ids).select('advertiser_id', 'account_id')).map(
        (r: { advertiser_id: string; account_id: string }) => [r.advertiser_id, r.account_id],
      ),
    );
    const claimed = ids.filter((id) => owners.get(id) !== accountId);
    const added = ids.filter((id) => owners.get(id) === accountId && !before.has(id)).length;
    return { added, claimed };
  });
}

/**
 * Applies an account's selection to every advertiser it has: the ones it leaves out become
 * excluded with the reason; ones it takes back become active (an inaccessible one stays so).
 */
export async function applyAdvertiserSelection(
  db: Knex,
  accountId: string,
  selection: ProfileSelection,
): Promise<{ included: string[]; excluded: { advertiserId: string; reason: string }[] }> {
  const known: string[] = await db('dsp_advertisers').where({ account_id: accountId }).pluck('advertiser_id');
  const included: string[] = [];
  const excluded: { advertiserId: string; reason: string }[] = [];
  for (const id of known) {
    const s = dspAdvertiserSelected(selection, id);
    if (s.selected) included.push(id);
    else excluded.push({ advertiserId: id, reason: s.reason });
  }
  for (const e of excluded)
    await db('dsp_advertisers')
      .where({ advertiser_id: e.advertiserId, account_id: accountId })
      .whereNot({ status: 'inaccessible' })
      .update({ status: 'excluded', status_reason: `excluded by the selection: ${e.reason}`, updated_at: db.fn.now() });
  if (included.length)
    await db('dsp_advertisers')
      .whereIn('advertiser_id', included)
      .where({ account_id: accountId, status: 'excluded' })
      .update({ status: 'active', status_reason: null, updated_at: db.fn.now() });
  return { included, excluded };
}

/** An account's advertisers, newest discovery first within each status. */
export function advertisersOfAccount(db: Knex, accountId: string) {
  return db('dsp_advertisers').where({ account_id: accountId }).orderBy('advertiser_id');
}

/** The account's advertisers in use (active). */
export function activeAdvertiserIds(db: Knex, accountId: string): Promise<string[]> {
  return db('dsp_advertisers')
    .where({ account_id: accountId, status: 'active' })
    .orderBy('advertiser_id')
    .pluck('advertiser_id');
}

/** All the account's advertisers, whatever their state (what it may read). */
export function advertiserIdsOfAccount(db: Knex, accountId: string): Promise<string[]> {
  return db('dsp_advertisers').where({ account_id: accountId }).pluck('advertiser_id');
}

/**
 * The account's advertisers reached through these DSP profiles cannot be reached now (Amazon
 * refused the profile, or the profile is not active): recorded inaccessible with the reason,
 * and used again once a discovery lists them.
 */
export async function markAdvertisersInaccessibleVia(
  db: Knex,
  accountId: string,
  profileIds: string[],
  reason: (profileId: string) => string,
): Promise<number> {
  let marked = 0;
  for (const profileId of profileIds)
    marked += await db('dsp_advertisers')
      .where({ account_id: accountId, via_profile_id: profileId })
      .whereNot({ status: 'excluded' })
      .update({ status: 'inaccessible', status_reason: reason(profileId), updated_at: db.fn.now() });
  return marked;
}

/** Amazon refused this advertiser itself (its Amazon-Ads-AccountId): inaccessible with the reason until a discovery lists it. */
export async function markAdvertiserInaccessible(
  db: Knex,
  accountId: string,
  advertiserId: string,
  reason: string,
): Promise<void> {
  await db('dsp_advertisers')
    .where({ account_id: accountId, advertiser_id: advertiserId })
    .whereNot({ status: 'excluded' })
    .update({ status: 'inaccessible', status_reason: reason, updated_at: db.fn.now() });
}

/** The account's advertiser ids, as a subquery (`whereIn(column, …)`). */
export function advertiserIdsOfAccountQuery(db: Knex, accountId: string) {
  return db('dsp_advertisers').where({ account_id: accountId }).select('advertiser_id');
}

/** An active advertiser reached only by Amazon-Ads-AccountId: its reports are its own (one advertiser each). */
export interface AccountAdvertiser {
  advertiser_id: string;
  account_id: string;
  /** Its own time zone when Amazon gave one, else its marketplace's. */
  timezone: string;
  status: DspAdvertiserStatus;
  status_reason: string | null;
}

/**
 * The advertisers whose reports are asked with Amazon-Ads-AccountId: active, and reached by no
 * DSP profile (one a profile reaches is in that profile's reports). Of one account, some ids, or all.
 * `withInaccessible` adds the ones Amazon refused, for completeness to name.
 */
export async function accountAdvertisers(
  db: Knex,
  opts: { accountId?: string; advertiserIds?: string[]; withInaccessible?: boolean } = {},
): Promise<AccountAdvertiser[]> {
  let q = db('dsp_advertisers')
    .whereNull('via_profile_id')
    .whereIn('status', opts.withInaccessible ? ['active', 'inaccessible'] : ['active'])
    .orderBy('advertiser_id')
    .select('advertiser_id', 'account_id', 'timezone', 'marketplace_id', 'status', 'status_reason');
  if (opts.accountId) q = q.where({ account_id: opts.accountId });
  if (opts.advertiserIds) q = q.whereIn('advertiser_id', opts.advertiserIds);
  const rows: (AccountAdvertiser & { timezone: string | null; marketplace_id: string | null })[] = await q;
  return rows.map(({ marketplace_id, ...r }) => ({
    ...r,
    timezone: r.timezone || marketplaceTimeZone(marketplace_id),
  }));
}

/** An advertiser's currency, when Amazon gave one (GET /dsp/advertisers; a manager-linked one has none). */
export async function advertiserCurrency(db: Knex, advertiserId: string): Promise<string | null> {
  const row = await db('dsp_advertisers').where({ advertiser_id: advertiserId }).first('currency_code');
  return row?.currency_code ?? null;
}

/** The account that owns an advertiser, if it is recorded. */
export async function accountOfAdvertiser(db: Knex, advertiserId: string): Promise<string | undefined> {
  const row = await db('dsp_advertisers').where({ advertiser_id: advertiserId }).first('account_id');
  return row?.account_id;
}

/** The DSP profiles the account's advertisers are reached through. */
export function viaProfilesOfAccount(db: Knex, accountId: string): Promise<string[]> {
  return db('dsp_advertisers')
    .where({ account_id: accountId })
    .whereNotNull('via_profile_id')
    .distinct()
    .pluck('via_profile_id');
}

/**
 * Amazon's limit on the advertiserId values one DSP report may filter by under a profile's
 * scope (guides/reporting/dsp/creating-reports).
 */
export const ADVERTISERS_PER_REPORT = 100;

/**
 * The active advertisers each of these DSP profiles' reports are asked for, by profile: those
 * the profile's scope reaches (an advertiser reached only by Amazon-Ads-AccountId has none).
 */
export async function reportableAdvertisersByProfile(db: Knex, profileIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!profileIds.length) return out;
  const rows: { via_profile_id: string; advertiser_id: string }[] = await db('dsp_advertisers')
    .whereIn('via_profile_id', profileIds)
    .where({ status: 'active' })
    .orderBy(['via_profile_id', 'advertiser_id'])
    .select('via_profile_id', 'advertiser_id');
  for (const r of rows) out.set(r.via_profile_id, [...(out.get(r.via_profile_id) ?? []), r.advertiser_id]);
  return out;
}

/**
 * Every DSP advertiser with the profile its Marketing Stream records belong to (the DSP profile
 * that reaches it; '' for one reached only through a manager account, whose records are its own),
 * its currency and its time zone (null: Amazon has not said).
 */
export async function dspAdvertiserProfiles(
  db: Knex,
): Promise<Map<string, { profileId: string; currency: string | null; timezone: string | null }>> {
  const rows: {
    advertiser_id: string;
    via_profile_id: string | null;
    currency_code: string | null;
    timezone: string | null;
  }[] = await db('dsp_advertisers').select('advertiser_id', 'via_profile_id', 'currency_code', 'timezone');
  return new Map(
    rows.map((r) => [
      r.advertiser_id,
      { profileId: r.via_profile_id ?? '', currency: r.currency_code, timezone: r.timezone },
    ]),
  );
}

/**
 * Keeps the time zone Amazon states for an advertiser whose listing gave none (a manager-linked
 * one: its Marketing Stream records carry `advertiser_timezone`), so its days are its own rather
 * than its marketplace's. A zone already known is left alone; one Intl does not know is refused.
 */
export async function learnAdvertiserTimezone(db: Knex, advertiserId: string, timezone: string): Promise<boolean> {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return false;
  }
  const n = await db('dsp_advertisers')
    .where({ advertiser_id: advertiserId })
    .whereNull('timezone')
    .update({ timezone, updated_at: db.fn.now() });
  return n > 0;
}
