// CronJob entry: plan and request reports for every active profile (or one), relay the events, exit.
//   node services/report-requester/src/cli.ts [--profile ID] [--backfill-days N] [--report-types a,b]
// Exits 1 when any report could not be requested.
import { parseArgs } from 'node:util';
import { createLogger } from '@adsync/shared/logger';
import { createPostgres } from '@adsync/shared/db/postgres';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createCodec } from '@adsync/shared/kafka/codec';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { loadRequesterConfig } from './config.ts';
import { requestReports } from './request-reports.ts';

const { values } = parseArgs({ options: { profile: { type: 'string' }, 'backfill-days': { type: 'string' }, 'report-types': { type: 'string' } } });
const cfg = loadRequesterConfig(values['report-types'] ? { ...process.env, REPORT_TYPES: values['report-types'] } : process.env);
const log = createLogger({ name: 'report-requester-cli', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-report-requester-cli' });
let code: number;
try {
  await migratePostgres(db);
  const bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'adsync-report-requester-cli', codec: createCodec(cfg.SCHEMA_REGISTRY_URL), log, topicPrefix: cfg.KAFKA_TOPIC_PREFIX });
  await bus.ensureTopics();
  const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
  const summary = await requestReports({ db, clients, log }, {
    profileIds: values.profile ? [values.profile] : undefined,
    reportTypes: cfg.REPORT_TYPES,
    tiers: cfg.REPORT_TIERS,
    backfillDays: values['backfill-days'] ? Number(values['backfill-days']) : undefined,
    concurrency: cfg.REPORT_PROFILE_CONCURRENCY,
  });
  const relayed = await relayOutbox(db, bus);
  await bus.close();
  await clients.close();
  console.log(JSON.stringify({ ...summary, eventsPublished: relayed }, null, 2));
  code = summary.failed.length > 0 ? 1 : 0;
} catch (err) {
  log.error({ err }, 'report requests failed');
  console.error(`report requests failed: ${(err as Error).message}`);
  code = 2;
} finally {
  await db.destroy();
}
process.exit(code);
