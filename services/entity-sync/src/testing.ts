/** For tests that start entity-sync's API in-process: the sync loop the service would run beside it. */
import { startLoop } from '@adsync/shared/runtime/loop';
import { runDueSyncs, type SyncLoopDeps } from './sync-profiles.ts';

export function testSyncLoop(deps: Omit<SyncLoopDeps, 'concurrency' | 'owner'> & { concurrency?: number }) {
  const loop = startLoop({
    name: 'entity syncs',
    intervalMs: 200,
    log: deps.log,
    tick: (signal, beat) => runDueSyncs({ concurrency: 2, owner: 'entity-sync-test', ...deps }, signal, beat),
  });
  return { wakeSyncs: () => loop.wake(), stop: () => loop.stop() };
}
