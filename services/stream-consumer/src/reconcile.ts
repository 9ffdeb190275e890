/**
 * Marketing Stream reconciled with the daily reports: when a campaign report lands (the
 * report.loaded event), each of its days is compared per campaign and metric with the sum of
 * that day's hourly records (the profile's local day, as Amazon stamps both). Amazon documents
 * no tolerance ("small discrepancies are normal", amazon-marketing-stream-faq.md), so it is
 * configurable; money is compared in micros after the reports' own cent rounding.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { findProfile } from '@adsync/shared/accounts/profiles';
import { campaignDayTotals } from '@adsync/shared/reports/ads-metrics';
import { streamDayTotals } from './stream-facts.ts';
import { coveredWholeDay } from './subscriptions.ts';
import type { Logger } from '@adsync/shared/logger';
import { addDays } from '@adsync/shared/calendar';
import { forgetReconciledDay, recordReconciledDay, type Mismatch } from '@adsync/shared/streams/reconciliation';

/** Which Stream datasets and attribution window stand for each campaign report's headline columns. */
export const RECONCILED: Record<string, { traffic: string; conversion: string; window: string }> = {
  spCampaigns: { traffic: 'sp-traffic', conversion: 'sp-conversion', window: '7d' },
  sbCampaigns: { traffic: 'sb-traffic', conversion: 'sb-conversion', window: '14d' },
  sdCampaigns: { traffic: 'sd-traffic', conversion: 'sd-conversion', window: '14d' },
  // DSP: per order, spend as totalCost, conversions the 14-day promoted purchases (adsp-performance.md).
  dspCampaign: { traffic: 'adsp-traffic', conversion: 'adsp-conversion', window: '14d' },
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
  const [{ traffic, conversion }, reportRows, profile] = await Promise.all([
    streamDayTotals(deps.ch, { profileId, day, ...spec }),
    campaignDayTotals(deps.ch, { profileId, reportType, day }),
    findProfile(deps.db, profileId),
  ]);
  // Only a day the Stream covered whole: both datasets' subscriptions confirmed before it began (in the
  // profile's zone) and not archived before it ended. A day half before the subscription is not a gap.
  if (
    !profile ||
    !(await coveredWholeDay(deps.db, profileId, [spec.traffic, spec.conversion], day, profile.timezone))
  ) {
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
  // An advertiser account's report (no profile): its Stream hours land (profile '' and its advertiser),
  // but the reconciliation tables are per profile, and '' would mix advertisers: not compared yet.
  if (!RECONCILED[e.reportType] || !e.profileId) return 0;
  let days = 0;
  for (let d = e.startDate; d <= e.endDate; d = addDays(d, 1))
    if ((await reconcileDay(deps, e.profileId, e.reportType, d)).compared) days++;
  return days;
}
