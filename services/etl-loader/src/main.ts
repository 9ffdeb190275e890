// etl-loader: report.ready → download + parse → rows.parsed → ClickHouse; report.loaded when a report is in.
import { runService } from '@adsync/shared/runtime/service';
import { etlLoaderConfigShape } from './config.ts';
import { startLoader } from './loader.ts';
import { pruneRecent } from '@adsync/shared/reports/ads-metrics';
import { registerDeadLetterApi } from './dead-letter-api.ts';

await runService({
  name: 'etl-loader',
  config: etlLoaderConfigShape,
  needs: { clickhouse: true, kafka: true, amazon: true },
  listen: (cfg) => ({ host: cfg.ETL_LOADER_HOST, port: cfg.ETL_LOADER_PORT }),
  start: async (rt, app) => {
    await startLoader({
      db: rt.db,
      ch: rt.ch,
      bus: rt.bus,
      clients: rt.clients,
      log: rt.log,
      consume: rt.consume,
      consumeDeadLetters: rt.consumeDeadLetters,
      rowsPerEvent: rt.cfg.ETL_ROWS_PER_EVENT,
      loadBatchMessages: rt.cfg.ETL_LOAD_BATCH_MESSAGES,
      downloadConcurrency: rt.cfg.ETL_DOWNLOAD_CONCURRENCY,
    });
    registerDeadLetterApi(app, { db: rt.db, ch: rt.ch, bus: rt.bus });
    rt.loop({ name: 'prune-recent', intervalMs: 3_600_000, tick: () => pruneRecent(rt.ch, new Date()) });
  },
});
