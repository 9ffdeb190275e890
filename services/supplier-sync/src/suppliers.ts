/**
 * The module that owns `suppliers`: the supplier accounts (BigBuy, AliExpress) an account
 * imports from, with their API credentials sealed at rest. The API registers them, a cycle
 * queues jobs for the active ones, and a job reads its supplier to call it.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';

export interface SupplierRow {
  id: string;
  account_id: string;
  kind: string;
  name: string;
  credentials_sealed: string;
  active: boolean;
}

/** Registers a supplier, its credentials sealed with `box`. */
export async function createSupplier(
  db: Knex,
  box: SecretBox,
  s: { accountId: string; kind: string; name: string; credentials: Record<string, unknown> },
): Promise<Pick<SupplierRow, 'id' | 'kind' | 'name' | 'active'>> {
  const [row] = await db('suppliers')
    .insert({
      account_id: s.accountId,
      kind: s.kind,
      name: s.name,
      credentials_sealed: box.seal(JSON.stringify(s.credentials)),
    })
    .returning(['id', 'kind', 'name', 'active']);
  return row;
}

export async function findSupplier(db: Knex, id: string): Promise<SupplierRow | undefined> {
  return db('suppliers').where({ id }).first();
}

/** Suppliers newest first, of one account or of all, without their credentials. */
export function suppliersQuery(db: Knex, accountId?: string): Knex.QueryBuilder {
  const q = db('suppliers')
    .select('id', 'account_id', 'kind', 'name', 'active', 'created_at')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
  if (accountId) q.where({ account_id: accountId });
  return q;
}

/** The active suppliers of one account, or of every account. */
export async function activeSuppliers(db: Knex, accountId?: string): Promise<{ id: string; account_id: string }[]> {
  let q = db('suppliers').where({ active: true }).select('id', 'account_id');
  if (accountId) q = q.where({ account_id: accountId });
  return q;
}

/** Which of `ids` are suppliers of this account. */
export async function suppliersOfAccountAmong(db: Knex, accountId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  return db('suppliers').whereIn('id', ids).where({ account_id: accountId }).pluck('id');
}
