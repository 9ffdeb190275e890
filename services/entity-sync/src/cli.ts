// CronJob entry: queues an entity sync batch per profile, runs them through the sync queue (any
// entity-sync replica may take some) and exits non-zero if any run failed or a profile was skipped.
//   node services/entity-sync/src/cli.ts [--profile ID] [--entity all|campaigns|ad_groups|ads|targets] [--mode full|incremental]
// Without --profile it syncs every active profile.
import { parseArgs } from 'node:util';
import { runTask } from '@adsync/shared/runtime/service';
import { entitySyncConfigShape } from './config.ts';
import { syncProfiles } from './sync-profiles.ts';

const { values } = parseArgs({
  options: {
    profile: { type: 'string' },
    entity: { type: 'string', default: 'all' },
    mode: { type: 'string', default: 'incremental' },
  },
});

await runTask({
  name: 'entity-sync-cli',
  config: entitySyncConfigShape,
  needs: { clickhouse: true, amazon: true },
  run: async (rt) => {
    const summary = await syncProfiles(
      {
        db: rt.db,
        ch: rt.ch,
        clients: rt.clients,
        log: rt.log,
        batchSize: rt.cfg.ENTITY_SYNC_BATCH_SIZE,
        concurrency: rt.cfg.ENTITY_SYNC_PROFILE_CONCURRENCY,
        exportPollMs: rt.cfg.ENTITY_SYNC_EXPORT_POLL_MS,
        leaseMs: rt.cfg.ENTITY_SYNC_LEASE_MS,
        owner: `entity-sync-cli-${process.pid}-${Date.now().toString(36)}`,
      },
      {
        profileId: values.profile,
        entity: values.entity ?? 'all',
        mode: values.mode ?? 'incremental',
        trigger: 'cli',
      },
    );
    console.log(JSON.stringify(summary, null, 2));
    // A profile skipped because another sync holds it is not synced by this run: say so in the exit code too.
    return summary.failed > 0 || summary.skipped > 0 ? 1 : 0;
  },
});
