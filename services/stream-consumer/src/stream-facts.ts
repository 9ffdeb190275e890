/**
 * The module that owns the ClickHouse tables Marketing Stream records land in:
 * `stream_traffic_hourly`, `stream_conversion_hourly`, `stream_budget_usage`,
 * `stream_budget_recommendations`, `stream_sb_clickstream_hourly`, `stream_sb_rich_media_hourly` and
 * `stream_campaign_recommendations` (ReplacingMergeTrees keyed by the record's idempotency id, or
 * what identifies a record without one, so a redelivery lands once).
 */
import { chString, type ClickHouse } from '@adsync/shared/db/clickhouse';
import type { RowValues, StreamTable } from './records.ts';
import { ownerFilter } from '@adsync/shared/reports/ads-metrics';
import type { ReportOwner } from '@adsync/shared/reports/report-owner';

export async function insertStreamRows(ch: ClickHouse, table: StreamTable, values: RowValues[]): Promise<void> {
  await ch.client.insert({ table, format: 'JSONEachRow', values, query_id: ch.queryId(`stream-${table}`) });
}

/**
 * One owner-local day of the Stream per campaign (a profile's, or a DSP advertiser account's): traffic from one dataset, and conversions
 * (orders, sales, units over one attribution window) from another.
 */
export async function streamDayTotals(
  ch: ClickHouse,
  o: { owner: ReportOwner; day: string; traffic: string; conversion: string; window: string },
): Promise<{ traffic: Record<string, string | number>[]; conversion: Record<string, string | number>[] }> {
  const q = async (query: string) =>
    (await ch.client.query({ query, format: 'JSONEachRow' })).json<Record<string, string | number>>();
  const where = `${ownerFilter(o.owner)} AND local_date = toDate(${chString(o.day)})`;
  const [traffic, conversion] = await Promise.all([
    q(
      `SELECT campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost_micros) AS cost_micros
         FROM stream_traffic_hourly FINAL WHERE ${where} AND dataset_id = ${chString(o.traffic)} GROUP BY campaign_id`,
    ),
    q(
      `SELECT campaign_id, sum(conversions_${o.window}) AS orders, sum(sales_micros_${o.window}) AS sales_micros,
              sum(units_${o.window}) AS units
         FROM stream_conversion_hourly FINAL WHERE ${where} AND dataset_id = ${chString(o.conversion)} GROUP BY campaign_id`,
    ),
  ]);
  return { traffic, conversion };
}
