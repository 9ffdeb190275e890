/**
 * What a workflow's data-gap policy makes of an execution AMC reports a data gap for. Pure.
 *
 * AMC waits (PENDING) on an execution whose window lacks data unless the execution asked to
 * ignore data gaps; then it runs on the data there is and lists the gap (execute-workflow.md).
 * adsync sends ignoreDataGaps only under `run_anyway`, and a schedule's own runs never send it,
 * so both moments need a decision: while AMC waits, and when a result with a gap arrives.
 */
import type { AmcDataGap, AmcStatus } from '@adsync/shared/amazon/amc';

export const DATA_GAP_POLICIES = ['run_anyway', 'wait_and_rerun', 'fail'] as const;
export type DataGapPolicy = (typeof DATA_GAP_POLICIES)[number];

export const describeGaps = (gaps: AmcDataGap[]): string =>
  gaps.map((g) => `${g.startTime}–${g.endTime}${g.reason ? ` (${g.reason})` : ''}`).join(', ');

export type WaitingDecision =
  | { action: 'keep_waiting' }
  | { action: 'fail'; reason: string }
  | { action: 'replace'; ignoreDataGaps: boolean; notBeforeMs: number; reason: string };

/** AMC is holding the execution for missing data: leave it, fail it, or hand its window to a replacement. */
export function whileWaiting(input: {
  status: AmcStatus | string;
  gaps: AmcDataGap[];
  ignoredGaps: boolean;
  policy: DataGapPolicy;
  /** How long the chain of re-runs for this window has been waiting, and for how long it may. */
  waitedMs: number;
  maxWaitMs: number;
  recheckMs: number;
}): WaitingDecision {
  if (input.status !== 'PENDING' || input.gaps.length === 0 || input.ignoredGaps) return { action: 'keep_waiting' };
  const gaps = describeGaps(input.gaps);
  switch (input.policy) {
    case 'fail':
      return {
        action: 'fail',
        reason: `the window has AMC data gaps (${gaps}); the workflow's data-gap policy is fail`,
      };
    case 'run_anyway':
      return {
        action: 'replace',
        ignoreDataGaps: true,
        notBeforeMs: 0,
        reason: `AMC was waiting for data (${gaps}); policy run_anyway runs the window on the data there is`,
      };
    case 'wait_and_rerun':
      if (input.waitedMs >= input.maxWaitMs)
        return {
          action: 'fail',
          reason: `the data gap (${gaps}) did not close within ${Math.round(input.maxWaitMs / 3600_000)} h (AMC_GAP_MAX_WAIT_MS); policy wait_and_rerun gave up`,
        };
      return {
        action: 'replace',
        ignoreDataGaps: false,
        notBeforeMs: input.recheckMs,
        reason: `AMC was waiting for data (${gaps}); policy wait_and_rerun frees the slot and runs the window again in ${Math.round(input.recheckMs / 60_000)} min`,
      };
  }
}

export interface CompletionDecision {
  load: boolean;
  partial: boolean;
  /** Run the window again after this many ms (the gap may have closed by then). */
  rerunAfterMs: number | null;
  failReason: string | null;
  warning: string | null;
}

/** A SUCCEEDED execution: load it or not, flag it partial, and whether its window runs again. */
export function onCompletion(input: {
  gaps: AmcDataGap[];
  policy: DataGapPolicy;
  waitedMs: number;
  maxWaitMs: number;
  recheckMs: number;
}): CompletionDecision {
  if (input.gaps.length === 0)
    return { load: true, partial: false, rerunAfterMs: null, failReason: null, warning: null };
  const gaps = describeGaps(input.gaps);
  switch (input.policy) {
    case 'fail':
      return {
        load: false,
        partial: true,
        rerunAfterMs: null,
        failReason: `the result has AMC data gaps (${gaps}); the workflow's data-gap policy is fail, so it was not loaded`,
        warning: null,
      };
    case 'run_anyway':
      return {
        load: true,
        partial: true,
        rerunAfterMs: null,
        failReason: null,
        warning: `partial: AMC reported data gaps (${gaps})`,
      };
    case 'wait_and_rerun': {
      const more = input.waitedMs < input.maxWaitMs;
      return {
        load: true,
        partial: true,
        rerunAfterMs: more ? input.recheckMs : null,
        failReason: null,
        warning: more
          ? `partial: AMC reported data gaps (${gaps}); the window runs again in ${Math.round(input.recheckMs / 60_000)} min and the re-run replaces this result`
          : `partial: AMC reported data gaps (${gaps}) that did not close within ${Math.round(input.maxWaitMs / 3600_000)} h; this partial result stands`,
      };
    }
  }
}
