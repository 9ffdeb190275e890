/**
 * Last 7 and 30 days of cost, sales, clicks, impressions and orders on the Postgres
 * entity rows, so entity lists sort and filter without a ClickHouse round trip.
 * Refreshed when etl-loader announces a report loaded (report.loaded); ad groups
 * roll up from their ads.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { chDate, chString } from '@adsync/shared/db/clickhouse';
import { addDays } from '@adsync/shared/calendar';
import type { ReportLoaded } from '@adsync/shared/events/contracts';

const LEVEL_TABLES: Record<string, { table: string; idCol: string; reportTypes: string[]; groupBy: string }[]> = {
  campaign: [
    {
      table: 'entity_campaigns',
      idCol: 'campaign_id',
      reportTypes: ['spCampaigns', 'sbCampaigns', 'sdCampaigns'],
      groupBy: 'entity_id',
    },
  ],
  ad: [
    { table: 'entity_ads', idCol: 'ad_id', reportTypes: ['spAdvertisedProduct'], groupBy: 'entity_id' },
    { table: 'entity_ad_groups', idCol: 'ad_group_id', reportTypes: ['spAdvertisedProduct'], groupBy: 'ad_group_id' },
  ],
  target: [{ table: 'entity_targets', idCol: 'target_id', reportTypes: ['spTargeting'], groupBy: 'entity_id' }],
};

export async function refreshRecentMetrics(
  deps: { db: Knex; ch: ClickHouse },
  ev: Pick<ReportLoaded, 'profileId' | 'entityLevel' | 'reportType'>,
  now: Date,
): Promise<number> {
  const today = now.toISOString().slice(0, 10);
  let updated = 0;
  for (const t of (LEVEL_TABLES[ev.entityLevel] ?? []).filter((x) => x.reportTypes.includes(ev.reportType))) {
    const d7 = chDate(addDays(today, -7));
    const rs = await deps.ch.client.query({
      query: `SELECT ${t.groupBy} AS id,
                sumIf(cost_micros, date >= ${d7}) AS cost_7d_micros, sumIf(sales_micros, date >= ${d7}) AS sales_7d_micros,
                sumIf(clicks, date >= ${d7}) AS clicks_7d, sumIf(impressions, date >= ${d7}) AS impressions_7d, sumIf(orders, date >= ${d7}) AS orders_7d,
                sum(cost_micros) AS cost_30d_micros, sum(sales_micros) AS sales_30d_micros, sum(clicks) AS clicks_30d, sum(impressions) AS impressions_30d, sum(orders) AS orders_30d
              FROM ads_metrics_daily FINAL
              WHERE profile_id = ${chString(ev.profileId)} AND report_type IN (${t.reportTypes.map(chString).join(', ')}) AND date >= ${chDate(addDays(today, -30))}
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
    const res = await deps.db.raw(
      `update ${t.table} e set recent_metrics = x.metrics, recent_metrics_at = now()
       from jsonb_to_recordset(?::jsonb) as x(id text, metrics jsonb)
       where e.profile_id = ? and e.${t.idCol} = x.id`,
      [JSON.stringify(payload), ev.profileId],
    );
    updated += (res as { rowCount?: number }).rowCount ?? 0;
  }
  return updated;
}
