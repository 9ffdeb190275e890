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
import { insertFacts, insertRecent, RECENT_COLUMNS, RECENT_DAYS } from '@adsync/shared/reports/ads-metrics';
import { enqueue } from '@adsync/shared/db/outbox';
import * as reports from '@adsync/shared/reports/pending-reports';
import { addDays } from '@adsync/shared/calendar';
import { REPORT_TYPES, type FactTable } from '@adsync/shared/amazon/report-catalog';
import type { PullStamp } from './fact-rows.ts';
import { tsvLine } from '@adsync/shared/db/tab-separated';
import { factLines, insertColumns } from './fact-lines.ts';
import { Readable } from 'node:stream';
import { PermanentError } from '@adsync/shared/runtime/errors';

export interface LoadDeps {
  db: Knex;
  ch: ClickHouse;
  log: Logger;
  now?: () => Date;
}

export async function loadRowsParsed(
  deps: LoadDeps,
  events: Decoded<RowsParsed>[],
): Promise<{ rows: number; reportsLoaded: string[] }> {
  const now = (deps.now ?? (() => new Date()))();
  const recentFrom = addDays(now.toISOString().slice(0, 10), -RECENT_DAYS);
  const loadedAt = chDateTime(now);
  // A report type writes one table, so each message goes to one table whole.
  const byTable = new Map<FactTable, RowsParsed[]>();
  for (const { value: ev } of events) {
    const table = REPORT_TYPES[ev.reportType]?.table;
    if (!table)
      throw new PermanentError(`unknown report type ${ev.reportType}`, { code: 'ADSYNC_UNKNOWN_REPORT_TYPE' });
    if (!byTable.has(table)) byTable.set(table, []);
    byTable.get(table)!.push(ev);
  }
  // Rows are encoded as they are sent: ClickHouse parses one part of the batch on the other
  // core while this one encodes the next, where a whole array was encoded first and sent after.
  let rows = 0;
  const inserts = [...byTable].map(async ([table, evs]) => {
    const end = metrics.clickhouseInsertSeconds.startTimer({ table });
    const columns = insertColumns(table, evs);
    const lines = factLines(table, columns);
    let n = 0;
    await insertFacts(
      deps.ch,
      table,
      textLines(evs, (ev, stamp) => {
        const line = lines(ev, stamp);
        return (r) => (n++, line(r));
      }),
      columns,
      deps.ch.queryId(`load-${table}`),
    );
    end();
    rows += n;
    metrics.rowsLoaded.inc({ table }, n);
  });
  // The streaming table serves the real-time panels: the last two weeks of entity metrics.
  const daily = byTable.get('ads_metrics_daily') ?? [];
  if (daily.some((ev) => ev.rows.some((r) => r.date >= recentFrom)))
    inserts.push(
      insertRecent(
        deps.ch,
        textLines(
          daily,
          (ev, stamp) => (r) =>
            r.date < recentFrom
              ? null
              : tsvLine(
                  {
                    profile_id: ev.profileId,
                    report_type: ev.reportType,
                    entity_level: ev.entityLevel,
                    entity_id: r.entityId,
                    search_term: ev.entityLevel === 'search_term' ? (r.attributes.searchTerm ?? '') : '',
                    date: r.date,
                    campaign_id: r.campaignId,
                    impressions: r.impressions,
                    clicks: r.clicks,
                    cost_micros: r.costMicros,
                    sales_micros: r.salesMicros,
                    orders: r.orders,
                    units: r.units,
                    loaded_at: loadedAt,
                    version: stamp.version,
                  },
                  RECENT_COLUMNS,
                ),
        ),
        deps.ch.queryId('load-recent'),
      ),
    );
  // All settle before any failure is reported: a retry must not overlap inserts still running.
  const settled = await Promise.allSettled(inserts);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;

  const finished = events.filter((e) => e.value.lastBatch).map((e) => e.value);
  if (finished.length) {
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
          profileId: r.profile_id,
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
  return { rows, reportsLoaded: finished.map((e) => e.pendingReportId) };
}

/**
 * Insert text for ClickHouse, made while it is read: a thousand rows per chunk, so the
 * insert starts at once and the encoding keeps pace with the socket.
 */
function textLines(
  events: RowsParsed[],
  lineOf: (ev: RowsParsed, stamp: PullStamp) => (r: MetricRow) => string | null,
): Readable {
  function* chunks(): Generator<string> {
    let text = '';
    let n = 0;
    for (const ev of events) {
      const pulled = new Date(ev.pulledAt);
      const line = lineOf(ev, { pulledAt: chDateTime(pulled), version: pulled.getTime() });
      for (const r of ev.rows) {
        const l = line(r);
        if (l === null) continue;
        text += l;
        if (++n % 1000 === 0) {
          yield text;
          text = '';
        }
      }
    }
    if (text) yield text;
  }
  return Readable.from(chunks(), { objectMode: false });
}
