/**
 * How many profiles one fleet serves: the day's report plan per profile (report-plan.ts, the
 * default tiers and types), what each report costs in Amazon calls and in rows, and the CPU per
 * row measured by bench/lean-job.ts, against the window the day's work has to fit in. Pure.
 *
 * Amazon documents no fixed report rate: reporting limits are regional and fall as its report
 * queue grows (reference/concepts/rate-limiting.md, "spread report requests through the day"),
 * and it promises report generation within 15 minutes at P99 (reference/concepts/limits.md). So
 * the model gives the report creations per second a size needs, to be held against what the
 * 429s of one's own region allow, rather than a limit of its own invention.
 */
import { addDays } from '../calendar.ts';
import { planReports, type Tier } from './report-plan.ts';

/** Reports and report-days one profile asks for per day once past its first day (a steady week's average). */
export function steadyPlan(
  reportTypes: string[],
  tiers: Tier[],
  start = '2026-01-05',
): { reports: number; reportDays: number } {
  const last = new Map<string, Date>();
  const ends = new Map<string, string>();
  let reports = 0;
  let reportDays = 0;
  // Two weeks from a first day: the second week is what every later week looks like.
  for (let d = 0; d < 14; d++) {
    const today = addDays(start, d);
    const now = new Date(`${today}T06:00:00Z`);
    const plan = planReports({
      today,
      now,
      reportTypes,
      tiers,
      lastRequested: (t, tier) => last.get(`${t}|${tier}`) ?? null,
      lastEnd: (t, tier) => ends.get(`${t}|${tier}`) ?? null,
    });
    for (const r of plan) {
      last.set(`${r.reportTypeId}|${r.tier}`, now);
      const end = ends.get(`${r.reportTypeId}|${r.tier}`);
      if (!end || r.endDate > end) ends.set(`${r.reportTypeId}|${r.tier}`, r.endDate);
    }
    if (d >= 7) {
      reports += plan.length;
      reportDays += plan.reduce((n, r) => n + (Date.parse(r.endDate) - Date.parse(r.startDate)) / 86_400_000 + 1, 0);
    }
  }
  return { reports: reports / 7, reportDays: reportDays / 7 };
}

export interface ScaleInputs {
  /** Reports one profile asks for per day (steadyPlan). */
  reportsPerProfileDay: number;
  /** Days those reports cover in all (a day re-pulled by two tiers counts twice). */
  reportDaysPerProfileDay: number;
  /** Rows per report-day (one profile, one type, one day), averaged over the types: the account's size. */
  rowsPerReportDay: number;
  /** Status checks per report until it completes (measured; grows with Amazon's generation time). */
  pollsPerReport: number;
  /** Amazon calls per profile per day outside reports: the entity exports, profiles, DSP lists. */
  otherCallsPerProfileDay: number;
  /** CPU-seconds per 1,000 rows: adsync's services, and Kafka, Postgres and ClickHouse for them. */
  cpuSecPer1000Rows: { services: number; stack: number };
  /** Hours of the day the work is spread over (Amazon asks for requests spread through the day). */
  windowHours: number;
  /** The share of a core a replica is run at (the autoscalers' target). */
  utilisation: number;
}

export interface ScaleRow {
  profiles: number;
  reportsPerDay: number;
  amazonCallsPerDay: number;
  /** Report creations per second over the window: what Amazon's regional report limit must take. */
  reportCreatesPerSecond: number;
  amazonCallsPerSecond: number;
  rowsPerDay: number;
  /** Cores busy over the window, at the target utilisation. */
  serviceCores: number;
  stackCores: number;
}

export function scaleRow(profiles: number, i: ScaleInputs): ScaleRow {
  const reportsPerDay = profiles * i.reportsPerProfileDay;
  // A report: its creation, its status checks, its download.
  const amazonCallsPerDay = reportsPerDay * (2 + i.pollsPerReport) + profiles * i.otherCallsPerProfileDay;
  const rowsPerDay = profiles * i.reportDaysPerProfileDay * i.rowsPerReportDay;
  const window = i.windowHours * 3600;
  const cores = (cpuPer1000: number) => ((rowsPerDay / 1000) * cpuPer1000) / window / i.utilisation;
  return {
    profiles,
    reportsPerDay,
    amazonCallsPerDay,
    reportCreatesPerSecond: reportsPerDay / window,
    amazonCallsPerSecond: amazonCallsPerDay / window,
    rowsPerDay,
    serviceCores: cores(i.cpuSecPer1000Rows.services),
    stackCores: cores(i.cpuSecPer1000Rows.stack),
  };
}
