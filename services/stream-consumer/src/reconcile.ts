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
import { accountAdvertisers } from '@adsync/shared/accounts/dsp-advertisers';
import { ownerLogFields, type ReportOwner } from '@adsync/shared/reports/report-owner';

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
  owner: ReportOwner | string,
  reportType: string,
  day: string,
): Promise<{ compared: boolean; mismatches: Mismatch[] }> {
  const spec = RECONCILED[reportType];
  if (!spec) return { compared: false, mismatches: [] };
  const who: ReportOwner = typeof owner === 'string' ? { profileId: owner } : owner;
  const [{ traffic, conversion }, reportRows, timezone] = await Promise.all([
    streamDayTotals(deps.ch, { owner: who, day, ...spec }),
    campaignDayTotals(deps.ch, { owner: who, reportType, day }),
    timezoneOf(deps.db, who),
  ]);
  // Only a day the Stream covered whole: both datasets' subscriptions confirmed before it began (in the
  // owner's zone) and not archived before it ended. A day half before the subscription is not a gap.
  if (!timezone || !(await coveredWholeDay(deps.db, who, [spec.traffic, spec.conversion], day, timezone))) {
    await forgetReconciledDay(deps.db, { owner: who, reportType, day });
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
    owner: who,
    reportType,
    day,
    campaigns: new Set([...report.keys(), ...stream.keys()]).size,
    mismatches,
  });
  if (mismatches.length)
    deps.log.warn(
      { ...ownerLogFields(who), reportType, day, mismatches: mismatches.length },
      'Marketing Stream differs from the daily report',
    );
  return { compared: true, mismatches };
}

/** The zone an owner's days are in: its profile's, or its advertiser account's (undefined: not known). */
async function timezoneOf(db: Knex, owner: ReportOwner): Promise<string | undefined> {
  if (owner.profileId !== undefined) return (await findProfile(db, owner.profileId))?.timezone;
  return (await accountAdvertisers(db, { advertiserIds: [owner.dspAccountId], withInaccessible: true }))[0]?.timezone;
}

/** The report.loaded handler: every day of a campaign report, under its owner. */
export async function reconcileReport(
  deps: ReconcileDeps,
  e: { profileId: string; dspAccountId?: string | null; reportType: string; startDate: string; endDate: string },
): Promise<number> {
  // No owner named (an event from elsewhere): nothing to compare, never every advertiser account at once.
  if (!RECONCILED[e.reportType] || (!e.dspAccountId && !e.profileId)) return 0;
  const owner: ReportOwner = e.dspAccountId ? { dspAccountId: e.dspAccountId } : { profileId: e.profileId };
  let days = 0;
  for (let d = e.startDate; d <= e.endDate; d = addDays(d, 1))
    if ((await reconcileDay(deps, owner, e.reportType, d)).compared) days++;
  return days;
}
