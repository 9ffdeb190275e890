/**
 * entity-sync's work loops. Each sleeps until a run or batch is queued on any replica (NOTIFY from
 * its table), or until another process's lease on one runs out; none asks Postgres on a clock.
 */
import type { Loop } from '@adsync/shared/runtime/loop';
import type { RuntimeLoopOptions } from '@adsync/shared/runtime/service';
import { nextDueIn } from '@adsync/shared/runtime/work-queue';
import { ingestionTick, INGESTION_QUEUE, type IngestionDeps } from './ingestion.ts';
import { runDueSyncs, type SyncLoopDeps } from './sync-profiles.ts';
import { reclaimAbandonedSyncRuns, SYNC_QUEUE, syncRunsInFlight } from './sync-runs.ts';

export function startWorkLoops(
  loop: <R>(o: RuntimeLoopOptions<R>) => Loop<R>,
  deps: IngestionDeps & SyncLoopDeps & { owner: string; leaseMs: number },
): { ingestion: Loop; syncs: Loop } {
  const ingestion = loop({
    name: 'ingestion',
    tick: ingestionTick(deps),
    wakeOn: ['ingestion_runs'],
    due: () => nextDueIn(deps.db, INGESTION_QUEUE),
  });
  // Every entity sync is a queued batch: this loop (on any replica) claims and runs them.
  const syncs = loop({
    name: 'entity syncs',
    tick: (s, b) => runDueSyncs(deps, s, b),
    wakeOn: ['sync_batches'],
    due: () => nextDueIn(deps.db, SYNC_QUEUE),
  });
  // Runs outside a live batch whose process died are failed as abandoned, so none stays "running":
  // looked for every lease while any run is in flight, and not at all while none is.
  loop({
    name: 'abandoned sync runs',
    tick: () => reclaimAbandonedSyncRuns(deps.db),
    wakeOn: ['sync_batches'],
    due: async () => ((await syncRunsInFlight(deps.db)) ? deps.leaseMs : null),
  });
  return { ingestion, syncs };
}
