import { randomUUID } from 'node:crypto';
/**
 * rows.parsed → ClickHouse, in large batches. Rows are keyed by (profile, report
 * type, level, entity, search term, day) in a ReplacingMergeTree versioned by the
 * pull time: a redelivered batch or a report loaded twice collapses to one row,
 * and a newer pull of a restated day replaces the older values. When a report's
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
  const daily: Record<string, unknown>[] = [];
  const recent: Record<string, unknown>[] = [];
  for (const { value: ev } of events) {
    const pulled = new Date(ev.pulledAt);
    const version = pulled.getTime();
    const pulledAt = chDateTime(pulled);
    for (const r of ev.rows) {
      const searchTerm = ev.entityLevel === 'search_term' ? (r.attributes.searchTerm ?? '') : '';
      daily.push({
        profile_id: ev.profileId,
        report_type: ev.reportType,
        entity_level: ev.entityLevel,
        entity_id: r.entityId,
        search_term: searchTerm,
        date: r.date,
        campaign_id: r.campaignId,
        ad_group_id: r.adGroupId ?? '',
        currency: r.currency,
        impressions: r.impressions,
        clicks: r.clicks,
        cost_micros: r.costMicros,
        sales_micros: r.salesMicros,
        orders: r.orders,
        units: r.units,
        attributes: JSON.stringify(r.attributes),
        pending_report_id: ev.pendingReportId,
        pulled_at: pulledAt,
        version,
      });
      if (r.date >= recentFrom) {
        recent.push({
          profile_id: ev.profileId,
          report_type: ev.reportType,
          entity_level: ev.entityLevel,
          entity_id: r.entityId,
          search_term: searchTerm,
          date: r.date,
          campaign_id: r.campaignId,
          impressions: r.impressions,
          clicks: r.clicks,
          cost_micros: r.costMicros,
          sales_micros: r.salesMicros,
          orders: r.orders,
          units: r.units,
          loaded_at: chDateTime(now),
          version,
        });
      }
    }
  }
  if (daily.length)
    await deps.ch.client.insert({
      table: 'ads_metrics_daily',
      format: 'JSONEachRow',
      values: daily,
      query_id: deps.ch.queryId('load-daily'),
    });
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
  return { rows: daily.length, reportsLoaded: finished.map((e) => e.pendingReportId) };
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
