/**
 * The module that owns `import_jobs`: the supplier job queue. Creating a job records
 * it and its job.created event in one transaction (outbox). Workers claim the
 * highest-priority due job with a lease (the work-queue primitive); a job whose
 * worker died is claimable again when its lease runs out. Failures retry with
 * exponential backoff up to max_attempts; the last error is kept.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import { enqueue } from '@adsync/shared/db/outbox';
import type { BackoffPolicy } from '@adsync/shared/backoff';
import { claim, nextAttempt, queueDepth, type QueueSpec } from '@adsync/shared/runtime/work-queue';
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
};

/** Claims the highest-priority due job (oldest first among equals), or one whose worker stopped renewing its lease. */
export async function claimNext(db: Knex, workerId: string, leaseMs: number): Promise<JobRow | null> {
  const [job] = await claim<JobRow>(db, JOB_QUEUE, { limit: 1, leaseMs, owner: workerId });
  return job ?? null;
}

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
