/**
 * The module that owns `amc_instances`: the AMC instances registered to each account, with
 * the advertiser and marketplace every AMC call names. An instance's account decides who may
 * act on it and on everything saved or run there, so the other AMC tables are scoped to an
 * account through the subquery this module builds (instanceIdsOfAccount).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmcInstance } from '@adsync/shared/amazon/amc';
import { PermanentError } from '@adsync/shared/runtime/errors';

export type Instance = AmcInstance & { account_id: string };

/**
 * Registers an instance for an account, or changes its advertiser and marketplace. Only the
 * account that registered an instance may change it: null when another account holds the id.
 */
export async function registerInstance(
  db: Knex,
  r: { accountId: string; instanceId: string; advertiserId: string; marketplaceId: string },
): Promise<{ created: boolean } | null> {
  const rows = await db('amc_instances')
    .insert({
      account_id: r.accountId,
      instance_id: r.instanceId,
      advertiser_id: r.advertiserId,
      marketplace_id: r.marketplaceId,
    })
    .onConflict('instance_id')
    .merge({ advertiser_id: r.advertiserId, marketplace_id: r.marketplaceId })
    .where('amc_instances.account_id', r.accountId)
    .returning(['instance_id', db.raw('(xmax = 0) as created')]);
  return rows.length === 0 ? null : { created: rows[0].created };
}

/** Instances newest first, of one account or of all. */
export function instancesQuery(db: Knex, accountId?: string): Knex.QueryBuilder {
  const q = db('amc_instances')
    .select('instance_id', 'account_id', 'advertiser_id', 'marketplace_id', 'created_at')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'instance_id', order: 'asc' },
    ]);
  if (accountId) q.where({ account_id: accountId });
  return q;
}

export async function findInstance(db: Knex, instanceId: string): Promise<Instance | undefined> {
  return db('amc_instances').where({ instance_id: instanceId }).first();
}

/** The instance an execution, workflow or schedule names (always a registered one). */
export async function registeredInstance(db: Knex, instanceId: string): Promise<Instance> {
  const i = await findInstance(db, instanceId);
  if (!i) throw new PermanentError(`AMC instance ${instanceId} is not registered`, { code: 'ADSYNC_UNKNOWN_INSTANCE' });
  return i;
}

/** The ids of an account's instances: a subquery to scope another table by (`.whereIn('instance_id', …)`). */
export const instanceIdsOfAccount = (db: Knex, accountId: string) =>
  db('amc_instances').where({ account_id: accountId }).select('instance_id');

/** The instances whose ids a subquery selects (e.g. the instances with saved workflows). */
export async function instancesAmong(db: Knex, instanceIds: Knex.QueryBuilder): Promise<Instance[]> {
  return db('amc_instances').whereIn('instance_id', instanceIds);
}

/** The account of the instance a subquery selects (e.g. an execution's), or null when it selects none. */
export async function accountOfInstanceIn(db: Knex, instanceIds: Knex.QueryBuilder): Promise<string | null> {
  const i = await db('amc_instances').whereIn('instance_id', instanceIds).first('account_id');
  return i?.account_id ?? null;
}
