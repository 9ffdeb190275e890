/**
 * What a rows.parsed message must be before it goes near ClickHouse. A message can
 * fit its Avro schema and still be impossible (a negative click count, a day that
 * does not exist); ClickHouse would refuse the whole insert, every time. Such a
 * message is dead-lettered with these reasons and the rest of the batch loads.
 */
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { measureColumnsOf, REPORT_TYPES, type FactTable } from '@adsync/shared/amazon/report-catalog';
import { FACT_COLUMNS } from './fact-rows.ts';

const COUNTS = ['impressions', 'clicks', 'orders', 'units'] as const;
const MONEY = ['costMicros', 'salesMicros'] as const;

function checkDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s && s >= '2000-01-01' && s <= '2100-12-31';
}

// Every row is checked and a batch holds a few dozen distinct days: parsing each row's date
// was the largest single cost of loading. Bounded, since a bad message can carry any text.
const DAYS = new Map<string, boolean>();
function isCalendarDay(s: string): boolean {
  let ok = DAYS.get(s);
  if (ok === undefined) {
    ok = checkDay(s);
    if (DAYS.size < 10_000) DAYS.set(s, ok);
  }
  return ok;
}

/** The measure names each table can store: its measure columns, and its fixed ones (which win). */
const MEASURES_OF = new Map<FactTable, Set<string>>();
function storableMeasures(table: FactTable): Set<string> {
  let set = MEASURES_OF.get(table);
  if (!set) MEASURES_OF.set(table, (set = new Set([...measureColumnsOf(table), ...FACT_COLUMNS[table]])));
  return set;
}

function rowProblems(r: MetricRow): string[] {
  const out: string[] = [];
  if (!isCalendarDay(r.date)) out.push(`date ${JSON.stringify(r.date)} is not a calendar day`);
  if (!r.entityId) out.push('entityId is empty');
  for (const k of COUNTS)
    if (!Number.isSafeInteger(r[k]) || r[k] < 0) out.push(`${k} ${r[k]} is not a count (a whole number ≥ 0)`);
  for (const k of MONEY)
    if (!Number.isSafeInteger(r[k]) || r[k] < 0)
      out.push(`${k} ${r[k]} is not an amount in micros (a whole number ≥ 0)`);
  return out;
}

/** What makes a message impossible whatever its rows hold, or null (the rows are checked apart). */
export function batchProblem(ev: Omit<RowsParsed, 'rows'>): string | null {
  const table = REPORT_TYPES[ev.reportType]?.table;
  if (!table) return `unknown report type ${JSON.stringify(ev.reportType)}`;
  if (Number.isNaN(Date.parse(ev.pulledAt))) return `pulledAt ${JSON.stringify(ev.pulledAt)} is not a time`;
  if (table === 'ads_traffic_quality') return null;
  const storable = storableMeasures(table);
  // A measure the table has no column for would fail the whole insert, every time.
  const found = (ev.measureColumns ?? [])
    .filter((k) => !storable.has(k))
    .map((k) => `measure column ${JSON.stringify(k)} has no column in ${table}`);
  return found.length ? impossible(ev, found) : null;
}

const impossible = (ev: Omit<RowsParsed, 'rows'>, found: string[]) =>
  `impossible rows in report ${ev.reportId} batch ${ev.batchIndex}: ${found.join('; ')}`;

/** Why the message cannot be loaded, or null when it can. */
export function rowsParsedProblem(ev: RowsParsed): string | null {
  const batch = batchProblem(ev);
  if (batch) return batch;
  const table = REPORT_TYPES[ev.reportType]!.table;
  const storable = storableMeasures(table);
  const found: string[] = [];
  const columns = ev.measureColumns ?? [];
  for (const [i, r] of ev.rows.entries()) {
    for (const p of rowProblems(r)) found.push(`row ${i}: ${p}`);
    if (columns.length && (r.measureValues?.length ?? 0) !== columns.length)
      found.push(`row ${i}: ${r.measureValues?.length ?? 0} measure values for ${columns.length} measure columns`);
    if (table !== 'ads_traffic_quality')
      for (const k in r.measures)
        if (!storable.has(k)) found.push(`row ${i}: measure ${JSON.stringify(k)} has no column in ${table}`);
    if (found.length >= 5) break;
  }
  return found.length ? impossible(ev, found) : null;
}
