// entity-sync: accounts, credentials, profiles and entity syncs (HTTP), and the
// entities' recent metrics, refreshed when a report is loaded.
import { runService } from '@adsync/shared/runtime/service';
import { entitySyncConfigShape } from './config.ts';
import { registerApi, registerIngestionApi } from './api.ts';
import { failAbandonedRuns } from './sync-runner.ts';
import { refreshRecentMetrics } from './recent-metrics.ts';

await runService({
  name: 'entity-sync',
  config: entitySyncConfigShape,
  needs: { clickhouse: true, kafka: true, amazon: true },
  listen: (cfg) => ({ host: cfg.ENTITY_SYNC_HOST, port: cfg.ENTITY_SYNC_PORT }),
  start: async (rt, app) => {
    const abandoned = await failAbandonedRuns(rt.db, 120);
    if (abandoned) rt.log.warn({ abandoned }, 'failed sync runs left behind by a stopped process');
    const deps = {
      db: rt.db,
      ch: rt.ch,
      box: rt.box,
      clients: rt.clients,
      log: rt.log,
      batchSize: rt.cfg.ENTITY_SYNC_BATCH_SIZE,
      exportPollMs: rt.cfg.ENTITY_SYNC_EXPORT_POLL_MS,
      amazonBaseUrl: rt.cfg.AMAZON_ADS_BASE_URL,
      background: rt.background,
    };
    registerApi(app, deps);
    registerIngestionApi(app, deps);
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.entity-sync.recent-metrics',
      handle: async (e) => void (await refreshRecentMetrics(rt, e.value, new Date())),
    });
  },
});
