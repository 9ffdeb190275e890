import { metrics } from '@adsync/shared/runtime/metrics';
import { randomUUID } from 'node:crypto';
/**
 * rows.parsed → ClickHouse, in large batches, each row to the table its report type
 * writes (fact-rows.ts): entity metrics keyed by (profile, report type, level, entity,
 * search term, day), purchased products by ASIN pair, traffic quality by campaign. Each
 * is a ReplacingMergeTree versioned by the pull time: a redelivered batch or a report
 * loaded twice collapses to one row, and a newer pull of a restated day replaces the
 * older values. When a report's
 * last batch is durable, the report is marked loaded and report.loaded announced
 * (one transaction); whoever keeps derived data — entity-sync's recent metrics —
 * refreshes from that.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { Decoded } from '@adsync/shared/kafka/batch-plan';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { chDateTime } from '@adsync/shared/db/clickhouse';
import {
  insertFacts,
  insertRecent,
  RECENT_COLUMNS,
  RECENT_DAYS,
  removeRestatedRows,
  type LoadedSlice,
} from '@adsync/shared/reports/ads-metrics';
import { ownerLogFields, ownerOfRow } from '@adsync/shared/reports/report-owner';
import { enqueue } from '@adsync/shared/db/outbox';
import * as reports from '@adsync/shared/reports/pending-reports';
import { addDays } from '@adsync/shared/calendar';
import { REPORT_TYPES, type FactTable } from '@adsync/shared/amazon/report-catalog';
import { RECENT_FIELDS, type Field } from './fact-rows.ts';
import { columnFields, factLines, insertColumns } from './fact-lines.ts';
import { encodedRowsText } from './encoded-rows.ts';
import { batchProblem, rowsParsedProblem } from './rows-check.ts';
import type { EncodedArray } from '@adsync/shared/kafka/avro-types';
import type { EventCodec } from '@adsync/shared/kafka/codec';
import { PassThrough, Readable } from 'node:stream';
import { PermanentError } from '@adsync/shared/runtime/errors';

export interface LoadDeps {
  db: Knex;
  ch: ClickHouse;
  log: Logger;
  now?: () => Date;
}

/** A rows.parsed message as the loader reads it: its rows still encoded, when written with this build's schema. */
export type RowsParsedIn = Omit<RowsParsed, 'rows'> & { rows: MetricRow[] | EncodedArray<MetricRow> };

/** Reads rows.parsed keeping the rows encoded (the consumer's `decode`). */
export const readRowsParsed = (codec: EventCodec, bytes: Buffer | null): Promise<RowsParsedIn> =>
  codec.decodeKeeping('rows.parsed', bytes, ['MetricRow']) as Promise<RowsParsedIn>;

/** Why a message is not loaded, and at which step: its rows did not decode, or they are impossible. */
export interface Refusal {
  reason: string;
  step: 'decode' | 'validate';
}
const refused = (reason: string | null): Refusal | null => (reason === null ? null : { reason, step: 'validate' });
const refusalOf = (err: unknown): Refusal => ({
  reason: (err as Error).message,
  step: (err as { code?: string }).code === 'ADSYNC_ERR_DECODE' ? 'decode' : 'validate',
});

/** A message whose rows are objects: decoded if they were not. */
function withRowObjects(ev: RowsParsedIn): RowsParsed {
  if (Array.isArray(ev.rows)) return ev as RowsParsed;
  try {
    return { ...ev, rows: ev.rows.decode() };
  } catch (err) {
    // Only what avsc itself refuses (a truncated body, a value past 2^53) lands here.
    throw new PermanentError(`Avro rows do not decode as rows.parsed: ${(err as Error).message}`, {
      code: 'ADSYNC_ERR_DECODE',
    });
  }
}

/**
 * Loads what can be loaded and says, per message, why one could not (null: loaded): a message
 * with an impossible row is left out whole, as rows-check.ts says, and the rest load.
 */
export async function loadRowsParsed(
  deps: LoadDeps,
  events: Decoded<RowsParsedIn>[],
): Promise<{ rows: number; reportsLoaded: string[]; problems: (Refusal | null)[] }> {
  const now = (deps.now ?? (() => new Date()))();
  const recentFrom = addDays(now.toISOString().slice(0, 10), -RECENT_DAYS);
  const loadedAt = chDateTime(now);
  const problems: (Refusal | null)[] = events.map(() => null);
  // A report type writes one table, so each message goes to one table whole.
  const byTable = new Map<FactTable, { ev: RowsParsedIn; at: number }[]>();
  for (const [at, { value }] of events.entries()) {
    let ev = value;
    try {
      problems[at] = refused(batchProblem(ev));
      // Rows as objects are checked now; encoded ones as they are written (the older measures
      // maps decode first: the insert's columns depend on them).
      if (!problems[at] && (Array.isArray(ev.rows) || !ev.measureColumns?.length)) {
        ev = withRowObjects(ev);
        problems[at] = refused(rowsParsedProblem(ev as RowsParsed));
      }
    } catch (err) {
      problems[at] = refusalOf(err);
    }
    if (problems[at]) continue;
    const table = REPORT_TYPES[ev.reportType]!.table;
    if (!byTable.has(table)) byTable.set(table, []);
    byTable.get(table)!.push({ ev, at });
  }

  // A table's insert, or its two side by side (insertSlices), with one streaming-table insert
  // beside them that ends when they all have, or is abandoned when one failed.
  const tables = [...byTable].map(async ([table, items]) => {
    const end = metrics.clickhouseInsertSeconds.startTimer({ table });
    // The streaming table serves the real-time panels: the last two weeks of entity metrics.
    const recent = table === 'ads_metrics_daily' ? new RecentInsert(deps.ch) : null;
    const counted = { n: 0 };
    const slices = insertSlices(items).map((slice) => {
      const columns = insertColumns(
        table,
        slice.map((i) => i.ev),
      );
      const fields = columnFields(table, columns);
      const text = Readable.from(
        turnByTurn(messageTexts(slice, fields, { loadedAt, recentFrom }, recent, problems, counted)),
        { objectMode: false },
      );
      return insertFacts(deps.ch, table, text, columns, deps.ch.queryId(`load-${table}`));
    });
    const done = await Promise.allSettled(slices);
    const failed = done.find((r) => r.status === 'rejected');
    // The recent insert ends with the main ones, or fails with them (and the batch is retried whole).
    await recent?.finish(!failed);
    if (failed) throw failed.reason;
    end();
    return { table, rows: counted.n };
  });
  // All settle before any failure is reported: a retry must not overlap inserts still running.
  const settled = await Promise.allSettled(tables);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  let rows = 0;
  // Counted once the whole batch is in: a failed batch is retried whole, and would count twice.
  for (const r of settled as PromiseFulfilledResult<{ table: FactTable; rows: number }>[]) {
    rows += r.value.rows;
    metrics.rowsLoaded.inc({ table: r.value.table }, r.value.rows);
  }

  // A refused message's rows never load: its report's pull is not the whole truth for its days.
  const unloadable = new Map<string, number>();
  for (const [i, p] of problems.entries()) {
    if (!p) continue;
    const ev = events[i]!.value;
    const n = Array.isArray(ev.rows) ? ev.rows.length : 1;
    unloadable.set(ev.pendingReportId, (unloadable.get(ev.pendingReportId) ?? 0) + n);
  }
  if (unloadable.size) await reports.recordUnloadable(deps.db, unloadable);

  const finished = events.filter((e, i) => e.value.lastBatch && problems[i] === null).map((e) => e.value);
  if (finished.length) {
    // A re-pull is the whole truth for its days: rows it no longer has go before it counts as loaded.
    const removed = await removeRestatedRows(deps.ch, await loadedSlices(deps.db, finished));
    for (const r of removed) {
      if (r.notWhole.length)
        deps.log.warn(
          { table: r.table, slices: r.notWhole.map(sliceLog) },
          'a re-pull lacks rows an older pull had, but lost rows of its own to dead letters: the older rows stay until a whole pull',
        );
      if (!r.slices.length) continue;
      metrics.restatedRowsRemoved.inc({ table: r.table }, r.rows);
      deps.log.info(
        { table: r.table, rows: r.rows, slices: r.slices.map(sliceLog) },
        'rows a re-pull no longer has were removed',
      );
    }
    await deps.db.transaction(async (tx) => {
      const moved = await reports.markLoaded(
        tx,
        finished.map((e) => e.pendingReportId),
      );
      for (const r of moved) {
        const ev = finished.find((e) => e.pendingReportId === r.id)!;
        metrics.reportToQueryable.observe(
          { report_type: r.report_type },
          (Date.now() - new Date(r.created_at).getTime()) / 1000,
        );
        await enqueue(tx, 'report.loaded', r.id, {
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          pendingReportId: r.id,
          profileId: r.profile_id ?? '',
          dspAccountId: r.dsp_account_id,
          reportId: ev.reportId,
          reportType: r.report_type,
          entityLevel: ev.entityLevel,
          startDate: r.start_date,
          endDate: r.end_date,
          rows: Number((r as { row_count?: number }).row_count ?? 0),
          requestedAt: new Date(r.created_at).toISOString(),
          runId: r.run_id,
        });
      }
    });
  }
  return { rows, reportsLoaded: finished.map((e) => e.pendingReportId), problems };
}

/** A slice as a log names it: whose, which type, which days. */
const sliceLog = (s: LoadedSlice) => ({
  ...ownerLogFields(s.owner),
  reportType: s.reportType,
  from: s.startDate,
  to: s.endDate,
});

/**
 * The slices the finished reports now hold the truth for: their owner, type, days and pull, and
 * whether the pull is whole (rows that did not parse, or a message the loader refused, make it
 * not: it does not say the rows it lacks are gone). A pull older than one already loaded for some of its days (a redelivered or late
 * report) leaves the newer one the truth there: those days are judged by the newer pull.
 */
async function loadedSlices(db: Knex, finished: RowsParsedIn[]): Promise<LoadedSlice[]> {
  const rows = await reports.findReports(
    db,
    finished.map((e) => e.pendingReportId),
  );
  const out: LoadedSlice[] = [];
  for (const ev of finished) {
    const r = rows.find((x) => x.id === ev.pendingReportId);
    if (!r) continue;
    const base = { table: REPORT_TYPES[ev.reportType]!.table, owner: ownerOfRow(r), reportType: ev.reportType };
    out.push({
      ...base,
      startDate: r.start_date,
      endDate: r.end_date,
      version: new Date(ev.pulledAt).getTime(),
      whole: !r.bad_row_count,
    });
    const newer = await reports.newerLoaded(db, {
      owner: base.owner,
      reportType: ev.reportType,
      from: r.start_date,
      to: r.end_date,
      exceptId: r.id,
      after: new Date(ev.pulledAt),
    });
    for (const q of newer)
      out.push({
        ...base,
        startDate: q.start_date > r.start_date ? q.start_date : r.start_date,
        endDate: q.end_date < r.end_date ? q.end_date : r.end_date,
        version: new Date(q.completed_at).getTime(),
        whole: !q.bad_row_count,
      });
  }
  return out;
}

// ClickHouse parses and writes an insert on one thread: past this many bytes of rows (about
// 60,000 rows), two inserts at once finish in about half the time (two parts, cheap at this size).
const PARALLEL_INSERT_BYTES = 6 * 1024 * 1024;
// Rows already decoded (a message written with another schema) are weighed as Avro takes about.
const ROW_BYTES = 100;

/** A table's messages as one insert, or two of about equal bytes when there are many. */
export function insertSlices<T extends { ev: RowsParsedIn }>(items: T[]): T[][] {
  const sizes = items.map(({ ev }) =>
    Array.isArray(ev.rows) ? ev.rows.length * ROW_BYTES : ev.rows.end - ev.rows.start,
  );
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total < PARALLEL_INSERT_BYTES || items.length < 2) return [items];
  let half = 0;
  let cut = 0;
  while (cut < items.length - 1 && half + sizes[cut]! <= total / 2) half += sizes[cut++]!;
  return [items.slice(0, Math.max(cut, 1)), items.slice(Math.max(cut, 1))];
}

/** The streaming table's insert, started when the first recent row turns up. */
class RecentInsert {
  private readonly ch: ClickHouse;
  private stream: PassThrough | null = null;
  private done: Promise<void> | null = null;
  constructor(ch: ClickHouse) {
    this.ch = ch;
  }

  write(text: Buffer): void {
    if (!this.stream) {
      this.stream = new PassThrough();
      // Destroyed (finish) before the client has piped it: its error is the main insert's, reported there.
      this.stream.on('error', () => undefined);
      this.done = insertRecent(this.ch, this.stream, this.ch.queryId('load-recent'));
      // Awaited in finish; a failure before then must not be an unhandled rejection.
      this.done.catch(() => undefined);
    }
    // At most one batch's recent rows wait here, while ClickHouse reads the main insert.
    this.stream.write(text);
  }

  /**
   * Ends the recent insert with the main one. When the main insert failed, this one is abandoned
   * and its own failure (our abandoning it) is not reported: the main insert's error, which says
   * what ClickHouse refused, is the batch's.
   */
  async finish(complete: boolean): Promise<void> {
    if (!this.stream) return;
    if (complete) {
      this.stream.end();
      await this.done;
      return;
    }
    this.stream.destroy(new Error('the main insert of this batch failed'));
    await this.done?.catch(() => undefined);
  }
}

/**
 * A message's text per turn of the event loop. A loopback socket takes all it is given, so a
 * synchronous stream of text ran every message of one insert before a second insert had even
 * sent its request: the inserts were meant to run side by side.
 */
async function* turnByTurn(texts: Iterable<Buffer>): AsyncGenerator<Buffer> {
  for (const text of texts) {
    yield text;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Insert text for ClickHouse, made while it is read, a message at a time: the insert starts at
 * once and ClickHouse parses one message on the other core while this one writes the next.
 * Encoded rows go straight from their bytes (encoded-rows.ts); a message that path hands back,
 * and rows that came as objects, take the object path, where rows-check has the last word.
 */
function* messageTexts(
  items: { ev: RowsParsedIn; at: number }[],
  fields: Field[],
  load: { loadedAt: string; recentFrom: string },
  recent: RecentInsert | null,
  problems: (Refusal | null)[],
  counted: { n: number },
): Generator<Buffer> {
  const main = factLines(fields);
  const recentLines = factLines(RECENT_COLUMNS.map((c) => RECENT_FIELDS[c]!));
  for (const { ev, at } of items) {
    const pulled = new Date(ev.pulledAt);
    const stamp = { pulledAt: chDateTime(pulled), version: pulled.getTime(), loadedAt: load.loadedAt };
    if (!Array.isArray(ev.rows)) {
      const fast = encodedRowsText(
        ev as RowsParsed,
        ev.rows,
        fields,
        stamp,
        recent ? { fields: RECENT_COLUMNS.map((c) => RECENT_FIELDS[c]!), from: load.recentFrom } : undefined,
      );
      if (fast) {
        if (fast.recentText) recent!.write(fast.recentText);
        counted.n += fast.rows;
        yield fast.text;
        continue;
      }
    }
    let objects: RowsParsed;
    try {
      objects = withRowObjects(ev);
      problems[at] = refused(rowsParsedProblem(objects));
    } catch (err) {
      problems[at] = refusalOf(err);
    }
    if (problems[at]) continue;
    const line = main(objects!, stamp);
    const recentLine = recent ? recentLines(objects!, stamp) : null;
    let text = '';
    let recentText = '';
    for (const r of objects!.rows) {
      text += line(r);
      if (recentLine && r.date >= load.recentFrom) recentText += recentLine(r);
    }
    if (recentText) recent!.write(Buffer.from(recentText, 'utf8'));
    counted.n += objects!.rows.length;
    yield Buffer.from(text, 'utf8');
  }
}
