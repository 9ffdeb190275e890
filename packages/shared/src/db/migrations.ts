/**
 * One numbered source of migrations per database (packages/shared/migrations/
 * <postgres|clickhouse>/NNNN_name.up.sql, with an optional .down.sql). Applied
 * migrations are recorded with a checksum; a changed file that was already applied
 * is drift and stops the run — fix it with a new migration, never by editing.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { ClickHouse } from './clickhouse.ts';
import { clusterStatement } from './clickhouse-cluster.ts';
import { AppError } from '../runtime/errors.ts';

export interface MigrationFile {
  version: number;
  name: string;
  up: string;
  down: string | null;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export class MigrationDriftError extends AppError {
  constructor(message: string) {
    super('ADSYNC_ERR_MIGRATION_DRIFT', message, { retriable: false });
    this.name = 'MigrationDriftError';
  }
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export function readMigrations(dir: string): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.up\.sql$/.test(f))
    .sort();
  const seen = new Set<number>();
  return files.map((f) => {
    const version = Number(f.slice(0, 4));
    if (seen.has(version)) throw new Error(`two migrations share version ${version} in ${dir}`);
    seen.add(version);
    const name = f.slice(5, -'.up.sql'.length);
    const up = readFileSync(join(dir, f), 'utf8');
    const downPath = join(dir, f.replace('.up.sql', '.down.sql'));
    return {
      version,
      name,
      up,
      down: existsSync(downPath) ? readFileSync(downPath, 'utf8') : null,
      checksum: createHash('sha256').update(up).digest('hex'),
    };
  });
}

/** The file stem a human recognises: 0003_report_pipeline. */
export const migrationLabel = (m: { version: number; name: string }): string =>
  `${String(m.version).padStart(4, '0')}_${m.name}`;

/** Pure: which files are pending, or why the recorded history does not match the files. */
export function planMigrations(files: MigrationFile[], applied: AppliedMigration[]): MigrationFile[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const a of applied) {
    const f = byVersion.get(a.version);
    if (!f) throw new MigrationDriftError(`migration ${a.version}_${a.name} is applied but its file is missing`);
    if (f.checksum !== a.checksum) {
      throw new MigrationDriftError(
        `migration ${a.version}_${a.name} changed after it was applied (checksum ${a.checksum.slice(0, 12)} → ${f.checksum.slice(0, 12)}); add a new migration instead`,
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return files.filter((f) => !done.has(f.version));
}

/**
 * ClickHouse's HTTP interface takes one statement per request, so ClickHouse
 * migration files separate statements with a line that is exactly `-- statement`.
 * Explicit, so a `;` inside a string or comment can never split a statement.
 */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/^--\s*statement\s*$/m)
    .map((s) =>
      s
        .replace(/^\s*--.*$/gm, '')
        .trim()
        .replace(/;\s*$/, ''),
    )
    .filter((s) => s.length > 0);
}

export interface MigrationReport {
  database: 'postgres' | 'clickhouse';
  applied: string[];
}

const PG_LOCK_KEY = 4_242_001;

export async function migratePostgres(db: Knex, dir = join(MIGRATIONS_DIR, 'postgres')): Promise<MigrationReport> {
  const files = readMigrations(dir);
  const applied: string[] = [];
  // One connection holds an advisory lock so two replicas starting together do not race.
  await db.transaction(async (lockTx) => {
    await lockTx.raw('select pg_advisory_xact_lock(?)', [PG_LOCK_KEY]);
    await lockTx.raw(`create table if not exists schema_migrations (
      version integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`);
    const rows = await lockTx('schema_migrations').select('version', 'name', 'checksum').orderBy('version');
    for (const m of planMigrations(files, rows as AppliedMigration[])) {
      await lockTx.raw(m.up);
      await lockTx('schema_migrations').insert({ version: m.version, name: m.name, checksum: m.checksum });
      applied.push(migrationLabel(m));
    }
  });
  return { database: 'postgres', applied };
}

export async function rollbackPostgres(db: Knex, steps = 1, dir = join(MIGRATIONS_DIR, 'postgres')): Promise<string[]> {
  const files = new Map(readMigrations(dir).map((f) => [f.version, f]));
  const rolled: string[] = [];
  await db.transaction(async (tx) => {
    await tx.raw('select pg_advisory_xact_lock(?)', [PG_LOCK_KEY]);
    const rows = await tx('schema_migrations').select('version', 'name').orderBy('version', 'desc').limit(steps);
    for (const r of rows as AppliedMigration[]) {
      const f = files.get(r.version);
      if (!f?.down) throw new Error(`migration ${r.version}_${r.name} has no down file`);
      await tx.raw(f.down);
      await tx('schema_migrations').where({ version: r.version }).delete();
      rolled.push(migrationLabel(r));
    }
  });
  return rolled;
}

const CH_LOCK_KEY = 4_242_002;

/**
 * ClickHouse has no locks, so two processes starting together would apply the same
 * migration twice; when given Postgres (every service has it), a session advisory
 * lock there serialises them. No transaction is held while ClickHouse works.
 */
export async function migrateClickHouse(
  ch: ClickHouse,
  dir = join(MIGRATIONS_DIR, 'clickhouse'),
  lockDb?: Knex,
): Promise<MigrationReport> {
  if (!lockDb) return migrateClickHouseUnlocked(ch, dir);
  const conn = await lockDb.client.acquireConnection();
  try {
    await lockDb.raw('select pg_advisory_lock(?)', [CH_LOCK_KEY]).connection(conn);
    return await migrateClickHouseUnlocked(ch, dir);
  } finally {
    await lockDb
      .raw('select pg_advisory_unlock(?)', [CH_LOCK_KEY])
      .connection(conn)
      .catch(() => undefined);
    await lockDb.client.releaseConnection(conn);
  }
}

async function migrateClickHouseUnlocked(ch: ClickHouse, dir: string): Promise<MigrationReport> {
  const files = readMigrations(dir);
  const c = ch.client;
  // Cluster mode applies each statement in its replicated form (clickhouse-cluster.ts), the
  // record of what was applied included, so every replica agrees on it.
  const placed = (sql: string) => (ch.cluster ? clusterStatement(sql, ch.cluster, ch.database) : sql);
  // ON CLUSTER waits for every server: asked only when the table is missing, so a service with
  // nothing to migrate starts while a replica is down.
  const known = ch.cluster
    ? (await (await c.query({ query: 'EXISTS TABLE schema_migrations', format: 'TabSeparated' })).text()).trim() === '1'
    : false;
  if (!known)
    await c.command({
      query:
        placed(`CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime)
            ENGINE = MergeTree() ORDER BY version`),
      query_id: ch.queryId('migrate'),
    });
  const rs = await c.query({
    query: 'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    format: 'JSONEachRow',
    query_id: ch.queryId('migrate'),
  });
  const rows = (await rs.json<{ version: number | string; name: string; checksum: string }>()).map((r) => ({
    ...r,
    version: Number(r.version),
  }));
  const applied: string[] = [];
  for (const m of planMigrations(files, rows)) {
    for (const statement of splitStatements(m.up)) {
      await c.command({ query: placed(statement), query_id: ch.queryId(`migrate-${m.version}`) });
    }
    await c.insert({
      table: 'schema_migrations',
      format: 'JSONEachRow',
      values: [
        {
          version: m.version,
          name: m.name,
          checksum: m.checksum,
          applied_at: new Date().toISOString().slice(0, 19).replace('T', ' '),
        },
      ],
    });
    applied.push(migrationLabel(m));
  }
  return { database: 'clickhouse', applied };
}
