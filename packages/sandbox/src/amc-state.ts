/**
 * What AMC remembers: workflows, schedules and executions. Kept apart from the routes
 * so that state.ts can hold it without importing them: they import state.ts.
 */

export interface AmcWorkflow {
  workflowId: string;
  sqlQuery: string;
  inputParameters?: unknown[];
  createdAt: string;
  updatedAt: string;
}

export interface AmcSchedule {
  instanceId: string;
  scheduleId: string;
  workflowId: string;
  aggregationPeriod: 'Daily' | 'Weekly';
  aggregationHourUtc: number;
  aggregationStartDay: string;
  scheduleEnabled: boolean;
  /** The last run time whose execution has been started; runs are never back-filled from before creation or enabling. */
  lastRunAt: number;
  headers: Record<string, string>;
}

export interface AmcExecution {
  workflowExecutionId: string;
  instanceId: string;
  workflowId: string;
  /** AD_HOC for executions a caller created; SCHEDULED for the ones a schedule started. */
  category: 'AD_HOC' | 'SCHEDULED';
  scheduleId?: string;
  /** The output folder's schedule segment (get-your-results.md): adhoc, daily or weekly. */
  folder: 'adhoc' | 'daily' | 'weekly';
  /** Run on the data there is, listing gaps, instead of waiting for it. */
  ignoreDataGaps: boolean;
  /** The gaps (UTC, clipped to the window) when the execution got its slot; they shape its rows. */
  gaps: { startTime: string; endTime: string }[] | null;
  request: Record<string, unknown>;
  createdAt: number;
  /** When the execution got one of the instance's 10 slots (null while queued behind them). */
  startedAt: number | null;
  /** Fixed when the execution is created, so changing the knob later does not rewrite history. */
  durationMs: number;
  cancelled: boolean;
  fail: boolean;
  headers: Record<string, string>;
  file?: Buffer;
  rowCount?: number;
}
