/**
 * The module that owns `stream_reconciled_days` and `stream_mismatches`: Marketing Stream's
 * hourly sums compared with the daily campaign reports. stream-consumer writes a day each time
 * its report lands (again when it is re-pulled); report-poller's completeness lists the
 * mismatches as gaps, next to the reports' own.
 */
import type { Knex } from '../db/postgres.ts';
import { ownerColumns, ownerMatch, type ReportOwner } from '../reports/report-owner.ts';

export interface Mismatch {
  campaignId: string;
  metric: string;
  reportValue: number;
  streamValue: number;
}

/**
 * Records one day's comparison, replacing what an earlier pull of the same report found. The
 * owner is the report's: a profile, or a DSP advertiser reached only through a manager account.
 */
export async function recordReconciledDay(
  db: Knex,
  day: { owner: ReportOwner; reportType: string; day: string; campaigns: number; mismatches: Mismatch[] },
): Promise<void> {
  await db.transaction(async (tx) => {
    const key = { ...ownerColumns(day.owner), report_type: day.reportType, day: day.day };
    await tx('stream_reconciled_days')
      .where({ ...ownerMatch(day.owner), report_type: day.reportType, day: day.day })
      .delete();
    await tx('stream_reconciled_days').insert({ ...key, campaigns: day.campaigns, mismatches: day.mismatches.length });
    if (day.mismatches.length)
      await tx('stream_mismatches').insert(
        day.mismatches.map((m) => ({
          ...key,
          campaign_id: m.campaignId,
          metric: m.metric,
          report_value: Math.round(m.reportValue),
          stream_value: Math.round(m.streamValue),
        })),
      );
  });
}

/** A day no longer compared (the Stream did not cover it whole) keeps no verdict from before. */
export async function forgetReconciledDay(db: Knex, day: { owner: ReportOwner; reportType: string; day: string }) {
  await db('stream_reconciled_days')
    .where({ ...ownerMatch(day.owner), report_type: day.reportType, day: day.day })
    .delete();
}

const MONEY = /_micros$/;
const show = (metric: string, v: number) => (MONEY.test(metric) ? (v / 1e6).toFixed(2) : String(v));

/** Days whose Stream sums differ from the report, one gap per report type and day, naming each campaign and metric. */
export async function streamMismatchGaps(
  db: Knex,
  owner: ReportOwner,
  from: string,
  to: string,
): Promise<{ reportType: string; day: string; reason: string }[]> {
  const rows: {
    report_type: string;
    day: string;
    campaign_id: string;
    metric: string;
    report_value: string;
    stream_value: string;
  }[] = await db('stream_mismatches')
    .where(ownerMatch(owner))
    .whereBetween('day', [from, to])
    .orderBy(['report_type', 'day', 'campaign_id', 'metric'])
    .select(
      'report_type',
      db.raw("to_char(day, 'YYYY-MM-DD') as day"),
      'campaign_id',
      'metric',
      'report_value',
      'stream_value',
    );
  const byDay = new Map<string, typeof rows>();
  for (const r of rows) {
    const k = `${r.report_type}|${r.day}`;
    byDay.set(k, [...(byDay.get(k) ?? []), r]);
  }
  return [...byDay.values()].map((list) => ({
    reportType: list[0]!.report_type,
    day: list[0]!.day,
    reason: `Marketing Stream's hourly sums differ from the daily report: ${list
      .slice(0, 5)
      .map(
        (m) =>
          `campaign ${m.campaign_id} ${m.metric} report ${show(m.metric, Number(m.report_value))}, stream ${show(m.metric, Number(m.stream_value))}`,
      )
      .join('; ')}${list.length > 5 ? `; and ${list.length - 5} more` : ''}`,
  }));
}
