// The main job, for now: migrate both databases against the running stack and print a health summary.
import { loadBaseConfig } from '../packages/shared/src/config/base-config.ts';
import { createPostgres, postgresReady } from '../packages/shared/src/db/postgres.ts';
import { createClickHouse, clickhouseReady } from '../packages/shared/src/db/clickhouse.ts';
import { migratePostgres, migrateClickHouse } from '../packages/shared/src/db/migrations.ts';

const cfg = loadBaseConfig();
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-demo' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-demo' });
const pg = await postgresReady(db);
const chr = await clickhouseReady(ch);
const m1 = await migratePostgres(db);
const m2 = await migrateClickHouse(ch);
console.log(`postgres   ${pg.ok ? 'ok' : 'DOWN ' + pg.detail}  migrations applied now: ${m1.applied.length}`);
console.log(`clickhouse ${chr.ok ? 'ok' : 'DOWN ' + chr.detail}  migrations applied now: ${m2.applied.length}`);
console.log(`kafka      ${cfg.KAFKA_BROKERS.join(',')}`);
await db.destroy(); await ch.close();
process.exit(pg.ok && chr.ok ? 0 : 1);
