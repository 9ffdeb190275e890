/**
 * rows.parsed → ClickHouse, in large batches. Rows are keyed by (profile, report
 * type, level, entity, search term, day) in a ReplacingMergeTree versioned by the
 * pull time: a redelivered batch or a report loaded twice collapses to one row,
 * and a newer pull of a restated day replaces the older values. When a report's
 * last batch is durable, the report is marked loaded and the entities' recent
 * metrics in Postgres are refreshed.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { Decoded } from '@adsync/shared/kafka/batch-plan';
import type { RowsParsed } from '@adsync/shared/events/contracts';
import { chDate, chDateTime, chString } from '@adsync/shared/db/clickhouse';
import { addDays } from '@adsync/shared/calendar';

export const RECENT_DAYS = 14;

export interface LoadDeps {
  db: Knex;
  ch: ClickHouse;
  log: Logger;
  now?: () => Date;
}


export async function loadRowsParsed(deps: LoadDeps, events: Decoded<RowsParsed>[]): Promise<{ rows: number; reportsLoaded: string[] }> {
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
        profile_id: ev.profileId, report_type: ev.reportType, entity_level: ev.entityLevel, entity_id: r.entityId, search_term: searchTerm, date: r.date,
        campaign_id: r.campaignId, ad_group_id: r.adGroupId ?? '', currency: r.currency, impressions: r.impressions, clicks: r.clicks, cost_micros: r.costMicros,
        sales_micros: r.salesMicros, orders: r.orders, units: r.units, attributes: JSON.stringify(r.attributes), pending_report_id: ev.pendingReportId, pulled_at: pulledAt, version,
      });
      if (r.date >= recentFrom) {
        recent.push({
          profile_id: ev.profileId, report_type: ev.reportType, entity_level: ev.entityLevel, entity_id: r.entityId, search_term: searchTerm, date: r.date, campaign_id: r.campaignId,
          impressions: r.impressions, clicks: r.clicks, cost_micros: r.costMicros, sales_micros: r.salesMicros, orders: r.orders, units: r.units, loaded_at: chDateTime(now), version,
        });
      }
    }
  }
  if (daily.length) await deps.ch.client.insert({ table: 'ads_metrics_daily', format: 'JSONEachRow', values: daily, query_id: deps.ch.queryId('load-daily') });
  if (recent.length) await deps.ch.client.insert({ table: 'ads_metrics_recent', format: 'JSONEachRow', values: recent, query_id: deps.ch.queryId('load-recent') });

  const finished = events.filter((e) => e.value.lastBatch).map((e) => e.value);
  for (const ev of finished) {
    await deps.db('pending_amazon_reports').where({ id: ev.pendingReportId }).whereIn('status', ['completed', 'loaded']).update({ status: 'loaded', loaded_at: deps.db.fn.now(), updated_at: deps.db.fn.now() });
  }
  const profiles = [...new Set(finished.map((e) => `${e.profileId}|${e.entityLevel}`))];
  for (const key of profiles) {
    const [profileId, level] = key.split('|') as [string, string];
    await refreshRecentMetrics(deps, profileId, level, now);
  }
  return { rows: daily.length, reportsLoaded: finished.map((e) => e.pendingReportId) };
}

const LEVEL_TABLES: Record<string, { table: string; idCol: string; reportTypes: string[]; groupBy: string }> = {
  campaign: { table: 'entity_campaigns', idCol: 'campaign_id', reportTypes: ['spCampaigns', 'sbCampaigns', 'sdCampaigns'], groupBy: 'entity_id' },
  ad: { table: 'entity_ads', idCol: 'ad_id', reportTypes: ['spAdvertisedProduct'], groupBy: 'entity_id' },
  target: { table: 'entity_targets', idCol: 'target_id', reportTypes: ['spTargeting'], groupBy: 'entity_id' },
};

/**
 * Last 7 and 30 days of cost, sales, clicks, impressions and orders on the Postgres
 * entity rows, so entity lists sort and filter without a ClickHouse round trip.
 * Ad groups roll up from their ads.
 */
export async function refreshRecentMetrics(deps: LoadDeps, profileId: string, level: string, now: Date): Promise<void> {
  const targets = level === 'ad' ? [LEVEL_TABLES.ad!, { table: 'entity_ad_groups', idCol: 'ad_group_id', reportTypes: ['spAdvertisedProduct'], groupBy: 'ad_group_id' }] : LEVEL_TABLES[level] ? [LEVEL_TABLES[level]!] : [];
  const today = now.toISOString().slice(0, 10);
  for (const t of targets) {
    const d7 = chDate(addDays(today, -7));
    const rs = await deps.ch.client.query({
      query: `SELECT ${t.groupBy} AS id,
                sumIf(cost_micros, date >= ${d7}) AS cost_7d_micros, sumIf(sales_micros, date >= ${d7}) AS sales_7d_micros,
                sumIf(clicks, date >= ${d7}) AS clicks_7d, sumIf(impressions, date >= ${d7}) AS impressions_7d, sumIf(orders, date >= ${d7}) AS orders_7d,
                sum(cost_micros) AS cost_30d_micros, sum(sales_micros) AS sales_30d_micros, sum(clicks) AS clicks_30d, sum(impressions) AS impressions_30d, sum(orders) AS orders_30d
              FROM ads_metrics_daily FINAL
              WHERE profile_id = ${chString(profileId)} AND report_type IN (${t.reportTypes.map(chString).join(', ')}) AND date >= ${chDate(addDays(today, -30))}
              GROUP BY id`,
      format: 'JSONEachRow',
      query_id: deps.ch.queryId('recent-metrics'),
    });
    const rows = await rs.json<Record<string, string | number>>();
    if (rows.length === 0) continue;
    const payload = rows.map((r) => {
      const { id, ...m } = r;
      return { id: String(id), metrics: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)])) };
    });
    await deps.db.raw(
      `update ${t.table} e set recent_metrics = x.metrics, recent_metrics_at = now()
       from jsonb_to_recordset(?::jsonb) as x(id text, metrics jsonb)
       where e.profile_id = ? and e.${t.idCol} = x.id`,
      [JSON.stringify(payload), profileId],
    );
  }
}

/** Drops streaming-table partitions older than RECENT_DAYS (portable stand-in for TTL). */
export async function pruneRecent(ch: ClickHouse, now: Date): Promise<number> {
  const cutoff = addDays(now.toISOString().slice(0, 10), -RECENT_DAYS);
  const rs = await ch.client.query({ query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${chString(ch.database)} AND table = 'ads_metrics_recent' AND active`, format: 'JSONEachRow' });
  const parts = (await rs.json<{ partition: string }>()).map((p) => p.partition.replace(/'/g, ''));
  const old = parts.filter((p) => /^\d{4}-\d{2}-\d{2}$/.test(p) ? p < cutoff : /^\d{8}$/.test(p) && `${p.slice(0, 4)}-${p.slice(4, 6)}-${p.slice(6)}` < cutoff);
  for (const p of old) await ch.client.command({ query: `ALTER TABLE ads_metrics_recent DROP PARTITION '${p}'` });
  return old.length;
}
