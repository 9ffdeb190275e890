/** The sandbox's fault knobs. Every one defaults to "behave". */
export interface Faults {
  /** Share of API calls answered 429 (with Retry-After, except report creation). */
  rate429: number;
  /** Share of API calls answered 500/502/503. */
  rate5xx: number;
  /** Added to every response. */
  latencyMs: number;
  /** Retry-After value sent with 429s, seconds. */
  retryAfterSec: number;
  /** Time a report spends PENDING, then the same again PROCESSING. */
  reportGenerationMs: number;
  /** Lifetime of an access token. */
  tokenTtlSec: number;
  /** Lifetime of a report download URL. */
  downloadUrlTtlSec: number;
  /**
   * Report types whose reports end FAILED (and Amazon Attribution reports named
   * attribution:<reportType>[:<groupBy>][@<advertiserId>], refused).
   */
  failReportTypes: string[];
  /** Profiles, and DSP advertiser accounts (Amazon-Ads-AccountId), the credentials cannot access. */
  forbiddenProfiles: string[];
  /** A later pull of the same day returns higher conversions. */
  restatement: boolean;
  /**
   * One in n rows of a day (by its key) is restated away after the first pull: its traffic is
   * judged invalid, it has no impressions left, and Amazon leaves it out. 0 for none.
   */
  restateAwayEvery: number;
  /** Every n-th report row is corrupted (a bad date), 0 for none: rows a loader must dead-letter. */
  badRowEvery: number;
  /** Time an AMC execution takes: PENDING for the first half, RUNNING for the second. */
  amcExecutionMs: number;
  /** AMC workflows whose executions end FAILED. */
  failAmcWorkflows: string[];
  /** Exports end FAILED (200 with an error object, as Amazon answers). */
  failExports: boolean;
  /** Report types that silently leave out SB campaigns created before multi-ad-group campaigns (isMultiAdGroupsEnabled=false). */
  dropNonMultiAdGroupSbFrom: string[];
  /** Report types whose reports complete with no rows at all, as if nothing delivered. */
  emptyReportTypes: string[];
  /**
   * Spans (UTC, yyyy-MM-ddTHH:mm:ss) of AMC data that is missing right now. An execution over one
   * waits PENDING unless it asked to ignore data gaps; then it runs on what there is and lists
   * the gap. Clearing the knob closes the gaps.
   */
  amcDataGaps: { startTime: string; endTime: string }[];
}

export const DEFAULT_FAULTS: Faults = {
  rate429: 0,
  rate5xx: 0,
  latencyMs: 0,
  retryAfterSec: 1,
  reportGenerationMs: 300,
  tokenTtlSec: 3600,
  downloadUrlTtlSec: 3600,
  failReportTypes: [],
  forbiddenProfiles: [],
  restatement: false,
  restateAwayEvery: 0,
  badRowEvery: 0,
  amcExecutionMs: 1000,
  failAmcWorkflows: [],
  failExports: false,
  dropNonMultiAdGroupSbFrom: [],
  emptyReportTypes: [],
  amcDataGaps: [],
};

export function parseFaults(input: Record<string, unknown>): Partial<Faults> {
  const out: Partial<Faults> = {};
  const num = (k: keyof Faults, min: number, max: number) => {
    if (input[k] === undefined) return;
    const v = Number(input[k]);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${k} must be a number between ${min} and ${max}`);
    (out as Record<string, unknown>)[k] = v;
  };
  num('rate429', 0, 1);
  num('rate5xx', 0, 1);
  num('latencyMs', 0, 60_000);
  num('retryAfterSec', 0, 3600);
  num('reportGenerationMs', 0, 3_600_000);
  num('tokenTtlSec', 1, 86_400);
  num('downloadUrlTtlSec', 1, 86_400);
  num('badRowEvery', 0, 1_000_000);
  num('restateAwayEvery', 0, 1_000_000);
  num('amcExecutionMs', 0, 86_400_000);
  for (const k of [
    'failReportTypes',
    'forbiddenProfiles',
    'failAmcWorkflows',
    'dropNonMultiAdGroupSbFrom',
    'emptyReportTypes',
  ] as const) {
    if (input[k] === undefined) continue;
    const v = input[k];
    out[k] = Array.isArray(v) ? v.map(String) : String(v).split(',').filter(Boolean);
  }
  if (input.restatement !== undefined) out.restatement = input.restatement === true || input.restatement === 'true';
  if (input.failExports !== undefined) out.failExports = input.failExports === true || input.failExports === 'true';
  if (input.amcDataGaps !== undefined) {
    const gaps = input.amcDataGaps;
    const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
    if (
      !Array.isArray(gaps) ||
      !gaps.every(
        (g) =>
          g &&
          typeof g === 'object' &&
          ISO.test(String((g as Record<string, unknown>).startTime)) &&
          ISO.test(String((g as Record<string, unknown>).endTime)) &&
          String((g as Record<string, unknown>).startTime) < String((g as Record<string, unknown>).endTime),
      )
    )
      throw new Error('amcDataGaps must be a list of {startTime, endTime} (UTC yyyy-MM-ddTHH:mm:ss, start before end)');
    out.amcDataGaps = gaps.map((g) => ({ startTime: String(g.startTime), endTime: String(g.endTime) }));
  }
  return out;
}
