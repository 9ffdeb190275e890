/**
 * The module that owns `import_jobs`: the supplier job queue, which is also the jobs'
 * record that the API lists and the metrics count. Creating a job records it and its
 * job.created event in one transaction (outbox). Workers claim the highest-priority due
 * job with a lease (the work-queue primitive); a job whose worker died is claimable
 * again when its lease runs out. Failures retry with exponential backoff up to
 * max_attempts; the last error is kept. Finished jobs are kept a week.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import { enqueue } from '@adsync/shared/db/outbox';
import type { BackoffPolicy } from '@adsync/shared/backoff';
import {
  claim,
  holdLease,
  nextAttempt,
  queueDepth,
  type HeldLease,
  type QueueSpec,
} from '@adsync/shared/runtime/work-queue';
import type { JobType } from './job-changes.ts';

export const PRIORITY = { scheduled: 0, manual: 10 } as const;

export interface JobRow {
  id: string;
  account_id: string;
  supplier_id: string;
  job_type: JobType;
  status: string;
  priority: number;
  attempt: number;
  max_attempts: number;
}

export async function createJob(
  db: Knex,
  j: {
    accountId: string;
    supplierId: string;
    jobType: JobType;
    priority?: number;
    trigger?: string;
    maxAttempts?: number;
  },
): Promise<JobRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx('import_jobs')
      .insert({
        account_id: j.accountId,
        supplier_id: j.supplierId,
        job_type: j.jobType,
        priority: j.priority ?? PRIORITY.manual,
        trigger: j.trigger ?? 'manual',
        max_attempts: j.maxAttempts ?? 5,
      })
      .returning('*');
    await enqueue(tx, 'job.created', row.id, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      jobId: row.id,
      userId: j.accountId,
      supplierId: j.supplierId,
      jobType: j.jobType,
      priority: row.priority,
      attempt: 0,
    });
    return row as JobRow;
  });
}

export const JOB_QUEUE: QueueSpec = {
  table: 'import_jobs',
  claimable: `(status = 'pending' and run_after <= now()) or (status = 'running' and lease_until < now())`,
  order: 'priority desc, created_at',
  claim: `status = 'running', worker_id = :owner, attempt = t.attempt + 1, lease_until = now() + (:lease * interval '1 millisecond'), started_at = coalesce(t.started_at, now())`,
  waiting: `status in ('pending', 'running')`,
  ageColumn: 'created_at',
  due: {
    rows: `status in ('pending', 'running')`,
    at: `case when status = 'pending' then run_after else coalesce(lease_until, now()) end`,
  },
};

/** Claims the highest-priority due job (oldest first among equals), or one whose worker stopped renewing its lease. */
export async function claimNext(db: Knex, workerId: string, leaseMs: number): Promise<JobRow | null> {
  const [job] = await claim<JobRow>(db, JOB_QUEUE, { limit: 1, leaseMs, owner: workerId });
  return job ?? null;
}

/** Keeps a claimed job leased to its worker while it runs; a job another worker reclaimed is not taken back. */
export const holdJobLease = (db: Knex, job: JobRow, workerId: string, leaseMs: number): HeldLease =>
  holdLease(db, { table: 'import_jobs', ids: [job.id], leaseMs, owner: { column: 'worker_id', value: workerId } });

export async function completeJob(db: Knex, job: JobRow, counts: Record<string, number>): Promise<void> {
  await db('import_jobs')
    .where({ id: job.id })
    .update({
      status: 'completed',
      counts: JSON.stringify(counts),
      finished_at: db.fn.now(),
      lease_until: null,
      error: null,
    });
}

/** Records a failure; schedules a retry with backoff unless attempts are used up (or the error can never succeed). */
export async function failJob(
  db: Knex,
  job: JobRow,
  err: Error & { retriable?: boolean },
  backoff: BackoffPolicy,
): Promise<'retry' | 'failed'> {
  const entry = { attempt: job.attempt, at: new Date().toISOString(), message: err.message };
  const next = nextAttempt(job.attempt, job.max_attempts, backoff, err.retriable !== false);
  const retry = 'retryInMs' in next;
  await db.transaction(async (tx) => {
    await tx('import_jobs')
      .where({ id: job.id })
      .update({
        status: retry ? 'pending' : 'failed',
        error: retry ? err.message : `gave up after ${job.attempt} attempt(s): ${err.message}`,
        errors: tx.raw(`errors || ?::jsonb`, [JSON.stringify([entry])]),
        run_after: retry ? new Date(Date.now() + next.retryInMs) : tx.fn.now(),
        lease_until: null,
        worker_id: null,
        finished_at: retry ? null : tx.fn.now(),
      });
    if (retry)
      await enqueue(tx, 'job.created', job.id, {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        jobId: job.id,
        userId: job.account_id,
        supplierId: job.supplier_id,
        jobType: job.job_type,
        priority: job.priority,
        attempt: job.attempt,
      });
  });
  return retry ? 'retry' : 'failed';
}

export const jobQueueDepth = (db: Knex) => queueDepth(db, JOB_QUEUE);

export async function findJob(db: Knex, id: string) {
  return db('import_jobs').where({ id }).first();
}

/** Jobs newest first, of one status and one account when given: a query to page through. */
export function jobsNewestFirst(db: Knex, filter: { status?: string; accountId?: string }): Knex.QueryBuilder {
  let q = db('import_jobs').orderBy([
    { column: 'created_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ]);
  if (filter.status) q = q.where({ status: filter.status });
  if (filter.accountId) q = q.where({ account_id: filter.accountId });
  return q;
}

/** How many of these jobs are still to run or running. */
export async function countUnfinishedJobs(db: Knex, ids: string[]): Promise<number> {
  const [row] = await db('import_jobs')
    .whereIn('id', ids)
    .whereIn('status', ['pending', 'running'])
    .count<{ c: string }[]>('* as c');
  return Number(row!.c);
}

/** Those of these jobs that failed for good. */
export async function findFailedJobs(
  db: Knex,
  ids: string[],
): Promise<{ id: string; job_type: JobType; error: string | null }[]> {
  return db('import_jobs').whereIn('id', ids).where({ status: 'failed' }).select('id', 'job_type', 'error');
}

/** Deletes jobs that finished more than a week ago; how many. */
export async function pruneFinishedJobs(db: Knex): Promise<number> {
  return db('import_jobs')
    .whereIn('status', ['completed', 'failed'])
    .where('finished_at', '<', db.raw(`now() - interval '7 days'`))
    .delete();
}

/** The seed's 7-day statistics: per job type, count, successes, failures, success rate, durations. */
export async function jobStatistics(db: Knex, accountId?: string) {
  let q = db('import_jobs').where('created_at', '>=', db.raw(`now() - interval '7 days'`));
  if (accountId) q = q.where({ account_id: accountId });
  return q
    .groupBy('job_type')
    .orderBy('job_type')
    .select(
      'job_type',
      db.raw('count(*)::int as total'),
      db.raw(`count(*) filter (where status = 'completed')::int as completed`),
      db.raw(`count(*) filter (where status = 'failed')::int as failed`),
      db.raw(`count(*) filter (where status in ('pending', 'running'))::int as in_progress`),
      db.raw(
        `round(100.0 * count(*) filter (where status = 'completed') / nullif(count(*) filter (where status in ('completed', 'failed')), 0), 1)::float as success_rate_pct`,
      ),
      db.raw(
        `round(avg(extract(epoch from finished_at - started_at)) filter (where status = 'completed')::numeric, 2)::float as avg_duration_s`,
      ),
      db.raw(
        `round((percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at)) filter (where status = 'completed'))::numeric, 2)::float as p95_duration_s`,
      ),
    );
}
