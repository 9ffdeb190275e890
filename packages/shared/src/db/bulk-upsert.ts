/**
 * Fast idempotent upserts: one statement per batch, every column passed as one
 * typed array and expanded with unnest(). This sends O(columns) parameters instead
 * of O(rows × columns) and lets Postgres plan once, which is what makes batched
 * upserts approach COPY speed.
 */
import type { Knex } from 'knex';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { pgArray } from './array-literal.ts';
import { classifyDriverError } from '../runtime/errors.ts';

export interface UpsertSpec<R> {
  table: string;
  /** Column name → Postgres type, in insert order. */
  columns: Record<string, string>;
  /** The conflict target (the natural key). */
  key: string[];
  /** Columns set from the new row on conflict (default: all non-key columns). */
  update?: string[];
  /**
   * Columns a source may not know (null): on conflict they keep the stored value
   * rather than erase what a richer source wrote earlier.
   */
  keepWhenNull?: string[];
  /** Extra assignments on conflict, e.g. synced_at = now(). */
  alwaysSet?: Record<string, string>;
  /**
   * A timestamp column that orders a key's versions: on conflict the stored row changes only
   * when the incoming one is not older (a late, older announcement leaves the newer row alone).
   * A row without one (a source that does not say) is written as before.
   */
  onlyIfNotOlder?: string;
  row: (r: R) => unknown[];
}

const ident = (s: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`unsafe identifier ${s}`);
  return `"${s}"`;
};

/** Batches from this size go through COPY and a staging table (see copyUpsert). */
export const COPY_UPSERT_MIN_ROWS = 500;
const COPYABLE = new Set(['text', 'jsonb', 'int4', 'int8', 'numeric', 'bool', 'timestamptz', 'date', 'uuid']);

/**
 * A stream of batches believed to be new rows (a first full load): each large batch is
 * COPYed straight into the table, which costs Postgres about 60 % of staging and merging it.
 * The first batch that finds one of its keys already stored is merged instead, and so is
 * every batch after it (`likelyNew` turns false), so a reload pays one refused COPY at most.
 */
export interface FirstLoad {
  likelyNew: boolean;
}

/**
 * Returns the number of rows inserted or updated. Large batches are copied into a staging
 * table and merged in one statement (or copied straight in, see FirstLoad); small ones travel
 * as unnest() arrays.
 */
export async function bulkUpsert<R>(
  db: Knex | Knex.Transaction,
  spec: UpsertSpec<R>,
  rows: R[],
  firstLoad?: FirstLoad,
): Promise<number> {
  if (rows.length === 0) return 0;
  const copyable = Object.values(spec.columns).every((t) => COPYABLE.has(t));
  if (rows.length >= COPY_UPSERT_MIN_ROWS && copyable) return copyUpsert(db, spec, rows, firstLoad);
  return unnestUpsert(db, spec, rows);
}

/** The conflict clause both paths share. */
function onConflict<R>(spec: UpsertSpec<R>, cols: string[]): string {
  const update = (spec.update ?? cols.filter((c) => !spec.key.includes(c))).map((c) =>
    spec.keepWhenNull?.includes(c)
      ? `${ident(c)} = coalesce(excluded.${ident(c)}, ${ident(spec.table)}.${ident(c)})`
      : `${ident(c)} = excluded.${ident(c)}`,
  );
  for (const [c, expr] of Object.entries(spec.alwaysSet ?? {})) update.push(`${ident(c)} = ${expr}`);
  const t = spec.onlyIfNotOlder && ident(spec.onlyIfNotOlder);
  const guard = t
    ? ` where excluded.${t} is null or ${ident(spec.table)}.${t} is null or excluded.${t} >= ${ident(spec.table)}.${t}`
    : '';
  return `on conflict (${spec.key.map(ident).join(', ')}) do ${update.length ? `update set ${update.join(', ')}${guard}` : 'nothing'}`;
}

/** One value in COPY's text format: \N for null, and backslash, tab and line breaks escaped. */
export function copyValue(v: unknown, type: string): string {
  if (v === null || v === undefined) return '\\N';
  const s =
    type === 'jsonb'
      ? JSON.stringify(v)
      : v instanceof Date
        ? v.toISOString()
        : typeof v === 'boolean'
          ? v
            ? 't'
            : 'f'
          : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s;
}
const UNIQUE_VIOLATION = '23505';
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * COPY into a per-connection staging table, then one INSERT … SELECT … ON CONFLICT: the rows
 * reach Postgres in its cheapest input format (no array literals to build or parse), and the
 * merge is one statement. The staging table lives for the session and is emptied at commit;
 * its name follows the columns and their types, so a migration's new shape gets a new one.
 */
export async function copyUpsert<R>(db: Knex, spec: UpsertSpec<R>, rows: R[], firstLoad?: FirstLoad): Promise<number> {
  const cols = Object.keys(spec.columns);
  const types = cols.map((c) => spec.columns[c]!);
  const stage = ident(
    `stage_${spec.table}_${createHash('sha1')
      .update(cols.map((c, i) => `${c}:${types[i]}`).join(','))
      .digest('hex')
      .slice(0, 8)}`,
  );
  const list = cols.map(ident).join(', ');
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const values = spec.row(rows[i]!);
    let line = copyValue(values[0], types[0]!);
    for (let c = 1; c < cols.length; c++) line += `\t${copyValue(values[c], types[c]!)}`;
    lines[i] = line;
  }
  const text = `${lines.join('\n')}\n`;
  const load = async (conn: pg.Client) => {
    if (firstLoad?.likelyNew) {
      // Straight into the table. A key already stored (or one the batch names twice) refuses
      // the COPY whole; the savepoint takes it back and the batch is merged below, which
      // stores what the merge always did: inserted rows get the same defaults either way.
      await conn.query('savepoint first_load');
      try {
        await pipeline(
          Readable.from([text]),
          conn.query(copyStreams.from(`copy ${ident(spec.table)} (${list}) from stdin`)),
        );
        await conn.query('release savepoint first_load');
        return { n: rows.length, staged: false };
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
        await conn.query('rollback to savepoint first_load');
        await conn.query('release savepoint first_load');
        firstLoad.likelyNew = false;
      }
    }
    await conn.query(
      `create temp table if not exists ${stage} on commit delete rows as select ${list} from ${ident(spec.table)} with no data`,
    );
    await pipeline(Readable.from([text]), conn.query(copyStreams.from(`copy ${stage} (${list}) from stdin`)));
    const merged = await conn.query(
      `insert into ${ident(spec.table)} (${list}) select ${list} from ${stage} ${onConflict(spec, cols)}`,
    );
    return { n: merged.rowCount ?? rows.length, staged: true };
  };
  // Inside the caller's transaction: its connection, its commit. The staging table empties only
  // at commit, so it is emptied here for the caller's next batch; any failure aborts the
  // caller's transaction, which rolls all of it back. Calls within one transaction must come
  // one after another (as statements on one connection do): two at once would share the table.
  if ((db as Knex.Transaction).isTransaction) {
    const conn = (await db.client.acquireConnection()) as pg.Client;
    const { n, staged } = await load(conn);
    if (staged) await conn.query(`truncate ${stage}`);
    return n;
  }
  const conn = (await db.client.acquireConnection()) as pg.Client;
  try {
    // Everything after BEGIN rolls back on any failure, so the pool never gets back a
    // connection stuck in an aborted transaction.
    await conn.query('begin');
    try {
      const { n } = await load(conn);
      await conn.query('commit');
      return n;
    } catch (err) {
      // A connection that cannot even roll back is marked disposed, so the pool drops it.
      await conn.query('rollback').catch((e: Error) => {
        (conn as unknown as { __knex__disposed: unknown }).__knex__disposed = e;
      });
      // COPY and the merge run on the raw connection, past the dialect's classification.
      throw classifyDriverError('Postgres', err);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}

async function unnestUpsert<R>(db: Knex | Knex.Transaction, spec: UpsertSpec<R>, rows: R[]): Promise<number> {
  const cols = Object.keys(spec.columns);
  const arrays: unknown[][] = cols.map(() => new Array(rows.length));
  rows.forEach((r, i) => {
    const values = spec.row(r);
    for (let c = 0; c < cols.length; c++) {
      const v = values[c];
      // jsonb travels as text and is cast back; pg would otherwise send JS arrays as Postgres arrays.
      arrays[c]![i] = v === undefined ? null : spec.columns[cols[c]!] === 'jsonb' && v !== null ? JSON.stringify(v) : v;
    }
  });
  const unnest = cols
    .map((c, i) => `$${i + 1}::${spec.columns[c] === 'jsonb' ? 'text' : spec.columns[c]}[]`)
    .join(', ');
  const select = cols.map((c) => (spec.columns[c] === 'jsonb' ? `${ident(c)}::jsonb` : ident(c))).join(', ');
  const sql = `insert into ${ident(spec.table)} (${cols.map(ident).join(', ')})
    select ${select} from unnest(${unnest}) as t(${cols.map(ident).join(', ')})
    ${onConflict(spec, cols)}`;
  const result = await db.raw(sql.replace(/\$(\d+)/g, '?'), arrays.map(pgArray));
  return (result as { rowCount?: number }).rowCount ?? rows.length;
}
