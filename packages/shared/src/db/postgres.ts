import { createRequire } from 'node:module';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { classifyDriverError, PermanentError } from '../runtime/errors.ts';

// int8 (micros, counts) as JS numbers: our values stay far below 2^53, and strings
// for numbers leak into every comparison and JSON answer otherwise.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new PermanentError(`int8 value ${v} exceeds 2^53; read it as text`);
  return n;
});
// `date` as 'YYYY-MM-DD': a calendar day, not a local-midnight instant that shifts with TZ.
pg.types.setTypeParser(1082, (v: string) => v);

export type { Knex };

export interface PostgresOptions {
  url: string;
  /** Shows up in pg_stat_activity, so a slow query names the service that sent it. */
  applicationName: string;
  poolMax?: number;
}

type PgDialect = new (config: Knex.Config) => Knex.Client & {
  _query(connection: unknown, obj: unknown): Promise<unknown>;
  acquireRawConnection(): Promise<unknown>;
};
// knex's own Postgres dialect (the one `client: 'pg'` names), reached by path: knex exports no name for it.
const KnexPg = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as PgDialect;

/** knex's Postgres dialect, with each connect's and statement's failure classified where the driver raises it. */
class ClassifyingPg extends KnexPg {
  override _query(connection: unknown, obj: unknown): Promise<unknown> {
    return super._query(connection, obj).catch((err: unknown) => {
      throw classifyDriverError('Postgres', err);
    });
  }
  override acquireRawConnection(): Promise<unknown> {
    return super.acquireRawConnection().catch((err: unknown) => {
      throw classifyDriverError('Postgres', err);
    });
  }
}

export function createPostgres(opts: PostgresOptions): Knex {
  return knexFactory({
    client: ClassifyingPg as unknown as typeof Knex.Client,
    connection: { connectionString: opts.url, application_name: opts.applicationName },
    pool: {
      min: 0,
      max: opts.poolMax ?? 10,
      idleTimeoutMillis: 30_000,
      // Batched writes join a few thousand keys to a large table. With the default cost of a
      // random page (4, a spinning disk's) the planner hashes the whole table for each batch;
      // on SSDs, which every managed Postgres runs on, an index lookup per key is several
      // times faster (bench/supplier-price-update.ts: 30 ms → 11 ms per 2,000-row batch).
      afterCreate: (
        conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, c: unknown) => void,
      ) => conn.query('set random_page_cost = 1.1', (err) => done(err, conn)),
    },
    acquireConnectionTimeout: 10_000,
  });
}

export async function postgresReady(db: Knex): Promise<{ ok: boolean; detail: string }> {
  try {
    await db.raw('select 1');
    return { ok: true, detail: 'ok' };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}
