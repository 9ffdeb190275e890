/**
 * The module that owns `sync_runs` and `sync_state`: every entity sync run (one per
 * profile and entity type, grouped in batches) and, per profile and entity type, the
 * watermark an incremental sync reads from.
 *
 * And `sync_batches`: every sync, whoever asks for it (the HTTP trigger, the CronJob, an
 * ingestion run), is recorded as a queued batch with its runs before any work starts (the
 * trigger answers with their ids); a partial unique index makes a second concurrent run of the
 * same profile and entity type impossible. The sync loop of any replica claims a batch with a
 * lease (the work-queue primitive) and renews it while the runs execute; a batch whose process
 * died is claimed again once its lease lapses and its unfinished runs run again, up to
 * MAX_SYNC_ATTEMPTS times.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import { claim, holdLease, runQueue, type HeldLease } from '@adsync/shared/runtime/work-queue';
import { activeProfileIds } from '@adsync/shared/accounts/profiles';
import type { EntityType } from '@adsync/shared/entities/entity-store';
import { AppError } from '@adsync/shared/runtime/errors';

export const DEFAULT_LEASE_MS = 60_000;
export const MAX_SYNC_ATTEMPTS = 3;

export type SyncMode = 'full' | 'incremental';
/** `auto`: full for an entity type the profile never synced successfully, incremental for the rest. */
export type PlanMode = SyncMode | 'auto';

export interface PlannedRun {
  id: string;
  entityType: EntityType;
  mode: SyncMode;
}

type LiveRun = { id: string; entity_type: string; status: string; batch_id: string; trigger: string };

export class SyncAlreadyRunningError extends AppError {
  readonly runs: LiveRun[];
  constructor(profileId: string, runs: LiveRun[]) {
    super(
      'ADSYNC_SYNC_RUNNING',
      `a sync of profile ${profileId} is already running for ${runs.map((r) => r.entity_type).join(', ')}`,
      { retriable: false, details: { running: runs } },
    );
    this.name = 'SyncAlreadyRunningError';
    this.runs = runs;
  }
}

/** Records a queued batch and its runs; refuses when any of the entity types already has one queued or running. */
export async function planSync(
  db: Knex,
  profileId: string,
  entityTypes: EntityType[],
  mode: PlanMode,
  trigger: string,
): Promise<{ batchId: string; runs: PlannedRun[] }> {
  const batchId = randomUUID();
  await reclaimAbandonedSyncRuns(db, profileId);
  // An incremental read of a type never synced would only look back 30 days: everything older would be missing.
  const synced = new Set<string>(
    mode === 'auto' ? await db('sync_state').where({ profile_id: profileId }).pluck('entity_type') : [],
  );
  const modeOf = (t: EntityType): SyncMode => (mode === 'auto' ? (synced.has(t) ? 'incremental' : 'full') : mode);
  try {
    const rows = await db.transaction(async (tx): Promise<{ id: string; entity_type: string; mode: string }[]> => {
      await tx('sync_batches').insert({ id: batchId, profile_id: profileId, trigger });
      return await tx('sync_runs')
        .insert(
          entityTypes.map((entity_type) => ({
            batch_id: batchId,
            profile_id: profileId,
            entity_type,
            mode: modeOf(entity_type),
            trigger,
            status: 'queued',
            // The batch holds its runs; replicas from before batches existed read an endless
            // lease and leave them alone (their reclaim fails runs whose lease lapsed).
            lease_until: 'infinity',
          })),
        )
        .returning(['id', 'entity_type', 'mode']);
    });
    return { batchId, runs: rows.map(plannedRun) };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      const running = await db('sync_runs')
        .where({ profile_id: profileId })
        .whereIn('status', ['queued', 'running'])
        .whereIn('entity_type', entityTypes)
        .select('id', 'entity_type', 'status', 'batch_id', 'trigger');
      throw new SyncAlreadyRunningError(profileId, running);
    }
    throw err;
  }
}

const plannedRun = (r: { id: string; entity_type: string; mode: string }): PlannedRun => ({
  id: r.id,
  entityType: r.entity_type as EntityType,
  mode: r.mode as SyncMode,
});

/** The queue the sync loop claims batches from: queued ones, and ones whose process stopped renewing the lease. */
export const SYNC_QUEUE = runQueue('sync_batches');

export interface SyncBatch {
  id: string;
  profile_id: string;
  trigger: string;
  attempt: number;
}

/** Claims the oldest due batch (of these ids only, when given). */
export async function claimBatch(
  db: Knex,
  o: { owner: string; leaseMs: number; batchIds?: string[] },
): Promise<SyncBatch | undefined> {
  const [batch] = await claim<SyncBatch>(db, SYNC_QUEUE, {
    limit: 1,
    leaseMs: o.leaseMs,
    owner: o.owner,
    where: o.batchIds ? { sql: 'id = any(:ids::uuid[])', bindings: { ids: o.batchIds } } : undefined,
  });
  return batch;
}

/** Keeps a claimed batch leased while its runs execute (only while this owner still holds it). */
export function holdBatchLease(
  db: Knex,
  batchId: string,
  o: { owner: string; leaseMs: number; onLost: () => void },
): HeldLease {
  return holdLease(db, {
    table: 'sync_batches',
    ids: [batchId],
    leaseMs: o.leaseMs,
    owner: { column: 'owner', value: o.owner },
    onLost: o.onLost,
  });
}

/**
 * The runs of a claimed batch still to do: queued ones, and ones a stopped process left running
 * (taken up again from their watermark: every write is an upsert).
 */
export async function unfinishedRuns(db: Knex, batchId: string): Promise<PlannedRun[]> {
  const rows = await db('sync_runs')
    .where({ batch_id: batchId })
    .whereIn('status', ['queued', 'running'])
    .orderBy('created_at')
    .select('id', 'entity_type', 'mode');
  return rows.map(plannedRun);
}

/** The batch ended (its runs say how); only while this owner still holds it: a replica that took it over decides. */
export async function finishBatch(db: Knex, batchId: string, owner: string): Promise<void> {
  await db('sync_batches')
    .where({ id: batchId, owner, status: 'running' })
    .update({ status: 'done', finished_at: db.fn.now(), lease_until: null });
}

/** A batch (and its runs still to do) back to the queue, this attempt not counted: a shutdown, not a failure. */
export async function handBack(db: Knex, batchId: string, owner: string): Promise<void> {
  await db.transaction(async (tx) => {
    const n = await tx('sync_batches')
      .where({ id: batchId, owner, status: 'running' })
      .update({ status: 'queued', owner: null, lease_until: null, attempt: tx.raw('greatest(attempt - 1, 0)') });
    if (n) await tx('sync_runs').where({ batch_id: batchId, status: 'running' }).update({ status: 'queued' });
  });
}

/** Ends a batch that will not run (further): its unfinished runs take `runs` with the reason. */
async function endUnfinished(
  db: Knex,
  batchId: string,
  o: { runs: 'skipped' | 'failed'; batch: 'done' | 'failed'; reason: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx('sync_runs')
      .where({ batch_id: batchId })
      .whereIn('status', ['queued', 'running'])
      .update({ status: o.runs, finished_at: tx.fn.now(), error: JSON.stringify({ message: o.reason }) });
    await tx('sync_batches')
      .where({ id: batchId })
      .update({ status: o.batch, error: o.reason, finished_at: tx.fn.now(), lease_until: null });
  });
}

/** A batch whose profile may not be synced any more (excluded, or gone): its runs skipped with the reason. */
export const skipBatch = (db: Knex, batchId: string, reason: string) =>
  endUnfinished(db, batchId, { runs: 'skipped', batch: 'done', reason });

/** A batch whose processes kept stopping: failed, with its unfinished runs, so neither stays queued. */
export const giveUpBatch = (db: Knex, batchId: string, reason: string) =>
  endUnfinished(db, batchId, { runs: 'failed', batch: 'failed', reason });

/** Statuses of these batches (done, failed, or still queued/running). */
export async function batchStatuses(db: Knex, batchIds: string[]): Promise<Map<string, string>> {
  if (batchIds.length === 0) return new Map();
  const rows: { id: string; status: string }[] = await db('sync_batches')
    .whereIn('id', batchIds)
    .select('id', 'status');
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** The batch a trigger already has queued or running for a profile (an ingestion run taken up again adopts it). */
export async function liveBatchOf(db: Knex, profileId: string, trigger: string): Promise<string | undefined> {
  const b = await db('sync_batches')
    .where({ profile_id: profileId, trigger })
    .whereIn('status', ['queued', 'running'])
    .first('id');
  return b?.id;
}

/** Every run of these batches, for a summary. */
export function runsOfBatches(db: Knex, batchIds: string[]) {
  return db('sync_runs').whereIn('batch_id', batchIds).orderBy('created_at');
}

/** The newest change already synced for a profile's entity type (null before its first success). */
export async function watermarkOf(db: Knex, profileId: string, entityType: EntityType): Promise<Date | null> {
  const state = await db('sync_state')
    .where({ profile_id: profileId, entity_type: entityType })
    .first('high_watermark');
  return state?.high_watermark ? new Date(state.high_watermark) : null;
}

export async function markRunning(db: Knex, runId: string, since: Date | null): Promise<void> {
  await db('sync_runs').where({ id: runId }).update({ status: 'running', started_at: db.fn.now(), since });
}

interface RunCounts {
  fetched: number;
  upserted: number;
  requestIds: string[];
}

/** A run succeeded: its counts and the profile's new watermark, together. */
export async function markSucceeded(
  db: Knex,
  run: { id: string; profileId: string; entityType: EntityType; watermark: Date | null },
  c: RunCounts,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx('sync_state')
      .insert({
        profile_id: run.profileId,
        entity_type: run.entityType,
        high_watermark: run.watermark,
        last_success_at: tx.fn.now(),
        last_run_id: run.id,
      })
      .onConflict(['profile_id', 'entity_type'])
      .merge();
    await tx('sync_runs').where({ id: run.id }).update({
      status: 'succeeded',
      finished_at: tx.fn.now(),
      fetched: c.fetched,
      upserted: c.upserted,
      amazon_request_ids: c.requestIds,
    });
  });
}

export async function markFailed(db: Knex, runId: string, error: Record<string, unknown>, c: RunCounts): Promise<void> {
  await db('sync_runs').where({ id: runId }).update({
    status: 'failed',
    finished_at: db.fn.now(),
    fetched: c.fetched,
    upserted: c.upserted,
    error,
    amazon_request_ids: c.requestIds,
  });
}

/** A batch's runs in the order they were recorded. */
export function runsOfBatch(db: Knex, batchId: string) {
  return db('sync_runs').where({ batch_id: batchId }).orderBy('created_at');
}

/**
 * Fails runs no process will finish, for one profile or all, so none stays "running" and
 * blocks the next sync: runs of a batch that ended, and runs from before batches were queued
 * whose lease lapsed. A live batch's runs are its claimer's.
 */
/** Whether any sync run is queued or running (the abandoned-run sweep has nothing to look at otherwise). */
export async function syncRunsInFlight(db: Knex): Promise<boolean> {
  return Boolean(await db('sync_runs').whereIn('status', ['queued', 'running']).first(db.raw('1 as one')));
}

export async function reclaimAbandonedSyncRuns(db: Knex, profileId?: string): Promise<number> {
  let q = db('sync_runs')
    .whereIn('status', ['queued', 'running'])
    .whereNotExists(
      db('sync_batches as b').whereRaw('b.id = sync_runs.batch_id').whereIn('b.status', ['queued', 'running']),
    )
    .where((w) =>
      w
        .whereNull('lease_until')
        .orWhere('lease_until', '<', db.fn.now())
        .orWhereExists(db('sync_batches as e').whereRaw('e.id = sync_runs.batch_id')),
    );
  if (profileId) q = q.where({ profile_id: profileId });
  return q.update({
    status: 'failed',
    finished_at: db.fn.now(),
    error: db.raw(
      `jsonb_build_object('message', 'abandoned: the process running it stopped renewing its lease' ||
         coalesce(' (it lapsed at ' || to_char(lease_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')', ''))`,
    ),
  });
}

/**
 * Active profiles whose entity sync failed in the last day with no success since: what
 * the "profile failing for a day" alert watches (a count, so no profile id is a label).
 */
export async function profilesFailingForADay(db: Knex): Promise<number> {
  const [r] = await db('sync_runs as f')
    .where('f.status', 'failed')
    .whereRaw(`f.finished_at > now() - interval '1 day'`)
    .whereIn('f.profile_id', activeProfileIds(db))
    .whereNotExists(
      db('sync_runs as s')
        .whereRaw('s.profile_id = f.profile_id')
        .where('s.status', 'succeeded')
        .whereRaw(`s.finished_at > now() - interval '1 day'`),
    )
    .countDistinct<{ n: string }[]>('f.profile_id as n');
  return Number(r!.n);
}
