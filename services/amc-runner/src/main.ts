// amc-runner: AMC executions of saved workflows (HTTP) and the background tick that carries them to completion.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { loadAmcConfig } from './config.ts';
import { registerAmcApi } from './api.ts';
import { amcTick } from './executions.ts';

const cfg = loadAmcConfig();
const log = createLogger({ name: 'amc-runner', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-amc-runner' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-amc-runner', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
await migratePostgres(db);
await migrateClickHouse(ch);
const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
const deps = { db, ch, clients, log, defaultWindowDays: cfg.AMC_DEFAULT_WINDOW_DAYS };
const app = await createHttpServer({ name: 'amc-runner', log, db, readiness: { postgres: () => postgresReady(db), clickhouse: () => clickhouseReady(ch) } });
registerAmcApi(app, deps);
await app.listen({ host: cfg.AMC_RUNNER_HOST, port: cfg.AMC_RUNNER_PORT });

let ticking: Promise<unknown> = Promise.resolve();
const shutdown = onShutdown(log, async (signal) => {
  log.info({ signal }, 'shutting down: finishing the current tick');
  await app.close();
  await ticking;
  await clients.close();
  await ch.close();
  await db.destroy();
});
const loop = () => {
  if (shutdown.stopping()) return;
  ticking = amcTick(deps, { maxPolls: 50, minSpacingMs: cfg.AMC_POLL_MIN_SPACING_MS })
    .catch((err) => log.error({ err }, 'AMC tick failed'))
    .finally(() => setTimeout(loop, cfg.AMC_POLL_INTERVAL_MS).unref());
};
loop();
