// entity-sync: accounts, credentials, consent, profiles and entity syncs (HTTP), the ingestion runs they queue, recent metrics.
import { runService } from '@adsync/shared/runtime/service';
import { beforeScrape, metrics } from '@adsync/shared/runtime/metrics';
import { entitySyncConfigShape } from './config.ts';
import { registerApi, registerIngestionApi } from './api.ts';
import { reclaimAbandonedSyncRuns, profilesFailingForADay } from './sync-runner.ts';
import { ingestionTick, INGESTION_QUEUE } from './ingestion.ts';
import { refreshRecentMetrics } from './recent-metrics.ts';
import { registerConnectApi, lwaAppFrom } from './connect-api.ts';

await runService({
  name: 'entity-sync',
  config: entitySyncConfigShape,
  needs: { clickhouse: true, kafka: true, amazon: true },
  queues: { ingestion_runs: INGESTION_QUEUE },
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
      profileConcurrency: rt.cfg.ENTITY_SYNC_PROFILE_CONCURRENCY,
      background: rt.background,
    };
    const tick = ingestionTick({ ...deps, owner: `entity-sync-${process.pid}-${Date.now().toString(36)}` });
    const ingestion = rt.loop({ name: 'ingestion', intervalMs: rt.cfg.INGESTION_POLL_MS, tick });
    // Runs whose process died (their lease lapsed) are failed as abandoned, so none stays "running".
    rt.loop({
      name: 'abandoned sync runs',
      intervalMs: rt.cfg.ENTITY_SYNC_LEASE_MS,
      tick: () => reclaimAbandonedSyncRuns(rt.db),
    });
    beforeScrape(async () => metrics.profilesFailing.set(await profilesFailingForADay(rt.db)));
    registerApi(app, deps);
    registerConnectApi(app, { ...deps, lwa: lwaAppFrom(rt.cfg) });
    registerIngestionApi(app, { ...deps, wakeIngestion: () => ingestion.wake() });
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.entity-sync.recent-metrics',
      handle: async (e) => void (await refreshRecentMetrics(rt, e.value, new Date())),
    });
  },
});
