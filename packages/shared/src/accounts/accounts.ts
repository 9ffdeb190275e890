/**
 * The module that owns `accounts`: the clients an agency connects. An account holds its
 * profile selection (which of its profiles adsync syncs); its credentials live with the
 * Amazon clients (account-clients.ts) and its profiles in profiles.ts.
 */
import type { Knex } from '../db/postgres.ts';
import type { ProfileSelection } from './profile-selection.ts';

export interface AccountRow {
  id: string;
  company_name: string;
  primary_contact_email: string | null;
  status: string;
}

export async function createAccount(
  db: Knex,
  a: { company_name: string; primary_contact_email: string | null },
): Promise<AccountRow> {
  const [row] = await db('accounts').insert(a).returning(['id', 'company_name', 'primary_contact_email', 'status']);
  return row as AccountRow;
}

/** Accounts in creation order, as a query to page through; one account's only when given. */
export function accountsQuery(db: Knex, onlyId?: string) {
  const q = db('accounts')
    .select('id', 'company_name', 'primary_contact_email', 'status', 'created_at')
    .orderBy(['created_at', 'id']);
  return onlyId ? q.where({ id: onlyId }) : q;
}

export async function findAccount(db: Knex, accountId: string): Promise<AccountRow | undefined> {
  return db('accounts').where({ id: accountId }).first('id', 'company_name', 'primary_contact_email', 'status');
}

/**
 * Ids of active accounts (one, when given), limited to those in `among` (a subquery of
 * account ids from another table's owner, e.g. the accounts with credentials).
 */
export async function activeAccountIds(
  db: Knex,
  opts: { accountId?: string | null; among?: Knex.QueryBuilder } = {},
): Promise<string[]> {
  let q = db('accounts').where({ status: 'active' }).orderBy('id');
  if (opts.accountId) q = q.where({ id: opts.accountId });
  if (opts.among) q = q.whereIn('id', opts.among);
  return q.pluck('id');
}

export async function getProfileSelection(db: Knex, accountId: string): Promise<ProfileSelection> {
  const row = await db('accounts').where({ id: accountId }).first('profile_selection');
  return (row?.profile_selection ?? {}) as ProfileSelection;
}

export async function setProfileSelection(db: Knex, accountId: string, s: ProfileSelection): Promise<void> {
  await db('accounts')
    .where({ id: accountId })
    .update({ profile_selection: JSON.stringify(s), updated_at: db.fn.now() });
}
