/**
 * The one way an entity sync runs: its batch is recorded queued (sync-runs.ts, planSync) and a
 * sync loop claims and executes it (runDueSyncs). The service's loop drains the queue for the
 * HTTP trigger; the CronJob and an ingestion run enqueue their batches, drain those themselves
 * (another replica's loop may take some) and wait until every one has ended (syncProfiles).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { activeProfiles, findProfile, sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { ENTITY_TYPES, type EntityType } from '@adsync/shared/entities/entity-store';
import { executeSync, type RunOutcome } from './sync-runner.ts';
import {
  batchStatuses,
  claimBatch,
  DEFAULT_LEASE_MS,
  finishBatch,
  giveUpBatch,
  handBack,
  holdBatchLease,
  skipBatch,
  liveBatchOf,
  MAX_SYNC_ATTEMPTS,
  planSync,
  runsOfBatches,
  SyncAlreadyRunningError,
  unfinishedRuns,
  type PlanMode,
  type SyncBatch,
} from './sync-runs.ts';
import { AppError, InterruptedError } from '@adsync/shared/runtime/errors';

/** A CronJob argument or sync request naming what cannot be synced. */
export class InputError extends AppError {
  constructor(message: string) {
    super('ADSYNC_BAD_REQUEST', message, { retriable: false });
    this.name = 'InputError';
  }
}

export interface SyncLoopDeps {
  db: Knex;
  ch?: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  batchSize: number;
  /** Batches (profiles) executed at once by this process. */
  concurrency: number;
  exportPollMs?: number;
  /** How long a claimed batch stays claimed without a renewal. */
  leaseMs?: number;
  /** Who claims (one name per process); a fresh one when not given. */
  owner?: string;
  signal?: AbortSignal;
}

/**
 * The sync loop's tick: claims due batches (queued, or left by a process that stopped renewing
 * the lease; of these ids only, when given) and runs each to its end, `concurrency` at a time.
 * Returns how many ran.
 */
export async function runDueSyncs(
  deps: SyncLoopDeps,
  signal?: AbortSignal,
  beat: () => void = () => undefined,
  only?: string[],
): Promise<number> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const owner = deps.owner ?? `entity-sync-${process.pid}-${randomUUID().slice(0, 8)}`;
  let ran = 0;
  const worker = async () => {
    while (!signal?.aborted) {
      const batch = await claimBatch(deps.db, { owner, leaseMs, batchIds: only });
      if (!batch) return;
      await runBatch({ ...deps, signal }, batch, owner, leaseMs, beat);
      beat();
      ran++;
    }
  };
  // Every worker settles before a failure (Postgres gone) is reported: none keeps writing after.
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return ran;
}

async function runBatch(
  deps: SyncLoopDeps,
  batch: SyncBatch,
  owner: string,
  leaseMs: number,
  beat: () => void,
): Promise<void> {
  const log = deps.log.child({ batchId: batch.id, profileId: batch.profile_id, attempt: batch.attempt });
  if (batch.attempt > MAX_SYNC_ATTEMPTS) {
    await giveUpBatch(
      deps.db,
      batch.id,
      `abandoned: the processes running it stopped ${batch.attempt - 1} times before it finished`,
    );
    log.error('sync batch given up: its processes kept stopping');
    return;
  }
  if (batch.attempt > 1) log.warn('taking up a sync batch its previous process left unfinished');
  // Excluded (or removed) while its batch waited: nothing may call Amazon for it now.
  const profile = await findProfile(deps.db, batch.profile_id);
  if (!profile || profile.status === 'excluded') {
    const why = profile ? "excluded by its account's profile selection" : 'gone';
    await skipBatch(deps.db, batch.id, `profile ${batch.profile_id} is ${why}`);
    log.info('sync batch skipped: its profile may not be synced any more');
    return;
  }
  // A lost lease stops the batch at its next page: another replica has it now.
  const lost = new AbortController();
  const stop = deps.signal ? AbortSignal.any([deps.signal, lost.signal]) : lost.signal;
  const lease = holdBatchLease(deps.db, batch.id, {
    owner,
    leaseMs,
    onLost: () => {
      log.warn('the sync batch was taken over by another process');
      lost.abort();
    },
  });
  // A full sync of a large profile runs for minutes: the loop stays alive meanwhile (readiness).
  const beating = setInterval(beat, 1_000);
  try {
    await executeSync({ ...deps, signal: stop }, batch.profile_id, await unfinishedRuns(deps.db, batch.id));
    await finishBatch(deps.db, batch.id, owner);
  } catch (err) {
    if (lost.signal.aborted) return;
    if (deps.signal?.aborted) {
      await handBack(deps.db, batch.id, owner);
      log.info('sync batch handed back to the queue: the service is shutting down');
      return;
    }
    // Our own database is down: nothing to record it in. The lease lapses and the batch is taken up again.
    throw err;
  } finally {
    clearInterval(beating);
    lease.release();
  }
}

export interface SyncSummary {
  profiles: number;
  succeeded: number;
  failed: number;
  skipped: number;
  fetched: number;
  upserted: number;
  runs: (RunOutcome & { profileId: string })[];
  skippedProfiles: { profileId: string; reason: string }[];
}

/**
 * Syncs one or every active profile to completion: a queued batch per profile, drained here
 * (and by any replica's loop), then waited for. With `adopt`, a batch this trigger already has
 * for a profile (an ingestion run taken up again) is seen through instead of refused.
 */
export async function syncProfiles(
  deps: SyncLoopDeps & { beat?: () => void },
  opts: { profileId?: string; accountId?: string; entity: string; mode: string; trigger: string; adopt?: boolean },
): Promise<SyncSummary> {
  if (opts.entity !== 'all' && !ENTITY_TYPES.includes(opts.entity as EntityType))
    throw new InputError(`entity must be one of all, ${ENTITY_TYPES.join(', ')} (got ${opts.entity})`);
  if (opts.mode !== 'full' && opts.mode !== 'incremental' && opts.mode !== 'auto')
    throw new InputError(`mode must be full, incremental or auto (got ${opts.mode})`);
  const entityTypes = opts.entity === 'all' ? ENTITY_TYPES : [opts.entity as EntityType];
  let profiles: string[];
  if (opts.profileId) {
    const p = await findProfile(deps.db, opts.profileId);
    if (!p || (opts.accountId && p.account_id !== opts.accountId))
      throw new InputError(`unknown profile ${opts.profileId}`);
    if (p.status === 'excluded')
      throw new InputError(`profile ${opts.profileId} is excluded by its account's profile selection`);
    if (!sponsoredAdsProfile(p))
      throw new InputError(
        `profile ${opts.profileId} is a DSP or Amazon Attribution (agency) profile: it has no sponsored-ads entities; its DSP advertisers' entities sync with POST /v1/accounts/${p.account_id}/dsp-entities/sync`,
      );
    profiles = [p.profile_id];
  } else
    profiles = (await activeProfiles(deps.db, { accountId: opts.accountId }))
      .filter(sponsoredAdsProfile)
      .map((p) => p.profile_id);
  const skippedProfiles: SyncSummary['skippedProfiles'] = [];
  const batches: string[] = [];
  for (const p of profiles) {
    try {
      batches.push((await planSync(deps.db, p, entityTypes, opts.mode as PlanMode, opts.trigger)).batchId);
    } catch (err) {
      if (!(err instanceof SyncAlreadyRunningError)) throw err;
      const mine = opts.adopt ? await liveBatchOf(deps.db, p, opts.trigger) : undefined;
      if (mine) batches.push(mine);
      else skippedProfiles.push({ profileId: p, reason: err.message });
    }
  }
  await runDueSyncs(deps, deps.signal, deps.beat, batches);
  // Batches another replica claimed end there: wait for them.
  for (;;) {
    if (deps.signal?.aborted) throw new InterruptedError('interrupted: the service is shutting down');
    const statuses = await batchStatuses(deps.db, batches);
    if (batches.every((b) => ['done', 'failed'].includes(statuses.get(b) ?? 'done'))) break;
    deps.beat?.();
    await new Promise((r) => setTimeout(r, 250));
  }
  const runs: {
    id: string;
    profile_id: string;
    entity_type: EntityType;
    status: string;
    fetched: number;
    upserted: number;
    error: Record<string, unknown> | null;
  }[] = await runsOfBatches(deps.db, batches);
  const summary: SyncSummary = {
    profiles: profiles.length,
    succeeded: 0,
    failed: 0,
    skipped: skippedProfiles.length,
    fetched: 0,
    upserted: 0,
    runs: [],
    skippedProfiles,
  };
  for (const r of runs) {
    const status = r.status === 'succeeded' ? 'succeeded' : 'failed';
    summary.runs.push({
      id: r.id,
      profileId: r.profile_id,
      entityType: r.entity_type,
      status,
      fetched: Number(r.fetched ?? 0),
      upserted: Number(r.upserted ?? 0),
      ...(r.error ? { error: r.error } : {}),
    });
    summary[status]++;
    summary.fetched += Number(r.fetched ?? 0);
    summary.upserted += Number(r.upserted ?? 0);
  }
  return summary;
}
