/**
 * What reaches AMC for an execution, and when it is worth a warning. Pure.
 */
export const OUTPUT_FORMATS = ['CSV', 'PARQUET'] as const;
export const TIME_WINDOW_TYPES = [
  'EXPLICIT',
  'MOST_RECENT_DAY',
  'MOST_RECENT_WEEK',
  'CURRENT_MONTH',
  'PREVIOUS_MONTH',
] as const;
export const AMC_DATA_LAG_HOURS = 48;

export interface ExecutionInput {
  workflowId: string;
  timeWindowType?: (typeof TIME_WINDOW_TYPES)[number];
  timeWindowStart?: string;
  timeWindowEnd?: string;
  timeWindowTimeZone?: string;
  outputFormat?: (typeof OUTPUT_FORMATS)[number];
  parameterValues?: Record<string, unknown>;
}

import { amcWindowLimits, isRealLocalTime, type AmcExecutionBody, type AmcStatus } from '@adsync/shared/amazon/amc';
import { zonedToUtc } from '@adsync/shared/calendar';

export type { AmcExecutionBody, AmcStatus };

/** yyyy-MM-ddTHH:mm:ss in UTC for an instant (AMC's local-time format). */
const isoLocal = (d: Date) => d.toISOString().slice(0, 19);

/**
 * Exactly the fields AMC accepts. Without a window, an EXPLICIT one covering the
 * last `defaultDays` whole days that AMC already has: it ends at midnight UTC two
 * days ago, outside AMC's ~48-hour data lag.
 */
export function buildExecutionBody(input: ExecutionInput, now: Date, defaultDays = 7): AmcExecutionBody {
  const type = input.timeWindowType ?? 'EXPLICIT';
  const body: AmcExecutionBody = {
    workflowId: input.workflowId,
    timeWindowType: type,
    timeWindowTimeZone: input.timeWindowTimeZone ?? 'UTC',
    outputFormat: input.outputFormat ?? 'CSV',
    parameterValues: input.parameterValues ?? {},
  };
  if (type === 'EXPLICIT') {
    const endOfWindow = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (AMC_DATA_LAG_HOURS / 24) * 86_400_000,
    );
    body.timeWindowStart =
      input.timeWindowStart ?? isoLocal(new Date(endOfWindow.getTime() - defaultDays * 86_400_000));
    body.timeWindowEnd = input.timeWindowEnd ?? isoLocal(endOfWindow);
  }
  return body;
}

/**
 * Problems with an explicit window that AMC would reject or could only answer with nothing,
 * found before calling it: order, AMC's 13 months of retention, and the future.
 */
export function windowProblems(body: AmcExecutionBody, now: Date): string[] {
  if (body.timeWindowType !== 'EXPLICIT') return [];
  if (!body.timeWindowStart || !body.timeWindowEnd) return ['EXPLICIT windows need timeWindowStart and timeWindowEnd'];
  const unreal = (['timeWindowStart', 'timeWindowEnd'] as const).filter((k) => !isRealLocalTime(body[k]!));
  if (unreal.length) return unreal.map((k) => `${k} ${body[k]} is not a date and time that exists`);
  if (body.timeWindowStart >= body.timeWindowEnd) return ['timeWindowStart must be before timeWindowEnd'];
  const zone = body.timeWindowTimeZone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return [`timeWindowTimeZone ${zone} is not a time zone`];
  }
  const ms = (local: string) => Date.parse(zonedToUtc(local, zone));
  return amcWindowLimits(ms(body.timeWindowStart), ms(body.timeWindowEnd), now);
}

/** A warning when the window ends inside AMC's ~48-hour data lag (results will be incomplete). */
export function lagWarning(body: AmcExecutionBody, now: Date): string | null {
  if (body.timeWindowType !== 'EXPLICIT' || !body.timeWindowEnd) return null;
  const end = Date.parse(`${body.timeWindowEnd}Z`);
  if (end > now.getTime() - AMC_DATA_LAG_HOURS * 3600_000) {
    return `the window ends at ${body.timeWindowEnd}, inside AMC's ~${AMC_DATA_LAG_HOURS}-hour data lag; the latest hours will be missing or incomplete`;
  }
  return null;
}

export function mapStatus(s: AmcStatus | string): 'pending' | 'running' | 'completed' | 'failed' {
  switch (s) {
    case 'PENDING':
      return 'pending';
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'completed';
    default:
      return 'failed';
  }
}
