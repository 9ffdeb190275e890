/**
 * The one Postgres work-queue primitive, over the domain tables themselves
 * (pending_amazon_reports, amc_executions, import_jobs, webhook_deliveries,
 * marketplace_outbound, event_outbox stay readable as documented).
 *
 * A claim is one short statement: pick the due rows in order, skipping rows
 * another claimer holds (FOR UPDATE SKIP LOCKED), and mark them claimed with a
 * lease in the same statement — so replicas never take the same row, and a row
 * whose claimer died is due again when its lease runs out. The work itself (an
 * Amazon call, a webhook) runs after the claim committed: no network call is ever
 * made inside a transaction. Finishing, retrying with backoff and giving up with a
 * recorded reason are the owning module's statements, helped by `nextAttempt`.
 *
 * Considered instead: graphile-worker and pg-boss (the ideas here are theirs:
 * SKIP LOCKED claims, leases, capped attempts, the last error kept). Both keep jobs
 * in their own tables; our queues are the domain rows users query, so the
 * primitive works on those instead of mirroring them.
 */
import type { Knex } from 'knex';
import { backoffDelay, type BackoffPolicy } from '../backoff.ts';

export interface QueueSpec {
  /** The table the queue lives in. */
  table: string;
  /** Rows that may be claimed now (due, or whose lease ran out): SQL over the table's columns. */
  claimable: string;
  /** Claim order, e.g. "next_poll_at" or "priority desc, created_at". */
  order: string;
  /** Assignments a claim makes; `:lease` is the lease in milliseconds, `:owner` who claims. */
  claim: string;
  /** For queue metrics: rows waiting to be worked, and the column their age is measured from. */
  waiting: string;
  ageColumn: string;
  /**
   * When work is next due, so a loop sleeps until then instead of polling: `rows` are those that
   * are or will become claimable, `at` (SQL over a row) when each does.
   */
  due?: { rows: string; at: string };
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * A queue of long runs (ingestion runs, sync batches): `queued` rows, and `running` ones whose
 * claimer stopped renewing the lease; a claim makes it this owner's next attempt.
 */
export function runQueue(table: string): QueueSpec {
  return {
    table,
    claimable: `status = 'queued' or (status = 'running' and (lease_until is null or lease_until < now()))`,
    order: 'created_at',
    claim: `status = 'running', owner = :owner, attempt = t.attempt + 1, lease_until = now() + (:lease * interval '1 millisecond'), started_at = coalesce(t.started_at, now()), finished_at = null`,
    waiting: `status in ('queued', 'running')`,
    ageColumn: 'created_at',
    due: {
      rows: `status in ('queued', 'running')`,
      at: `case when status = 'queued' then now() else coalesce(lease_until, now()) end`,
    },
  };
}

export interface ClaimOptions {
  limit: number;
  leaseMs: number;
  owner?: string;
  /** A further condition, with named bindings (e.g. one instance's rows). */
  where?: { sql: string; bindings: Record<string, unknown> };
}

/** Claims up to `limit` due rows and returns them (every column), oldest first by the queue's order. */
export async function claim<T = Record<string, unknown>>(
  db: Knex | Knex.Transaction,
  q: QueueSpec,
  o: ClaimOptions,
): Promise<T[]> {
  if (!IDENT.test(q.table)) throw new Error(`unsafe table name ${q.table}`);
  const res = await db.raw(
    `with next as (
       select id from ${q.table}
        where (${q.claimable})${o.where ? ` and (${o.where.sql})` : ''}
        order by ${q.order}
        limit :limit
        for update skip locked
     )
     update ${q.table} t set ${q.claim}
       from next where t.id = next.id
     returning t.*`,
    { ...o.where?.bindings, limit: o.limit, lease: o.leaseMs, owner: o.owner ?? null },
  );
  return res.rows as T[];
}

/** How deep a queue is and how long its oldest waiting row has waited, for metrics and status. */
export async function queueDepth(db: Knex, q: QueueSpec): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const res = await db.raw(
    `select count(*)::int as depth, coalesce(extract(epoch from now() - min(${q.ageColumn})), 0)::float as oldest from ${q.table} where ${q.waiting}`,
  );
  const row = res.rows[0] as { depth: number; oldest: number };
  return { depth: row.depth, oldestAgeSeconds: row.oldest };
}

/**
 * In how many milliseconds the queue's next row becomes claimable (0: one is now), or null when
 * none waits. One indexed aggregate, asked after a tick rather than every second.
 */
export async function nextDueIn(
  db: Knex | Knex.Transaction,
  q: QueueSpec,
  where?: { sql: string; bindings: Record<string, unknown> },
): Promise<number | null> {
  if (!q.due) throw new Error(`queue ${q.table} does not say when its work is due`);
  if (!IDENT.test(q.table)) throw new Error(`unsafe table name ${q.table}`);
  const res = await db.raw(
    `select extract(epoch from min(${q.due.at}) - now()) * 1000 as ms from ${q.table}
      where (${q.due.rows})${where ? ` and (${where.sql})` : ''}`,
    where?.bindings ?? {},
  );
  const ms = (res.rows[0] as { ms: string | number | null }).ms;
  return ms === null ? null : Math.max(0, Number(ms));
}

/** The earliest of several due times (null: nothing due in any). */
export function earliestDue(...dues: (number | null)[]): number | null {
  const known = dues.filter((d): d is number => d !== null);
  return known.length ? Math.min(...known) : null;
}

/** After a failed attempt: when to try again, or that the attempts are used up. Pure. */
export function nextAttempt(
  attempt: number,
  maxAttempts: number,
  backoff: BackoffPolicy,
  retriable = true,
): { retryInMs: number } | { giveUp: true } {
  if (!retriable || attempt >= maxAttempts) return { giveUp: true };
  // Deterministic (no jitter): a queue row's next time is visible in the table and tests can assert it.
  return { retryInMs: backoffDelay(attempt, backoff, () => 1) };
}

export interface HeldLease {
  /** Renews now; resolves with how many rows this holder still held. */
  renew(): Promise<number>;
  /** Stops renewing (the rows' own status says whether the work finished). */
  release(): void;
}

/**
 * Keeps claimed rows leased while their work runs: renews `lease_until` every third
 * of the lease. With `owner`, only rows that owner still holds are renewed — a row
 * another process reclaimed after a pause is not taken back. `onLost` is told when
 * a renewal finds none of the rows held any more.
 */
export function holdLease(
  db: Knex,
  o: {
    table: string;
    ids: (string | number)[];
    leaseMs: number;
    owner?: { column: string; value: string };
    onLost?: () => void;
  },
): HeldLease {
  if (!IDENT.test(o.table)) throw new Error(`unsafe table name ${o.table}`);
  const renew = async () => {
    let q = db(o.table).whereIn('id', o.ids);
    if (o.owner) q = q.where(o.owner.column, o.owner.value);
    const n = await q.update({ lease_until: db.raw(`now() + (? * interval '1 millisecond')`, [o.leaseMs]) });
    if (n === 0) o.onLost?.();
    return n;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(100, Math.floor(o.leaseMs / 3)));
  timer.unref();
  return { renew, release: () => clearInterval(timer) };
}
