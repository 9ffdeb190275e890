/**
 * What a webhook delivery (webhooks.ts) and a marketplace update (marketplaces.ts) share:
 * a row to post once, claimed with a lease when due, and after each post delivered, due
 * again later or failed for good, the attempts counted and the last error kept. Their
 * owners' queues and statements are built from these; deliveries.ts decides each outcome.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { QueueSpec } from '@adsync/shared/runtime/work-queue';

/** A delivery table's queue, but for its table and the column its rows' age is measured from. */
export const DELIVERY_QUEUE: Omit<QueueSpec, 'table' | 'ageColumn'> = {
  claimable: `status = 'pending' and next_attempt_at <= now()`,
  order: 'id',
  claim: `next_attempt_at = now() + (:lease * interval '1 millisecond')`,
  waiting: `status = 'pending'`,
  due: { rows: `status = 'pending'`, at: 'next_attempt_at' },
};

/** What one post came to: sent; or not, and then due again at `retryAt`, or (without it) failed for good. */
export type Attempt = { attempts: number } & ({ sent: true } | { sent: false; error: string; retryAt?: Date });

/** The row's new columns after an attempt; `sent` is how the table marks a row sent, and when. */
export function attemptColumns(
  db: Knex,
  a: Attempt,
  sent: { status: string; column: string },
): Record<string, unknown> {
  if (a.sent) return { status: sent.status, attempts: a.attempts, [sent.column]: db.fn.now(), last_error: null };
  if (a.retryAt) return { status: 'pending', attempts: a.attempts, last_error: a.error, next_attempt_at: a.retryAt };
  return { status: 'failed', attempts: a.attempts, last_error: a.error };
}
