/**
 * For tests and benchmarks that drive supplier jobs directly, without the API or the worker
 * loop: a BigBuy supplier with its API key sealed, and one job run start to finish.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { runJob, type RunDeps } from './run-job.ts';
import { claimNext, completeJob, createJob } from './job-queue.ts';
import { createSupplier } from './suppliers.ts';

export async function addBigBuySupplier(
  db: Knex,
  box: SecretBox,
  name: string,
  apiKey: string,
): Promise<{ accountId: string; supplierId: string }> {
  const [{ id: accountId }] = await db('accounts').insert({ company_name: name }).returning('id');
  const { id: supplierId } = await createSupplier(db, box, {
    accountId,
    kind: 'bigbuy',
    name,
    credentials: { apiKey },
  });
  return { accountId, supplierId };
}

/** Queues a job, claims it, runs it and completes it, as the worker would; its counts. */
export async function runJobNow(
  deps: RunDeps,
  ids: { accountId: string; supplierId: string },
  jobType: 'supplier_api' | 'price_update' | 'inventory_update',
): Promise<Record<string, number>> {
  await createJob(deps.db, { ...ids, jobType });
  const job = (await claimNext(deps.db, 'direct-run', 600_000))!;
  const counts = await runJob(deps, job);
  await completeJob(deps.db, job, counts);
  return counts;
}
