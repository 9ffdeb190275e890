/**
 * The module that owns `webhooks` and `webhook_deliveries`: the receivers an account
 * registers (a URL and a signing secret, sealed at rest), and a row for each receiver and
 * finished job, so nothing is lost while a receiver is down. deliveries.ts signs and posts
 * the due rows; how each post went is recorded here (delivery-rows.ts says in which columns).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { claim, type QueueSpec } from '@adsync/shared/runtime/work-queue';
import { attemptColumns, DELIVERY_QUEUE, type Attempt } from './delivery-rows.ts';

export const WEBHOOK_QUEUE: QueueSpec = {
  ...DELIVERY_QUEUE,
  table: 'webhook_deliveries',
  ageColumn: 'next_attempt_at',
};

/** Registers a receiver, its secret sealed with `box`. */
export async function createWebhook(
  db: Knex,
  box: SecretBox,
  w: { accountId: string; url: string; secret: string },
): Promise<{ id: string; url: string }> {
  const [row] = await db('webhooks')
    .insert({ account_id: w.accountId, url: w.url, secret_sealed: box.seal(w.secret) })
    .returning(['id', 'url']);
  return row;
}

/**
 * Receivers newest first, of one account or of all, without their secrets, each with how its
 * deliveries stand and the last error a post met: what an operator checks when a receiver is quiet.
 */
export function webhooksQuery(db: Knex, accountId?: string): Knex.QueryBuilder {
  const q = db('webhooks as w')
    .select(
      'w.id',
      'w.account_id',
      'w.url',
      'w.active',
      'w.created_at',
      db.raw('coalesce(d.pending, 0) as pending'),
      db.raw('coalesce(d.delivered, 0) as delivered'),
      db.raw('coalesce(d.failed, 0) as failed'),
      'd.last_error',
    )
    // One pass over a receiver's deliveries; the last error only of one not delivered (a
    // receiver that recovered shows none).
    .joinRaw(
      `left join lateral (
        select count(*) filter (where status = 'pending')::int as pending,
               count(*) filter (where status = 'delivered')::int as delivered,
               count(*) filter (where status = 'failed')::int as failed,
               (array_agg(last_error order by next_attempt_at desc)
                  filter (where status <> 'delivered' and last_error is not null))[1] as last_error
        from webhook_deliveries where webhook_id = w.id
      ) d on true`,
    )
    .orderBy([
      { column: 'w.created_at', order: 'desc' },
      { column: 'w.id', order: 'desc' },
    ]);
  if (accountId) q.where('w.account_id', accountId);
  return q;
}

/** Queues a job's payload for every active receiver of its account, once per receiver and job; how many receivers. */
export async function queueDeliveries(db: Knex, accountId: string, jobId: string, payload: unknown): Promise<number> {
  const hooks = await db('webhooks').where({ account_id: accountId, active: true }).select('id');
  if (hooks.length === 0) return 0;
  await db('webhook_deliveries')
    .insert(hooks.map((h: { id: string }) => ({ webhook_id: h.id, job_id: jobId, payload: JSON.stringify(payload) })))
    .onConflict(['webhook_id', 'job_id'])
    .ignore();
  return hooks.length;
}

export type DeliveryRow = { id: string; webhook_id: string; payload: unknown; attempts: number };

/** Claims up to `limit` due deliveries, leased for `leaseMs`. */
export const claimDueDeliveries = (db: Knex, limit: number, leaseMs: number): Promise<DeliveryRow[]> =>
  claim<DeliveryRow>(db, WEBHOOK_QUEUE, { limit, leaseMs });

/** These receivers, by id (a removed one is absent). */
export async function findWebhooks(
  db: Knex,
  ids: string[],
): Promise<Map<string, { id: string; url: string; secret_sealed: string }>> {
  const rows = await db('webhooks').whereIn('id', ids).select('id', 'url', 'secret_sealed');
  return new Map(rows.map((h: { id: string; url: string; secret_sealed: string }) => [h.id, h]));
}

/** Records how a post of a delivery went. */
export async function recordDeliveryAttempt(db: Knex, id: string, a: Attempt): Promise<void> {
  await db('webhook_deliveries')
    .where({ id })
    .update(attemptColumns(db, a, { status: 'delivered', column: 'delivered_at' }));
}
