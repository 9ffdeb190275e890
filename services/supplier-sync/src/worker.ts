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
import { claimNext, completeJob, extendLease, failJob, reclaimExpired } from './job-queue.ts';
import { runJob, type RunDeps } from './run-job.ts';
import { deliverMarketplaceUpdates, deliverWebhooks, queueJobWebhooks } from './deliveries.ts';

export interface WorkerOptions extends Omit<RunDeps, 'heartbeat'> {
  bus: EventBus | null;
  leaseMs: number;
  tickMs: number;
  retryBackoff: BackoffPolicy;
  groupId?: string;
  workerId?: string;
}

export interface Worker {
  id: string;
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const id = o.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
  const log = o.log.child({ workerId: id });
  let stopped = false;
  let draining: Promise<number> | null = null;

  const runOne = async (): Promise<boolean> => {
    const job = await claimNext(o.db, id, o.leaseMs);
    if (!job) return false;
    const jlog = log.child({ jobId: job.id, jobType: job.job_type, attempt: job.attempt });
    const renew = setInterval(() => void extendLease(o.db, job.id, id, o.leaseMs).catch(() => undefined), Math.max(500, o.leaseMs / 3));
    try {
      const counts = await runJob({ ...o, log: jlog, heartbeat: async () => void (await extendLease(o.db, job.id, id, o.leaseMs)) }, job);
      await completeJob(o.db, job, counts);
      jlog.info(counts, 'job completed');
    } catch (err) {
      const outcome = await failJob(o.db, job, err as Error, o.retryBackoff);
      jlog.warn({ err: (err as Error).message, outcome }, outcome === 'retry' ? 'job failed; retry scheduled' : 'job failed for good');
      if (outcome === 'retry') {
        clearInterval(renew);
        return true;
      }
    } finally {
      clearInterval(renew);
    }
    await queueJobWebhooks(o.db, job.id);
    return true;
  };

  const drain = (): Promise<number> => {
    if (draining) return draining;
    draining = (async () => {
      let n = 0;
      try {
        await reclaimExpired(o.db);
        while (!stopped && (await runOne())) n++;
        if (o.bus) await relayOutbox(o.db, o.bus);
        await deliverWebhooks(o.db, o.box, log);
        await deliverMarketplaceUpdates(o.db, log);
      } finally {
        draining = null;
      }
      return n;
    })();
    return draining;
  };

  let consumer: ConsumerHandle | null = null;
  if (o.bus) {
    consumer = await o.bus.consume({ topic: 'job.created', groupId: o.groupId ?? 'adsync.supplier-sync.workers', fromBeginning: false, handle: async () => void drain().catch((err) => log.error({ err }, 'drain failed')) });
  }
  const timer = setInterval(() => void drain().catch((err) => log.error({ err }, 'drain failed')), o.tickMs);
  return {
    id,
    drain,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await consumer?.stop();
      await draining?.catch(() => undefined);
    },
  };
}
