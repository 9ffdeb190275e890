/** What the AMC pages compute: the execution request from the dialog, and the CSV of results. Pure. */
import type { AmcExecution } from './api.ts';

export const EXECUTION_DONE: ReadonlySet<AmcExecution['status']> = new Set(['completed', 'failed', 'replaced']);

/** A datetime-local value (seconds optional) as AMC's local time, yyyy-MM-ddTHH:mm:ss; null if it is not one. */
export function amcLocalTime(value: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(\.\d+)?$/.exec(value.trim());
  return m ? `${m[1]}${m[2] ?? ':00'}` : null;
}

export interface ExecutionForm {
  workflowId: string;
  instanceId: string;
  timeWindowType: string;
  start: string;
  end: string;
  timeZone: string;
  outputFormat: string;
  parameters: string;
}

/** The body of POST /v1/amc/executions from the dialog's fields, or what is wrong with them, in words. */
export function executionRequest(f: ExecutionForm): { body: Record<string, unknown> } | { problem: string } {
  const body: Record<string, unknown> = {
    workflowId: f.workflowId,
    instanceId: f.instanceId,
    timeWindowType: f.timeWindowType,
    timeWindowTimeZone: f.timeZone.trim() || 'UTC',
  };
  if (f.outputFormat) body.outputFormat = f.outputFormat;
  if (f.timeWindowType === 'EXPLICIT') {
    const start = amcLocalTime(f.start);
    const end = amcLocalTime(f.end);
    if (!start || !end) return { problem: 'An explicit window needs a start and an end, each a date and a time.' };
    if (start >= end) return { problem: 'The window must start before it ends.' };
    body.timeWindowStart = start;
    body.timeWindowEnd = end;
  }
  if (f.parameters.trim()) {
    let values: unknown;
    try {
      values = JSON.parse(f.parameters);
    } catch {
      return { problem: 'Parameters must be a JSON object, e.g. {"campaign_ids": ["123"]}.' };
    }
    if (!values || typeof values !== 'object' || Array.isArray(values))
      return { problem: 'Parameters must be a JSON object, e.g. {"campaign_ids": ["123"]}.' };
    body.parameterValues = values;
  }
  return { body };
}

const cell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // RFC 4180: a field holding a separator, quote or line break is quoted, its quotes doubled;
  // a leading = + - @ is prefixed so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** Rows as CSV (RFC 4180, CRLF), in the columns' order; columns no row has come out empty. */
export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  return (
    [columns, ...rows.map((r) => columns.map((c) => r[c]))].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'
  );
}

/** The columns of a page of results: the execution's when known, else the first row's keys. */
export function resultColumns(declared: unknown, rows: Record<string, unknown>[]): string[] {
  if (Array.isArray(declared) && declared.length && declared.every((c) => typeof c === 'string')) return declared;
  return rows[0] ? Object.keys(rows[0]) : [];
}

/** An execution's window in words: its start and end in its zone, or the relative window AMC was asked. */
export function windowOf(e: AmcExecution): string {
  const type = e.request?.timeWindowType ?? 'EXPLICIT';
  const zone = e.request?.timeWindowTimeZone ?? 'UTC';
  if (e.timeWindowStart && e.timeWindowEnd) return `${e.timeWindowStart} – ${e.timeWindowEnd} ${zone}`;
  return `${type.toLowerCase().replace(/_/g, ' ')} (${zone})`;
}
