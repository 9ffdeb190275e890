// entity-sync: accounts, credentials, consent, profiles and entity syncs (HTTP), the ingestion runs they queue, recent metrics.
import { runService } from '@adsync/shared/runtime/service';
import { beforeScrape, metrics } from '@adsync/shared/runtime/metrics';
import { attributionOptionsOf, entitySyncConfigShape } from './config.ts';
import { registerApi, registerIngestionApi } from './api.ts';
import { profilesFailingForADay, SYNC_QUEUE } from './sync-runs.ts';
import { INGESTION_QUEUE } from './ingestion.ts';
import { startWorkLoops } from './work-loops.ts';
import { recentMetricsHandler } from './recent-metrics.ts';
import { registerConnectApi, lwaAppFrom } from './connect-api.ts';

await runService({
  name: 'entity-sync',
  config: entitySyncConfigShape,
  needs: { clickhouse: true, kafka: true, amazon: true },
  queues: { ingestion_runs: INGESTION_QUEUE, sync_batches: SYNC_QUEUE },
  listen: (cfg) => ({ host: cfg.ENTITY_SYNC_HOST, port: cfg.ENTITY_SYNC_PORT }),
  start: async (rt, app) => {
    const deps = {
      db: rt.db,
      ch: rt.ch,
      box: rt.box,
      clients: rt.clients,
      log: rt.log,
      batchSize: rt.cfg.ENTITY_SYNC_BATCH_SIZE,
      exportPollMs: rt.cfg.ENTITY_SYNC_EXPORT_POLL_MS,
      amazonBaseUrl: rt.cfg.AMAZON_ADS_BASE_URL,
      leaseMs: rt.cfg.ENTITY_SYNC_LEASE_MS,
      concurrency: rt.cfg.ENTITY_SYNC_PROFILE_CONCURRENCY,
      owner: `entity-sync-${process.pid}-${Date.now().toString(36)}`,
      attribution: attributionOptionsOf(rt.cfg),
    };
    const { ingestion, syncs } = startWorkLoops((o) => rt.loop(o), deps);
    beforeScrape(async () => metrics.profilesFailing.set(await profilesFailingForADay(rt.db)));
    const api = { ...deps, wakeSyncs: () => syncs.wake(), wakeIngestion: () => ingestion.wake() };
    registerApi(app, api);
    registerConnectApi(app, { ...api, lwa: lwaAppFrom(rt.cfg), consoleUrl: rt.cfg.CONSOLE_URL });
    registerIngestionApi(app, api);
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.entity-sync.recent-metrics',
      handleBatch: recentMetricsHandler(rt),
    });
  },
});
