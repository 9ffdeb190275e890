/**
 * A supplier worker: woken by job.created (and by a timer for retries and
 * reclaimed jobs), it claims jobs from Postgres highest priority first and runs
 * them, renewing its lease while it works. Several workers run in parallel; one
 * that dies leaves its job to be reclaimed when the lease runs out.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import type { ConsumerHandle } from '@adsync/shared/kafka/event-bus';
import { relayOutbox } from '@adsync/shared/db/outbox';
import type { BackoffPolicy } from '@adsync/shared/backoff';
import { startLoop, type Loop } from '@adsync/shared/runtime/loop';
import type { Knex } from '@adsync/shared/db/postgres';
import { earliestDue, nextDueIn } from '@adsync/shared/runtime/work-queue';
import { claimNext, completeJob, failJob, holdJobLease, JOB_QUEUE } from './job-queue.ts';
import { WEBHOOK_QUEUE } from './webhooks.ts';
import { MARKETPLACE_QUEUE } from './marketplaces.ts';
import { runJob, type RunDeps } from './run-job.ts';
import { deliverMarketplaceUpdates, deliverWebhooks, queueJobWebhooks, type Destinations } from './deliveries.ts';

export interface WorkerOptions extends Omit<RunDeps, 'heartbeat'> {
  bus: EventBus | null;
  /** Where webhooks and marketplace updates may be posted (deliveries.ts). */
  destinations: Destinations;
  leaseMs: number;
  tickMs: number;
  retryBackoff: BackoffPolicy;
  groupId?: string;
  workerId?: string;
}

export interface Worker {
  id: string;
  loop: Loop<number>;
  consumer: ConsumerHandle | null;
  /** Runs due jobs until none is left, then relays and delivers; resolves with the number of jobs run. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/** Claims and runs one due job; false when there is none. */
async function runOne(o: WorkerOptions, id: string, signal: AbortSignal, beat: () => void): Promise<boolean> {
  const job = await claimNext(o.db, id, o.leaseMs);
  if (!job) return false;
  const jlog = o.log.child({ workerId: id, jobId: job.id, jobType: job.job_type, attempt: job.attempt });
  if (job.attempt > job.max_attempts) {
    // Its workers kept dying before finishing (each claim counts an attempt): stop trying.
    await failJob(
      o.db,
      job,
      Object.assign(new Error(`its workers stopped ${job.attempt - 1} times before finishing`), { retriable: false }),
      o.retryBackoff,
    );
    jlog.error('job given up: its workers kept stopping');
    await queueJobWebhooks(o.db, job.id);
    return true;
  }
  const lease = holdJobLease(o.db, job, id, o.leaseMs);
  try {
    // Each heartbeat renews the lease and tells the loop the job is alive (readiness).
    const heartbeat = async () => {
      beat();
      await lease.renew();
    };
    const counts = await runJob({ ...o, log: jlog, heartbeat }, job);
    await completeJob(o.db, job, counts);
    jlog.info(counts, 'job completed');
  } catch (err) {
    if (signal.aborted) return false; // stopping: the lease runs out and another worker takes it
    const outcome = await failJob(o.db, job, err as Error, o.retryBackoff);
    jlog.warn(
      { err: (err as Error).message, outcome },
      outcome === 'retry' ? 'job failed; retry scheduled' : 'job failed for good',
    );
    if (outcome === 'retry') return true;
  } finally {
    lease.release();
  }
  await queueJobWebhooks(o.db, job.id);
  return true;
}

/** One worker tick: run due jobs until none is left, relay their events, deliver what is owed. Returns the jobs run. */
export async function workerTick(
  o: Omit<WorkerOptions, 'tickMs' | 'groupId'>,
  id: string,
  signal: AbortSignal,
  beat: () => void = () => undefined,
): Promise<number> {
  const log = o.log.child({ workerId: id });
  let n = 0;
  while (!signal.aborted && (await runOne(o as WorkerOptions, id, signal, beat))) {
    n++;
    beat();
  }
  if (o.bus) await relayOutbox(o.db, o.bus);
  await deliverWebhooks(o.db, o.box, log, o.destinations);
  await deliverMarketplaceUpdates(o.db, log, o.destinations);
  return n;
}

/** When a worker next has something to do: a job to run or retry, a webhook or marketplace update to send. */
export async function supplierWorkDueIn(db: Knex): Promise<number | null> {
  const [jobs, webhooks, marketplace] = await Promise.all([
    nextDueIn(db, JOB_QUEUE),
    nextDueIn(db, WEBHOOK_QUEUE),
    nextDueIn(db, MARKETPLACE_QUEUE),
  ]);
  return earliestDue(jobs, webhooks, marketplace);
}

export const newWorkerId = () => `worker-${randomUUID().slice(0, 8)}`;

/** A standalone worker (CLI and tests): its own loop, and a job.created consumer when given a bus. */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const id = o.workerId ?? newWorkerId();
  const log = o.log.child({ workerId: id });
  const loop = startLoop({
    name: `supplier-worker ${id}`,
    intervalMs: o.tickMs,
    log,
    tick: (signal) => workerTick(o, id, signal),
  });
  // job.created only wakes the loop: the queue in Postgres is the truth workers claim from.
  const consumer = o.bus
    ? await o.bus.consume({
        topic: 'job.created',
        groupId: o.groupId ?? 'adsync.supplier-sync.workers',
        fromBeginning: false,
        handle: async () => loop.wake(),
      })
    : null;
  return {
    id,
    loop,
    consumer,
    drain: () => loop.tickNow(),
    stop: async () => {
      await consumer?.stop();
      await loop.stop();
    },
  };
}
