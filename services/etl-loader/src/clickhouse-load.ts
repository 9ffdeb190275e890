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
import type { RowsParsed } from '@adsync/shared/events/contracts';
import { chDateTime, chString } from '@adsync/shared/db/clickhouse';
import { enqueue } from '@adsync/shared/db/outbox';
import * as reports from '@adsync/shared/reports/pending-reports';
import { addDays } from '@adsync/shared/calendar';
import type { FactTable } from '@adsync/shared/amazon/report-catalog';
import { factRow } from './fact-rows.ts';

export const RECENT_DAYS = 14;

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
  const byTable = new Map<FactTable, Record<string, unknown>[]>();
  const recent: Record<string, unknown>[] = [];
  for (const { value: ev } of events) {
    const pulled = new Date(ev.pulledAt);
    const stamp = { pulledAt: chDateTime(pulled), version: pulled.getTime() };
    for (const r of ev.rows) {
      const { table, row } = factRow(ev, r, stamp);
      if (!byTable.has(table)) byTable.set(table, []);
      byTable.get(table)!.push(row);
      // The streaming table serves the real-time panels: the last two weeks of entity metrics.
      if (table === 'ads_metrics_daily' && r.date >= recentFrom) {
        recent.push({
          profile_id: ev.profileId,
          report_type: ev.reportType,
          entity_level: ev.entityLevel,
          entity_id: r.entityId,
          search_term: row.search_term,
          date: r.date,
          campaign_id: r.campaignId,
          impressions: r.impressions,
          clicks: r.clicks,
          cost_micros: r.costMicros,
          sales_micros: r.salesMicros,
          orders: r.orders,
          units: r.units,
          loaded_at: chDateTime(now),
          version: stamp.version,
        });
      }
    }
  }
  let rows = 0;
  for (const [table, values] of byTable) {
    rows += values.length;
    const end = metrics.clickhouseInsertSeconds.startTimer({ table });
    await deps.ch.client.insert({ table, format: 'JSONEachRow', values, query_id: deps.ch.queryId(`load-${table}`) });
    end();
    metrics.rowsLoaded.inc({ table }, values.length);
  }
  if (recent.length)
    await deps.ch.client.insert({
      table: 'ads_metrics_recent',
      format: 'JSONEachRow',
      values: recent,
      query_id: deps.ch.queryId('load-recent'),
    });

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

/** Drops streaming-table partitions older than RECENT_DAYS (portable stand-in for TTL). */
export async function pruneRecent(ch: ClickHouse, now: Date): Promise<number> {
  const cutoff = addDays(now.toISOString().slice(0, 10), -RECENT_DAYS);
  const rs = await ch.client.query({
    query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${chString(ch.database)} AND table = 'ads_metrics_recent' AND active`,
    format: 'JSONEachRow',
  });
  const parts = (await rs.json<{ partition: string }>()).map((p) => p.partition.replace(/'/g, ''));
  const old = parts.filter((p) =>
    /^\d{4}-\d{2}-\d{2}$/.test(p)
      ? p < cutoff
      : /^\d{8}$/.test(p) && `${p.slice(0, 4)}-${p.slice(4, 6)}-${p.slice(6)}` < cutoff,
  );
  for (const p of old) await ch.client.command({ query: `ALTER TABLE ads_metrics_recent DROP PARTITION '${p}'` });
  return old.length;
}
