// report-requester: HTTP trigger for report requests; relays the outbox.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { loadRequesterConfig } from './config.ts';
import { registerRequesterApi } from './api.ts';

const cfg = loadRequesterConfig();
const log = createLogger({ name: 'report-requester', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-report-requester' });
await migratePostgres(db);
const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-report-requester', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, topicPrefix: cfg.KAFKA_TOPIC_PREFIX });
await bus.ensureTopics();
await relayOutbox(db, bus); // anything a crashed run left behind
const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
const inflight = new Set<Promise<unknown>>();
const app = await createHttpServer({ name: 'report-requester', log, db, readiness: { postgres: () => postgresReady(db) } });
registerRequesterApi(app, { db, bus, clients, log, reportTypes: cfg.REPORT_TYPES, tiers: cfg.REPORT_TIERS, concurrency: cfg.REPORT_PROFILE_CONCURRENCY, inflight });
await app.listen({ host: cfg.REPORT_REQUESTER_HOST, port: cfg.REPORT_REQUESTER_PORT });

onShutdown(log, async (signal) => {
  log.info({ signal, inflight: inflight.size }, 'shutting down: finishing running request runs');
  await app.close();
  await Promise.allSettled([...inflight]);
  await relayOutbox(db, bus).catch((err) => log.warn({ err }, 'outbox relay at shutdown failed; the next start relays it'));
  await bus.close();
  await clients.close();
  await db.destroy();
});
