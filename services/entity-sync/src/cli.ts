// CronJob entry: runs one entity sync to completion and exits non-zero if any run failed.
//   node services/entity-sync/src/cli.ts [--profile ID] [--entity all|campaigns|ad_groups|ads|targets] [--mode full|incremental]
// Without --profile it syncs every active profile.
import { parseArgs } from 'node:util';
import { createLogger } from '@adsync/shared/logger';
import { createPostgres } from '@adsync/shared/db/postgres';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createClickHouse } from '@adsync/shared/db/clickhouse';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { loadEntitySyncConfig } from './config.ts';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { syncProfiles } from './sync-profiles.ts';

const { values } = parseArgs({ options: { profile: { type: 'string' }, entity: { type: 'string', default: 'all' }, mode: { type: 'string', default: 'incremental' } } });
const cfg = loadEntitySyncConfig();
const log = createLogger({ name: 'entity-sync-cli', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-entity-sync-cli' });
let code: number;
try {
  await migratePostgres(db);
  const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-entity-sync-cli', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
  await migrateClickHouse(ch);
  const clients = new AmazonClients({ db, box: secretBoxFromEnv(cfg), log, baseUrl: cfg.AMAZON_ADS_BASE_URL });
  const summary = await syncProfiles({ db, ch, clients, log, batchSize: cfg.ENTITY_SYNC_BATCH_SIZE, concurrency: cfg.ENTITY_SYNC_PROFILE_CONCURRENCY, exportPollMs: cfg.ENTITY_SYNC_EXPORT_POLL_MS }, {
    profileId: values.profile,
    entity: values.entity ?? 'all',
    mode: values.mode ?? 'incremental',
    trigger: 'cli',
  });
  await clients.close();
  await ch.close();
  console.log(JSON.stringify(summary, null, 2));
  code = summary.failed > 0 ? 1 : 0;
} catch (err) {
  log.error({ err }, 'entity sync failed');
  console.error(`entity sync failed: ${(err as Error).message}`);
  code = 2;
} finally {
  await db.destroy();
}
process.exit(code);
