/**
 * Which reports to ask for, and when. Pure.
 *
 * Amazon keeps restating recent days: impressions and clicks settle within about
 * 3 days; attributed conversions arrive 1, 7 and 28 days after the click, so a day
 * can change for ~42 days. Rather than one fixed window, tiers re-pull each age at
 * the rate it still changes. Defaults: the last 3 days daily, day 7 daily, and the
 * last 42 days weekly.
 */
import { MAX_REPORT_DAYS, REPORT_TYPES } from '../amazon/report-catalog.ts';
import { addDays } from '../calendar.ts';
import { PermanentError } from '../runtime/errors.ts';

export interface Tier {
  name: string;
  /** Oldest day of the window, in days before today (profile time zone). */
  fromDaysAgo: number;
  /** Newest day of the window, in days before today. */
  toDaysAgo: number;
  /** Re-pull this window every N days. */
  everyDays: number;
}

export const DEFAULT_TIERS: Tier[] = [
  { name: 'recent', fromDaysAgo: 3, toDaysAgo: 1, everyDays: 1 },
  { name: 'day7', fromDaysAgo: 7, toDaysAgo: 7, everyDays: 1 },
  { name: 'lookback', fromDaysAgo: 42, toDaysAgo: 1, everyDays: 7 },
];

/** "recent:3-1:1,day7:7-7:1,lookback:42-1:7" → tiers; throws naming the bad part. */
export function parseTiers(spec: string): Tier[] {
  return spec.split(',').map((part) => {
    const m = /^\s*([a-z0-9_]+):(\d+)-(\d+):(\d+)\s*$/i.exec(part);
    if (!m) throw new Error(`tier "${part}" is not name:fromDaysAgo-toDaysAgo:everyDays`);
    const t = { name: m[1]!, fromDaysAgo: Number(m[2]), toDaysAgo: Number(m[3]), everyDays: Number(m[4]) };
    if (t.fromDaysAgo < t.toDaysAgo) throw new Error(`tier ${t.name}: fromDaysAgo must be >= toDaysAgo`);
    if (t.everyDays < 1) throw new Error(`tier ${t.name}: everyDays must be >= 1`);
    return t;
  });
}

export { localToday } from '../calendar.ts';

/** Splits an inclusive range into windows Amazon accepts (at most 31 days). */
export function splitWindow(
  start: string,
  end: string,
  maxDays = MAX_REPORT_DAYS,
): { startDate: string; endDate: string }[] {
  const out: { startDate: string; endDate: string }[] = [];
  for (let s = start; s <= end; s = addDays(s, maxDays)) {
    const e = addDays(s, maxDays - 1);
    out.push({ startDate: s, endDate: e < end ? e : end });
  }
  return out;
}

export interface PlannedReport {
  reportTypeId: string;
  startDate: string;
  endDate: string;
  tier: string;
}

export interface PlanInput {
  today: string;
  now: Date;
  reportTypes: string[];
  tiers: Tier[];
  /** When each (report type, tier) was last requested; missing means never. */
  lastRequested: (reportTypeId: string, tier: string) => Date | null;
  /**
   * The newest day each (report type, tier) has asked for. A tier not due yet by the clock still
   * asks for the days its window gained since (the profile's day rolled over): otherwise a run late
   * one local day and another early the next would leave the day between never asked for.
   */
  lastEnd?: (reportTypeId: string, tier: string) => string | null;
}

/**
 * The oldest day Amazon still has for a report type. Amazon counts its retention from
 * its own (UTC) today, which is a day ahead of a profile west of UTC in the evening:
 * counting from the later of the two never asks for a day Amazon has already dropped.
 */
export function oldestDay(today: string, now: Date, retentionDays: number): string {
  const utcToday = now.toISOString().slice(0, 10);
  return addDays(utcToday > today ? utcToday : today, -(retentionDays - 1));
}

/**
 * A backfill of an explicit window [from, to]: each report type in windows its
 * maximum allows, tier `backfill`. The caller has checked the window against
 * retention (windowProblem); here nothing is clipped, so what was asked is what is planned.
 */
export function planWindow(from: string, to: string, reportTypes: string[]): PlannedReport[] {
  return reportTypes.flatMap((reportTypeId) =>
    splitWindow(from, to, REPORT_TYPES[reportTypeId]!.maxDays).map((w) => ({ reportTypeId, ...w, tier: 'backfill' })),
  );
}

/**
 * Why Amazon cannot serve [from, to] of these report types for a profile whose today
 * is `today`, or null: a day that has not ended yet, or one older than the type's
 * retention (the message names the limit and the oldest day still kept).
 */
export function windowProblem(
  from: string,
  to: string,
  reportTypes: string[],
  today: string,
  now: Date = new Date(),
): string | null {
  if (from > to) return `from ${from} is after to ${to}`;
  const yesterday = addDays(today, -1);
  if (to > yesterday) return `to ${to} has not ended yet in the profile's time zone; the latest day is ${yesterday}`;
  for (const t of reportTypes) {
    const spec = REPORT_TYPES[t]!;
    const oldest = oldestDay(today, now, spec.retentionDays);
    if (from < oldest)
      return `${t} keeps ${spec.retentionDays} days: the oldest day Amazon still has is ${oldest}, and from ${from} is older`;
  }
  return null;
}

export function planReports(input: PlanInput): PlannedReport[] {
  const out: PlannedReport[] = [];
  for (const reportTypeId of input.reportTypes) {
    const spec = REPORT_TYPES[reportTypeId];
    if (!spec) throw new PermanentError(`unknown report type ${reportTypeId}`, { code: 'ADSYNC_UNKNOWN_REPORT_TYPE' });
    const oldest = oldestDay(input.today, input.now, spec.retentionDays);
    const ranges = input.tiers
      .map((t) => {
        const last = input.lastRequested(reportTypeId, t.name);
        const start = addDays(input.today, -t.fromDaysAgo);
        const range = { tier: t.name, start: start < oldest ? oldest : start, end: addDays(input.today, -t.toDaysAgo) };
        // An hour of slack so a daily CronJob that runs a little early is still due.
        if (!last || input.now.getTime() - last.getTime() >= t.everyDays * 86_400_000 - 3_600_000) return range;
        // Not due by the clock: only the days the window gained since the last request.
        const lastEnd = input.lastEnd?.(reportTypeId, t.name) ?? null;
        return lastEnd && lastEnd < range.end
          ? { ...range, start: addDays(lastEnd, 1) > range.start ? addDays(lastEnd, 1) : range.start }
          : null;
      })
      .filter((r): r is { tier: string; start: string; end: string } => r !== null && r.start <= r.end);
    // A due tier whose range another due tier covers adds nothing.
    const covers = (o: (typeof ranges)[number], r: (typeof ranges)[number]) => o.start <= r.start && o.end >= r.end;
    const kept = ranges.filter((r, i) => !ranges.some((o, j) => j !== i && covers(o, r) && (!covers(r, o) || j < i)));
    for (const r of kept)
      for (const w of splitWindow(r.start, r.end, windowDays(reportTypeId)))
        out.push({ reportTypeId, ...w, tier: r.tier });
  }
  return out;
}

/** A one-off backfill of the last N days (within retention), in 31-day windows. */
export function planBackfill(
  today: string,
  days: number,
  reportTypes: string[],
  now: Date = new Date(),
): PlannedReport[] {
  return reportTypes.flatMap((reportTypeId) => {
    const spec = REPORT_TYPES[reportTypeId]!;
    const oldest = oldestDay(today, now, spec.retentionDays);
    const start = addDays(today, -days) < oldest ? oldest : addDays(today, -days);
    return splitWindow(start, addDays(today, -1), windowDays(reportTypeId)).map((w) => ({
      reportTypeId,
      ...w,
      tier: 'backfill',
    }));
  });
}

/** Days per planned report: 31, or fewer where the type asks for fewer (a SUMMARY type: one). */
const windowDays = (reportTypeId: string) => Math.min(REPORT_TYPES[reportTypeId]!.maxDays, MAX_REPORT_DAYS);
