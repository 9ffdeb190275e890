#!/usr/bin/env node
// Applies the Postgres and ClickHouse migrations and exits: `pnpm migrate`, and the
// Kubernetes Job (deploy/k8s/base/migrate-job.yaml) that runs before services start
// with MIGRATE_ON_START=false. Safe to run while services run: both databases take a lock.
//   node packages/shared/src/db/migrate-cli.ts [--status]
import { parseArgs } from 'node:util';
import { baseConfigShape } from '../config/base-config.ts';
import { runTask } from '../runtime/service.ts';
import { join } from 'node:path';
import {
  MIGRATIONS_DIR,
  migrateClickHouse,
  migratePostgres,
  migrationLabel,
  planMigrations,
  readMigrations,
  type AppliedMigration,
} from './migrations.ts';

const { values } = parseArgs({ options: { status: { type: 'boolean', default: false } } });
// This task applies them itself, and says what it applied.
process.env.MIGRATE_ON_START = 'false';

await runTask({
  name: 'migrate',
  config: { ...baseConfigShape },
  needs: { clickhouse: true },
  run: async (rt) => {
    if (values.status) {
      // What is applied and what a run would apply, per database, without changing anything.
      const pgApplied = await rt
        .db('schema_migrations')
        .select('version', 'name', 'checksum')
        .orderBy('version')
        .catch(() => []);
      const chApplied = await rt.ch.client
        .query({
          query: 'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
          format: 'JSONEachRow',
        })
        .then((r) => r.json<AppliedMigration>())
        .catch(() => [] as AppliedMigration[]);
      const describe = (dir: string, applied: AppliedMigration[]) => ({
        applied: applied.map((a) => migrationLabel({ version: Number(a.version), name: a.name })),
        pending: planMigrations(
          readMigrations(join(MIGRATIONS_DIR, dir)),
          applied.map((a) => ({ ...a, version: Number(a.version) })),
        ).map(migrationLabel),
      });
      console.log(
        JSON.stringify(
          { postgres: describe('postgres', pgApplied), clickhouse: describe('clickhouse', chApplied) },
          null,
          2,
        ),
      );
      return 0;
    }
    const pg = await migratePostgres(rt.db);
    const ch = await migrateClickHouse(rt.ch, undefined, rt.db);
    console.log(JSON.stringify({ postgres: pg.applied, clickhouse: ch.applied }));
    rt.log.info({ postgres: pg.applied, clickhouse: ch.applied }, 'migrations applied');
    return 0;
  },
});
