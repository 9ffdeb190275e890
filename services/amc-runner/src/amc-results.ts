/**
 * The module that owns `amc_results` and `amc_results_latest` (ClickHouse): every execution's
 * output rows, one JSON object a row, tagged with the window they cover, and the view of each
 * workflow's last complete load per window. The loader stores rows here, the API and the
 * dashboard read them here, and the SQL the generated Grafana dashboard runs on them is
 * written here. Both replace by key, so a load repeated after a crash lands once.
 * The SQL keeps to what ClickHouse 18.16 runs (visitParamExtract*, not JSONExtract*).
 */
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { chString } from '@adsync/shared/db/clickhouse';

export interface ResultRow {
  execution_id: string;
  workflow_id: string;
  instance_id: string;
  schedule_id: string;
  time_window_start: string;
  time_window_end: string;
  partial: number;
  row_number: number;
  /** The output row as JSON. */
  row: string;
  loaded_at: string;
}

/** Stores an execution's output rows, 10,000 an insert. */
export async function storeResultRows(ch: ClickHouse, rows: ResultRow[]): Promise<void> {
  for (let k = 0; k < rows.length; k += 10_000)
    await ch.client.insert({ table: 'amc_results', format: 'JSONEachRow', values: rows.slice(k, k + 10_000) });
}

const readRows = async (ch: ClickHouse, query: string): Promise<Record<string, unknown>[]> => {
  const rs = await ch.client.query({ query, format: 'JSONEachRow' });
  return (await rs.json<{ row: string }>()).map((r) => JSON.parse(r.row));
};

/** A page of an execution's output rows, in AMC's row order (FINAL: a repeated load counts once). */
export const resultRows = (ch: ClickHouse, executionId: string, p: { limit: number; offset: number }) =>
  readRows(
    ch,
    `SELECT row FROM amc_results FINAL WHERE execution_id = ${chString(executionId)} ORDER BY row_number LIMIT ${p.limit} OFFSET ${p.offset}`,
  );

/** An execution's first output row (a sample of what its columns hold), if it has one. */
export async function firstResultRow(ch: ClickHouse, executionId: string): Promise<Record<string, unknown> | null> {
  const [first] = await readRows(
    ch,
    `SELECT row FROM amc_results WHERE execution_id = ${chString(executionId)} ORDER BY row_number LIMIT 1`,
  );
  return first ?? null;
}

const ident = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

/**
 * The workflow's latest rows in one window (`windowSql` selects its time_window_start and
 * time_window_end), in AMC's row order, one column per output column, numbers as numbers. Pure.
 */
export function latestRowsSql(
  w: { instanceId: string; workflowId: string; columns: { name: string; numeric: boolean }[] },
  windowSql: string,
): string {
  const cols = w.columns.map((c) =>
    c.numeric
      ? // CSV cells are JSON strings ("123"), Parquet's are numbers: the raw value without quotes reads as both.
        `toFloat64OrZero(replaceAll(visitParamExtractRaw(row, ${chString(c.name)}), '"', '')) AS ${ident(c.name)}`
      : `visitParamExtractString(row, ${chString(c.name)}) AS ${ident(c.name)}`,
  );
  return [
    `SELECT toString(time_window_start) AS window_start, toString(time_window_end) AS window_end, partial${cols.length ? ', ' : ''}${cols.join(', ')}`,
    `FROM amc_results_latest`,
    `WHERE instance_id = ${chString(w.instanceId)} AND workflow_id = ${chString(w.workflowId)} AND (time_window_start, time_window_end) IN (${windowSql})`,
    `ORDER BY row_number`,
  ].join(' ');
}
