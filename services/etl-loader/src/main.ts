// etl-loader: report.ready → download + parse → rows.parsed → ClickHouse.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { createClickHouse, clickhouseReady } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { clickhouseDeadLetterSink } from '@adsync/shared/db/dead-letter-index';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { loadEtlLoaderConfig } from './config.ts';
import { startLoader } from './loader.ts';
import { pruneRecent } from './clickhouse-load.ts';

const cfg = loadEtlLoaderConfig();
const log = createLogger({ name: 'etl-loader', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-etl-loader' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-etl-loader', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
await migratePostgres(db);
await migrateClickHouse(ch);
const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-etl-loader', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, topicPrefix: cfg.KAFKA_TOPIC_PREFIX, deadLetterSink: clickhouseDeadLetterSink(ch) });
await bus.ensureTopics();
const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
const loader = await startLoader({ db, ch, bus, clients, log, groupPrefix: `${cfg.KAFKA_TOPIC_PREFIX}adsync`, rowsPerEvent: cfg.ETL_ROWS_PER_EVENT, loadBatchMessages: cfg.ETL_LOAD_BATCH_MESSAGES, downloadConcurrency: cfg.ETL_DOWNLOAD_CONCURRENCY, sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS });
const prune = setInterval(() => void pruneRecent(ch, new Date()).catch((err) => log.warn({ err }, 'pruning the streaming table failed')), 3_600_000);
const app = await createHttpServer({
  name: 'etl-loader',
  log,
  db,
  readiness: {
    postgres: () => postgresReady(db),
    clickhouse: () => clickhouseReady(ch),
    ...Object.fromEntries(loader.consumers.map((c) => [c.groupId, async () => ({ ok: c.health().status !== 'error', detail: c.health().detail })])),
  },
});
await app.listen({ host: cfg.ETL_LOADER_HOST, port: cfg.ETL_LOADER_PORT });
log.info('etl-loader running');

onShutdown(log, async (signal) => {
  log.info({ signal }, 'shutting down: finishing in-flight batches, committing, disconnecting');
  clearInterval(prune);
  await app.close();
  await loader.stop();
  await bus.close();
  await clients.close();
  await ch.close();
  await db.destroy();
});
