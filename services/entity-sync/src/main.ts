// entity-sync HTTP service: accounts, credentials, profiles, entity-sync triggers.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { loadEntitySyncConfig } from './config.ts';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { registerApi, registerIngestionApi } from './api.ts';
import { failAbandonedRuns } from './sync-runner.ts';

const cfg = loadEntitySyncConfig();
const log = createLogger({ name: 'entity-sync', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-entity-sync' });
await migratePostgres(db);
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-entity-sync', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
await migrateClickHouse(ch);
if (cfg.ADMIN_API_KEY) await ensureAdminKey(db, cfg.ADMIN_API_KEY);
const abandoned = await failAbandonedRuns(db, 120);
if (abandoned) log.warn({ abandoned }, 'failed sync runs left behind by a stopped process');
const box = secretBoxFromEnv(cfg);
const clients = new AmazonClients({ db, box, log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
const inflight = new Set<Promise<unknown>>();
const app = await createHttpServer({ name: 'entity-sync', log, db, readiness: { postgres: () => postgresReady(db), clickhouse: () => clickhouseReady(ch) } });
const apiDeps = { db, ch, box, clients, log, batchSize: cfg.ENTITY_SYNC_BATCH_SIZE, exportPollMs: cfg.ENTITY_SYNC_EXPORT_POLL_MS, amazonBaseUrl: cfg.AMAZON_ADS_BASE_URL, inflight };
registerApi(app, apiDeps);
registerIngestionApi(app, apiDeps);
await app.listen({ host: cfg.ENTITY_SYNC_HOST, port: cfg.ENTITY_SYNC_PORT });

onShutdown(log, async (signal) => {
  log.info({ signal, inflight: inflight.size }, 'shutting down: no new requests, finishing running syncs');
  await app.close();
  await Promise.allSettled([...inflight]);
  await clients.close();
  await ch.close();
  await db.destroy();
});
