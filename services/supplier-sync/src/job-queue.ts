/**
 * The job queue in Postgres. Creating a job records it and its job.created event in
 * one transaction (outbox). Workers claim the highest-priority due job with a
 * lease; a job whose worker died is reclaimed when its lease runs out. Failures
 * retry with exponential backoff up to max_attempts.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import { enqueue } from '@adsync/shared/db/outbox';
import { backoffDelay, type BackoffPolicy } from '@adsync/shared/backoff';
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

export async function createJob(db: Knex, j: { accountId: string; supplierId: string; jobType: JobType; priority?: number; trigger?: string; maxAttempts?: number }): Promise<JobRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx('import_jobs')
      .insert({ account_id: j.accountId, supplier_id: j.supplierId, job_type: j.jobType, priority: j.priority ?? PRIORITY.manual, trigger: j.trigger ?? 'manual', max_attempts: j.maxAttempts ?? 5 })
      .returning('*');
    await enqueue(tx, 'job.created', row.id, { eventId: randomUUID(), occurredAt: new Date().toISOString(), jobId: row.id, userId: j.accountId, supplierId: j.supplierId, jobType: j.jobType, priority: row.priority, attempt: 0 });
    return row as JobRow;
  });
}

/** Claims the highest-priority due job (oldest first among equals), or null. */
export async function claimNext(db: Knex, workerId: string, leaseMs: number): Promise<JobRow | null> {
  const res = await db.raw(
    `update import_jobs j set status = 'running', worker_id = ?, attempt = j.attempt + 1, lease_until = now() + (? * interval '1 millisecond'),
            started_at = coalesce(j.started_at, now())
      where j.id = (select id from import_jobs where status = 'pending' and run_after <= now() order by priority desc, created_at limit 1 for update skip locked)
      returning j.*`,
    [workerId, leaseMs],
  );
  return (res.rows[0] as JobRow | undefined) ?? null;
}

export async function extendLease(db: Knex, jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
  const n = await db('import_jobs').where({ id: jobId, worker_id: workerId, status: 'running' }).update({ lease_until: db.raw(`now() + (? * interval '1 millisecond')`, [leaseMs]) });
  return n > 0;
}

export async function completeJob(db: Knex, job: JobRow, counts: Record<string, number>): Promise<void> {
  await db('import_jobs').where({ id: job.id }).update({ status: 'completed', counts: JSON.stringify(counts), finished_at: db.fn.now(), lease_until: null, error: null });
}

/** Records a failure; schedules a retry with backoff unless attempts are used up (or the error can never succeed). */
export async function failJob(db: Knex, job: JobRow, err: Error & { retriable?: boolean }, backoff: BackoffPolicy): Promise<'retry' | 'failed'> {
  const entry = { attempt: job.attempt, at: new Date().toISOString(), message: err.message };
  const retry = err.retriable !== false && job.attempt < job.max_attempts;
  await db.transaction(async (tx) => {
    await tx('import_jobs').where({ id: job.id }).update({
      status: retry ? 'pending' : 'failed',
      error: err.message,
      errors: tx.raw(`errors || ?::jsonb`, [JSON.stringify([entry])]),
      run_after: retry ? new Date(Date.now() + backoffDelay(job.attempt, backoff, () => 1)) : tx.fn.now(),
      lease_until: null,
      worker_id: null,
      finished_at: retry ? null : tx.fn.now(),
    });
    if (retry) await enqueue(tx, 'job.created', job.id, { eventId: randomUUID(), occurredAt: new Date().toISOString(), jobId: job.id, userId: job.account_id, supplierId: job.supplier_id, jobType: job.job_type, priority: job.priority, attempt: job.attempt });
  });
  return retry ? 'retry' : 'failed';
}

/** Jobs whose worker stopped renewing the lease go back to pending (their attempt counted). */
export async function reclaimExpired(db: Knex): Promise<number> {
  return db('import_jobs').where({ status: 'running' }).where('lease_until', '<', db.fn.now())
    .update({ status: 'pending', worker_id: null, lease_until: null, error: 'worker stopped before finishing; retried', run_after: db.fn.now() });
}
