/**
 * Fast idempotent upserts: one statement per batch, every column passed as one
 * typed array and expanded with unnest(). This sends O(columns) parameters instead
 * of O(rows × columns) and lets Postgres plan once, which is what makes batched
 * upserts approach COPY speed.
 */
import type { Knex } from 'knex';

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
  row: (r: R) => unknown[];
}

const ident = (s: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`unsafe identifier ${s}`);
  return `"${s}"`;
};

/** Returns the number of rows inserted or updated. */
export async function bulkUpsert<R>(db: Knex | Knex.Transaction, spec: UpsertSpec<R>, rows: R[]): Promise<number> {
  if (rows.length === 0) return 0;
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
  const update = (spec.update ?? cols.filter((c) => !spec.key.includes(c))).map((c) =>
    spec.keepWhenNull?.includes(c)
      ? `${ident(c)} = coalesce(excluded.${ident(c)}, ${ident(spec.table)}.${ident(c)})`
      : `${ident(c)} = excluded.${ident(c)}`,
  );
  for (const [c, expr] of Object.entries(spec.alwaysSet ?? {})) update.push(`${ident(c)} = ${expr}`);
  const sql = `insert into ${ident(spec.table)} (${cols.map(ident).join(', ')})
    select ${select} from unnest(${unnest}) as t(${cols.map(ident).join(', ')})
    on conflict (${spec.key.map(ident).join(', ')}) do ${update.length ? `update set ${update.join(', ')}` : 'nothing'}`;
  // knex expands JS arrays in raw bindings into lists; node-postgres' toPostgres hook
  // hands each column over as one Postgres array literal instead.
  const bindings = arrays.map((a) => ({ toPostgres: (prepare: (v: unknown) => unknown) => prepare(a) }));
  const result = await db.raw(sql.replace(/\$(\d+)/g, '?'), bindings as never);
  return (result as { rowCount?: number }).rowCount ?? rows.length;
}
