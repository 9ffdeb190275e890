// report-poller: polls pending reports in bounded ticks; serves the reports API.
import { createLogger } from '@adsync/shared/logger';
import { onShutdown } from '@adsync/shared/shutdown';
import { createPostgres, postgresReady } from '@adsync/shared/db/postgres';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { loadPollerConfig } from './config.ts';
import { startPoller } from './poller.ts';
import { registerReportsApi } from './api.ts';

const cfg = loadPollerConfig();
const log = createLogger({ name: 'report-poller', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-report-poller' });
await migratePostgres(db);
const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-report-poller', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, topicPrefix: cfg.KAFKA_TOPIC_PREFIX });
await bus.ensureTopics();
const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
const poller = startPoller({ db, clients, bus, log, intervalMs: cfg.POLL_INTERVAL_MS, poll: { maxReports: cfg.POLL_MAX_REPORTS, minSpacingMs: cfg.POLL_MIN_SPACING_MS, maxPolls: cfg.POLL_MAX_ATTEMPTS } });
// A newly requested report is worth a look soon; the tick itself respects the spacing.
const wakeups = await bus.consume({ topic: 'report.requested', groupId: 'adsync.report-poller.wakeup', fromBeginning: false, handle: async () => poller.wake() });
const app = await createHttpServer({
  name: 'report-poller',
  log,
  db,
  readiness: {
    postgres: () => postgresReady(db),
    poller: async () => ({ ok: true, detail: `last tick ${poller.lastTickAt()?.toISOString() ?? 'not yet'}` }),
    kafka: async () => ({ ok: wakeups.health().status !== 'error', detail: wakeups.health().detail }),
  },
});
registerReportsApi(app, { db, poller });
await app.listen({ host: cfg.REPORT_POLLER_HOST, port: cfg.REPORT_POLLER_PORT });

onShutdown(log, async (signal) => {
  log.info({ signal }, 'shutting down: finishing the current tick');
  await app.close();
  await poller.stop();
  await bus.close();
  await clients.close();
  await db.destroy();
});
