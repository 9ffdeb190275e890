/**
 * Fact rows as ClickHouse TabSeparated lines (the encoding itself: db/tab-separated.ts).
 * The columns are named in the INSERT, so a row carries values only, in that order. Pure.
 */
import type { FactTable } from '@adsync/shared/amazon/report-catalog';
import type { RowsParsed } from '@adsync/shared/events/contracts';
import {
  FACT_COLUMNS,
  FACT_FIELDS,
  measureColumnsOf,
  rowReader,
  takesMeasures,
  type Field,
  type PullStamp,
} from './fact-rows.ts';
import type { MetricRow } from '@adsync/shared/events/contracts';
import { tsvField } from '@adsync/shared/db/tab-separated';

/**
 * The columns a table's insert names: the ones every row of that table fills, then each
 * measure some row of these events carries (a column written by no row keeps its default).
 */
export function insertColumns(
  table: FactTable,
  events: readonly (Pick<RowsParsed, 'measureColumns'> & { rows: MetricRow[] | object })[],
): string[] {
  const base = FACT_COLUMNS[table];
  const fixed = new Set(base);
  const measures = new Set<string>();
  if (takesMeasures(table))
    for (const ev of events) for (const k of measureColumnsOf(ev)) if (!fixed.has(k)) measures.add(k);
  return [...base, ...[...measures].sort()];
}

/** The field each insert column takes: the table's own, else the measure of that name. */
export function columnFields(table: FactTable, columns: readonly string[]): Field[] {
  const fields = FACT_FIELDS[table];
  return columns.map((c) => fields[c] ?? { row: { measure: c } });
}

/**
 * The line writer for one insert: for each message, its rows as TabSeparated lines of these
 * fields, in order (columnFields). Fields of the message are encoded once per message, and no
 * row object is built on the way, which is most of what loading a row costs.
 */
export function factLines(fields: readonly Field[]): (ev: RowsParsed, stamp: PullStamp) => (r: MetricRow) => string {
  return (ev, stamp) => {
    // Runs of message fields become one constant text; the rest read each row.
    const parts: (string | ((r: MetricRow) => string))[] = [];
    let text = '';
    for (const [i, f] of fields.entries()) {
      const sep = i === 0 ? '' : '\t';
      if ('message' in f) {
        text += sep + tsvField(f.message(ev, stamp));
        continue;
      }
      text += sep;
      parts.push(text);
      text = '';
      const read = rowReader(f.row, ev);
      parts.push((r) => tsvField(read(r)));
    }
    parts.push(`${text}\n`);
    return (r) => {
      let line = '';
      for (const p of parts) line += typeof p === 'string' ? p : p(r);
      return line;
    };
  };
}
