// supplier-sync: the jobs API, the workers that consume job.created, deliveries and maintenance.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { loadSupplierConfig, realBaseUrl } from './config.ts';
import { startWorker } from './worker.ts';
import { registerSupplierApi } from './api.ts';
import { DEFAULT_HTTP_POLICY } from './connectors/http.ts';

const cfg = loadSupplierConfig();
const log = createLogger({ name: 'supplier-sync', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-supplier-sync' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-supplier-sync', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
await migratePostgres(db);
await migrateClickHouse(ch);
const box = secretBoxFromEnv(cfg);
const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-supplier-sync', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, topicPrefix: cfg.KAFKA_TOPIC_PREFIX });
await bus.ensureTopics();
const base = (kind: string) => realBaseUrl(kind, kind === 'bigbuy' ? cfg.BIGBUY_BASE_URL : cfg.ALIEXPRESS_BASE_URL);
const workers = await Promise.all(Array.from({ length: cfg.SUPPLIER_WORKERS }, (_, i) => startWorker({
  db, ch, box, log, bus: i === 0 ? bus : null, supplierBaseUrl: base, policy: DEFAULT_HTTP_POLICY, leaseMs: cfg.SUPPLIER_LEASE_MS, tickMs: cfg.SUPPLIER_TICK_MS,
  retryBackoff: { baseMs: 5_000, maxMs: 600_000 }, groupId: `${cfg.KAFKA_TOPIC_PREFIX}adsync.supplier-sync.workers`,
})));
const app = await createHttpServer({ name: 'supplier-sync', log, db, readiness: { postgres: () => postgresReady(db), clickhouse: () => clickhouseReady(ch) } });
registerSupplierApi(app, { db, box, bus, maxAttempts: cfg.SUPPLIER_JOB_MAX_ATTEMPTS });
await app.listen({ host: cfg.SUPPLIER_SYNC_HOST, port: cfg.SUPPLIER_SYNC_PORT });

onShutdown(log, async (signal) => {
  log.info({ signal }, 'shutting down: finishing running jobs (unfinished ones are reclaimed by lease)');
  await app.close();
  await Promise.all(workers.map((w) => w.stop()));
  await bus.close();
  await ch.close();
  await db.destroy();
});
