/**
 * Marketing Stream reconciled with the daily reports: when a campaign report lands (the
 * report.loaded event), each of its days is compared per campaign and metric with the sum of
 * that day's hourly records (the profile's local day, as Amazon stamps both). Amazon documents
 * no tolerance ("small discrepancies are normal", amazon-marketing-stream-faq.md), so it is
 * configurable; money is compared in micros after the reports' own cent rounding.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { chString } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import { addDays } from '@adsync/shared/calendar';
import { forgetReconciledDay, recordReconciledDay, type Mismatch } from '@adsync/shared/streams/reconciliation';

/** Which Stream datasets and attribution window stand for each campaign report's headline columns. */
export const RECONCILED: Record<string, { traffic: string; conversion: string; window: string }> = {
  spCampaigns: { traffic: 'sp-traffic', conversion: 'sp-conversion', window: '7d' },
  sbCampaigns: { traffic: 'sb-traffic', conversion: 'sb-conversion', window: '14d' },
  sdCampaigns: { traffic: 'sd-traffic', conversion: 'sd-conversion', window: '14d' },
};

export const METRICS = ['impressions', 'clicks', 'cost_micros', 'orders', 'sales_micros', 'units'] as const;
type Sums = Record<(typeof METRICS)[number], number>;

export interface Tolerance {
  /** Share of the report's value a difference may reach. */
  relative: number;
  /** A difference this small never counts (money: rounding). */
  moneyMicros: number;
}

/** Campaign metrics whose Stream sum differs from the report beyond the tolerance. Pure. */
export function compare(report: Map<string, Sums>, stream: Map<string, Sums>, t: Tolerance): Mismatch[] {
  const out: Mismatch[] = [];
  for (const campaignId of [...new Set([...report.keys(), ...stream.keys()])].sort()) {
    const r = report.get(campaignId);
    const s = stream.get(campaignId);
    for (const metric of METRICS) {
      const rv = r?.[metric] ?? 0;
      const sv = s?.[metric] ?? 0;
      const floor = metric.endsWith('_micros') ? t.moneyMicros : 0;
      if (Math.abs(rv - sv) > Math.max(floor, t.relative * Math.abs(rv)))
        out.push({ campaignId, metric, reportValue: rv, streamValue: sv });
    }
  }
  return out;
}

const toSums = (rows: Record<string, string | number>[]) =>
  new Map(
    rows.map((r) => [String(r.campaign_id), Object.fromEntries(METRICS.map((m) => [m, Number(r[m] ?? 0)])) as Sums]),
  );

export interface ReconcileDeps {
  db: Knex;
  ch: ClickHouse;
  log: Logger;
  tolerance: Tolerance;
}

/** Compares one day of one campaign report with the Stream, if the Stream covers that day; records the result. */
export async function reconcileDay(
  deps: ReconcileDeps,
  profileId: string,
  reportType: string,
  day: string,
): Promise<{ compared: boolean; mismatches: Mismatch[] }> {
  const spec = RECONCILED[reportType];
  if (!spec) return { compared: false, mismatches: [] };
  const q = async (query: string) =>
    (await deps.ch.client.query({ query, format: 'JSONEachRow' })).json<Record<string, string | number>>();
  const where = `profile_id = ${chString(profileId)} AND local_date = toDate(${chString(day)})`;
  const [traffic, conversion, reportRows] = await Promise.all([
    q(
      `SELECT campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost_micros) AS cost_micros
         FROM stream_traffic_hourly FINAL WHERE ${where} AND dataset_id = ${chString(spec.traffic)} GROUP BY campaign_id`,
    ),
    q(
      `SELECT campaign_id, sum(conversions_${spec.window}) AS orders, sum(sales_micros_${spec.window}) AS sales_micros,
              sum(units_${spec.window}) AS units
         FROM stream_conversion_hourly FINAL WHERE ${where} AND dataset_id = ${chString(spec.conversion)} GROUP BY campaign_id`,
    ),
    q(
      `SELECT campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost_micros) AS cost_micros,
              sum(orders) AS orders, sum(sales_micros) AS sales_micros, sum(units) AS units
         FROM ads_metrics_daily FINAL
        WHERE profile_id = ${chString(profileId)} AND report_type = ${chString(reportType)} AND entity_level = 'campaign'
          AND date = toDate(${chString(day)})
        GROUP BY campaign_id`,
    ),
  ]);
  // Only a day the Stream covered whole: both datasets' subscriptions confirmed before it began (in the
  // profile's zone) and not archived before it ended. A day half before the subscription is not a gap.
  const live = await deps
    .db('stream_subscriptions as s')
    .join('profiles as p', 'p.profile_id', 's.profile_id')
    .where('s.profile_id', profileId)
    .whereIn('s.dataset_id', [spec.traffic, spec.conversion])
    .whereNotNull('s.confirmed_at')
    .whereRaw(`s.confirmed_at <= (?::date)::timestamp at time zone p.timezone`, [day])
    .where((q) =>
      q
        .whereNot('s.status', 'ARCHIVED')
        .orWhereRaw(`s.updated_at >= ((?::date + 1)::timestamp at time zone p.timezone)`, [day]),
    )
    .countDistinct<{ c: string }[]>('s.dataset_id as c');
  if (Number(live[0]!.c) < 2) {
    await forgetReconciledDay(deps.db, { profileId, reportType, day });
    return { compared: false, mismatches: [] };
  }
  const stream = toSums(traffic);
  for (const [id, c] of toSums(conversion)) {
    const s = stream.get(id) ?? (Object.fromEntries(METRICS.map((m) => [m, 0])) as Sums);
    Object.assign(s, { orders: c.orders, sales_micros: c.sales_micros, units: c.units });
    stream.set(id, s);
  }
  const report = toSums(reportRows);
  const mismatches = compare(report, stream, deps.tolerance);
  await recordReconciledDay(deps.db, {
    profileId,
    reportType,
    day,
    campaigns: new Set([...report.keys(), ...stream.keys()]).size,
    mismatches,
  });
  if (mismatches.length)
    deps.log.warn(
      { profileId, reportType, day, mismatches: mismatches.length },
      'Marketing Stream differs from the daily report',
    );
  return { compared: true, mismatches };
}

/** The report.loaded handler: every day of a campaign report. */
export async function reconcileReport(
  deps: ReconcileDeps,
  e: { profileId: string; reportType: string; startDate: string; endDate: string },
): Promise<number> {
  if (!RECONCILED[e.reportType]) return 0;
  let days = 0;
  for (let d = e.startDate; d <= e.endDate; d = addDays(d, 1))
    if ((await reconcileDay(deps, e.profileId, e.reportType, d)).compared) days++;
  return days;
}
