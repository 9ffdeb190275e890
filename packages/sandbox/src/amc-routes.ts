/**
 * Amazon Marketing Cloud reporting (en-us/guides/amazon-marketing-cloud/reporting/*.md):
 * saved workflows (create, get, list, update, delete); schedules (schedule-workflow.md:
 * Daily or Weekly at an hour UTC, on a start day), which start executions of their own as
 * the sandbox clock passes each run time; workflow executions of a saved
 * workflow or an ad-hoc one, over a time window (PENDING → RUNNING → SUCCEEDED, or
 * FAILED/CANCELLED), answered flat with AMC's fields; executions beyond the 10 an
 * instance runs in parallel wait as PENDING (the limit queues, it does not refuse);
 * the documented refusal of executions over the same, overlapping input; download
 * URLs that are "unavailable for download" until the execution succeeded; results
 * as CSV or Parquet. Errors are {code: "<status>", details}.
 *
 * Data gaps (the `amcDataGaps` knob): an execution over missing data waits PENDING ("waiting
 * for data to become available", execute-workflow.md) unless it sent ignoreDataGaps, in which
 * case it runs on the data there is, lists the gap, and its rows are short by the share of the
 * window the gap covers.
 */
import { amcWindowLimits, isRealLocalTime } from '@adsync/shared/amazon/amc';
import { zonedToUtc } from '@adsync/shared/calendar';
import { createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import { hash32, intBetween } from './hash-random.ts';
import type { Documented } from './amazon/endpoint.ts';

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

export const AMC_MAX_IN_FLIGHT = 10;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$/;
const WORKFLOW_ID = /^[A-Za-z0-9._-]{1,200}$/;
const WINDOW_TYPES = ['EXPLICIT', 'MOST_RECENT_DAY', 'MOST_RECENT_WEEK', 'CURRENT_MONTH', 'PREVIOUS_MONTH', 'ALL'];

const amcError = (res: ServerResponse, status: number, details: string) =>
  send(res, status, { code: String(status), details });

export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const DAY_MS = 86_400_000;
const isoSecond = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const utcMs = (local: string) => Date.parse(`${local.replace(/Z$/, '')}Z`);

/** The run times of a schedule after `after` up to `until` (schedule-workflow.md: at aggregationHourUtc, daily or on the start day). */
export function runTimes(s: AmcSchedule, after: number, until: number, max = 1000): number[] {
  const out: number[] = [];
  const d0 = new Date(after);
  let t = Date.UTC(d0.getUTCFullYear(), d0.getUTCMonth(), d0.getUTCDate(), s.aggregationHourUtc);
  while (t <= until && out.length < max) {
    const weekdayOk = s.aggregationPeriod === 'Daily' || DAYS[new Date(t).getUTCDay()] === s.aggregationStartDay;
    if (t > after && weekdayOk) out.push(t);
    t += DAY_MS;
  }
  return out;
}

/**
 * Starts the executions an instance's enabled schedules owe by now: one per run time, over the
 * period that ends at it ("from the previous Tuesday at the specified offset until the current
 * Tuesday at the same hour", schedule-workflow.md), created at the run time itself.
 */
function runSchedules(state: SandboxState, instanceId: string): void {
  const now = state.now().getTime();
  for (const s of state.amcSchedules.values()) {
    if (s.instanceId !== instanceId || !s.scheduleEnabled) continue;
    for (const t of runTimes(s, s.lastRunAt, now)) {
      const period = s.aggregationPeriod === 'Daily' ? DAY_MS : 7 * DAY_MS;
      const e: AmcExecution = {
        workflowExecutionId: randomUUID(),
        instanceId,
        workflowId: s.workflowId,
        category: 'SCHEDULED',
        scheduleId: s.scheduleId,
        folder: s.aggregationPeriod === 'Daily' ? 'daily' : 'weekly',
        ignoreDataGaps: false,
        gaps: null,
        request: {
          workflowId: s.workflowId,
          timeWindowType: 'EXPLICIT',
          timeWindowStart: isoSecond(t - period),
          timeWindowEnd: isoSecond(t),
          timeWindowTimeZone: 'UTC',
          outputFormat: 'CSV',
        },
        createdAt: t,
        startedAt: null,
        durationMs: state.faults.amcExecutionMs,
        cancelled: false,
        fail: state.faults.failAmcWorkflows.includes(s.workflowId),
        headers: s.headers,
      };
      state.amcExecutions.set(e.workflowExecutionId, e);
      s.lastRunAt = t;
    }
  }
}

/** The UTC span of an execution's window, or null for relative windows. */
function windowOf(e: AmcExecution): { start: number; end: number } | null {
  const r = e.request;
  if (typeof r.timeWindowStart !== 'string' || typeof r.timeWindowEnd !== 'string') return null;
  const tz = typeof r.timeWindowTimeZone === 'string' ? r.timeWindowTimeZone : 'UTC';
  return { start: utcMs(zonedToUtc(r.timeWindowStart, tz)), end: utcMs(zonedToUtc(r.timeWindowEnd, tz)) };
}

/** The knob's open gaps that overlap the execution's window, clipped to it. */
function openGaps(state: SandboxState, e: AmcExecution): { startTime: string; endTime: string }[] {
  const w = windowOf(e);
  if (!w) return [];
  return state.faults.amcDataGaps
    .map((g) => ({ start: Math.max(utcMs(g.startTime), w.start), end: Math.min(utcMs(g.endTime), w.end) }))
    .filter((g) => g.start < g.end)
    .map((g) => ({ startTime: isoSecond(g.start), endTime: isoSecond(g.end) }));
}

/** Gives queued executions a slot as running ones finish: 10 at a time per instance; executions waiting for data wait. */
function schedule(state: SandboxState, instanceId: string): void {
  runSchedules(state, instanceId);
  const now = state.now().getTime();
  const mine = [...state.amcExecutions.values()]
    .filter((e) => e.instanceId === instanceId && !e.cancelled)
    .sort((a, b) => a.createdAt - b.createdAt);
  let running = mine.filter((e) => e.startedAt !== null && now - e.startedAt < e.durationMs).length;
  for (const e of mine) {
    if (e.startedAt !== null || running >= AMC_MAX_IN_FLIGHT) continue;
    const gaps = openGaps(state, e);
    if (gaps.length > 0 && !e.ignoreDataGaps) continue;
    e.gaps = gaps;
    e.startedAt = now;
    running++;
  }
}

function executionStatus(
  state: SandboxState,
  e: AmcExecution,
): 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' {
  if (e.cancelled) return 'CANCELLED';
  if (e.startedAt === null) return 'PENDING';
  const age = state.now().getTime() - e.startedAt;
  if (age < e.durationMs / 2) return 'PENDING';
  if (age < e.durationMs) return 'RUNNING';
  return e.fail ? 'FAILED' : 'SUCCEEDED';
}

/** The result rows an execution produces: deterministic from its id and window. */
export function amcResultRows(
  state: SandboxState,
  e: AmcExecution,
): { campaign: string; impressions: number; reach: number; conversions: number; new_to_brand: number }[] {
  const seed =
    state.dataset.seed ^ hash32(0, `${e.workflowId}|${e.request.timeWindowStart}|${e.request.timeWindowEnd}`);
  const n = intBetween(seed, 'rows', 5, 40);
  // Over a data gap the execution only sees the rest of the window.
  const w = windowOf(e);
  const missing = (e.gaps ?? []).reduce((sum, g) => sum + utcMs(g.endTime) - utcMs(g.startTime), 0);
  const coverage = w && missing > 0 ? Math.max(0, 1 - missing / (w.end - w.start)) : 1;
  return Array.from({ length: n }, (_, i) => {
    const impressions = Math.floor(intBetween(seed, `imp${i}`, 100, 100_000) * coverage);
    const reach = Math.floor(impressions * (0.3 + (hash32(seed, `r${i}`) % 50) / 100));
    const conversions = Math.floor(intBetween(seed, `c${i}`, 0, 500) * coverage);
    return {
      campaign: `Campaign ${i + 1}`,
      impressions,
      reach,
      conversions,
      new_to_brand: Math.floor(conversions / 2),
    };
  });
}

const csvCell = (v: unknown) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function resultFile(state: SandboxState, e: AmcExecution): Buffer {
  if (e.file) return e.file;
  const rows = amcResultRows(state, e);
  e.rowCount = rows.length;
  if (e.request.outputFormat === 'PARQUET') {
    const ab = parquetWriteBuffer({
      columnData: [
        { name: 'campaign', data: rows.map((r) => r.campaign), type: 'STRING' },
        { name: 'impressions', data: rows.map((r) => BigInt(r.impressions)), type: 'INT64' },
        { name: 'reach', data: rows.map((r) => BigInt(r.reach)), type: 'INT64' },
        { name: 'conversions', data: rows.map((r) => BigInt(r.conversions)), type: 'INT64' },
        { name: 'new_to_brand', data: rows.map((r) => BigInt(r.new_to_brand)), type: 'INT64' },
      ],
    });
    e.file = Buffer.from(ab);
  } else {
    const header = 'campaign,impressions,reach,conversions,new_to_brand';
    e.file = Buffer.from(
      [
        header,
        ...rows.map((r) => [r.campaign, r.impressions, r.reach, r.conversions, r.new_to_brand].map(csvCell).join(',')),
      ].join('\n') + '\n',
    );
  }
  return e.file;
}

/** An execution as AMC answers it (execute-workflow.md sample): flat, times in UTC, the caller's window echoed as *Original. */
function view(state: SandboxState, e: AmcExecution) {
  const status = executionStatus(state, e);
  const r = e.request;
  const tz = typeof r.timeWindowTimeZone === 'string' ? r.timeWindowTimeZone : 'UTC';
  const utc = (local: unknown) => (typeof local === 'string' ? zonedToUtc(local, tz) : undefined);
  const end = Date.parse(utc(r.timeWindowEnd) ?? '');
  // AMC data lags ~48 h: an ad-hoc window ending inside it reports the missing span as a data gap
  // (a schedule's run waits until AMC has the period's data, so its output lands hours later).
  const lagStart = state.now().getTime() - 48 * 3600_000;
  const lagGap =
    e.category === 'AD_HOC' && Number.isFinite(end) && end > lagStart
      ? [
          {
            startTime: new Date(Math.max(lagStart, Date.parse(utc(r.timeWindowStart) ?? '') || lagStart))
              .toISOString()
              .slice(0, 19),
            endTime: String(r.timeWindowEnd).replace(/Z$/, ''),
            reason: 'DATA_NOT_YET_AVAILABLE',
          },
        ]
      : [];
  const missing = (e.gaps ?? (e.startedAt === null ? openGaps(state, e) : [])).map((g) => ({
    ...g,
    reason: 'DATA_NOT_AVAILABLE',
  }));
  const dataGaps = [...missing, ...lagGap];
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    workflowExecutionId: e.workflowExecutionId,
    workflowId: e.workflowId,
    // AD_HOC is the documented value (execute-workflow.md); SCHEDULED for a schedule's runs is our reading.
    executionCategory: e.category,
    ...(e.scheduleId ? { scheduleId: e.scheduleId } : {}),
    status,
    statusReason:
      status === 'FAILED'
        ? 'Query execution failed: internal error'
        : status === 'CANCELLED'
          ? 'Cancelled by user'
          : undefined,
    timeWindowType: r.timeWindowType ?? 'MOST_RECENT_DAY',
    timeWindowStart: utc(r.timeWindowStart),
    timeWindowEnd: utc(r.timeWindowEnd),
    timeWindowStartOriginal: r.timeWindowStart,
    timeWindowEndOriginal: r.timeWindowEnd,
    timeWindowTimeZoneOriginal: tz,
    outputFormat: r.outputFormat ?? 'CSV',
    parameterValues: r.parameterValues ?? {},
    ignoreDataGaps: e.ignoreDataGaps,
    workflowExecutionTimeoutSeconds: Number(r.workflowExecutionTimeoutSeconds ?? 21600),
    disableAggregationControls: false,
    createTime: iso(e.createdAt),
    lastUpdatedTime: iso(state.now().getTime()),
    expireTime: iso(e.createdAt + 86_400_000),
    dataGaps,
    outputS3URI:
      status === 'SUCCEEDED'
        ? `s3://amc-sandbox-${e.instanceId}/workflow=${e.workflowId}/schedule=${e.folder}/execution=${e.workflowExecutionId}/`
        : undefined,
  };
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const workflowBody = {
  type: 'object',
  required: ['workflowId', 'sqlQuery'],
  properties: {
    workflowId: { type: 'string' },
    sqlQuery: { type: 'string' },
    inputParameters: { type: 'array', items: { type: 'object' } },
  },
};
const scheduleBody = {
  type: 'object',
  required: ['scheduleId', 'workflowId', 'aggregationPeriod'],
  properties: {
    scheduleId: { type: 'string' },
    workflowId: { type: 'string' },
    aggregationPeriod: { type: 'string', enum: ['Daily', 'Weekly'] },
    aggregationHourUtc: { type: 'integer', minimum: 0, maximum: 23 },
    aggregationStartDay: { type: 'string', enum: [...DAYS] },
    scheduleEnabled: { type: 'boolean' },
  },
};
/** The AMC operations, for the sandbox's OpenAPI document (the fuzzer). */
export const AMC_DOCUMENTED: Documented[] = [
  {
    method: 'POST',
    path: '/amc/reporting/{instanceId}/workflows',
    summary: 'create a workflow',
    doc: 'en-us/guides/amazon-marketing-cloud/reporting/create-workflow.md',
    bodyDoc: workflowBody,
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/workflows',
    summary: 'list workflows',
    doc: 'create-workflow.md',
    query: { limit: { type: 'integer' }, nextToken: { type: 'string' } },
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/workflows/{workflowId}',
    summary: 'get a workflow',
    doc: 'create-workflow.md',
  },
  {
    method: 'PUT',
    path: '/amc/reporting/{instanceId}/workflows/{workflowId}',
    summary: 'update a workflow',
    doc: 'create-workflow.md',
    bodyDoc: workflowBody,
  },
  {
    method: 'DELETE',
    path: '/amc/reporting/{instanceId}/workflows/{workflowId}',
    summary: 'delete a workflow',
    doc: 'create-workflow.md',
  },
  {
    method: 'POST',
    path: '/amc/reporting/{instanceId}/schedules',
    summary: 'create a schedule',
    doc: 'en-us/guides/amazon-marketing-cloud/reporting/schedule-workflow.md',
    bodyDoc: scheduleBody,
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/schedules',
    summary: 'list schedules',
    doc: 'schedule-workflow.md',
    query: { limit: { type: 'integer' }, nextToken: { type: 'string' } },
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/schedules/{scheduleId}',
    summary: 'get a schedule',
    doc: 'schedule-workflow.md',
  },
  {
    method: 'PUT',
    path: '/amc/reporting/{instanceId}/schedules/{scheduleId}',
    summary: 'update a schedule',
    doc: 'schedule-workflow.md',
    bodyDoc: scheduleBody,
  },
  {
    method: 'DELETE',
    path: '/amc/reporting/{instanceId}/schedules/{scheduleId}',
    summary: 'delete a schedule',
    doc: 'schedule-workflow.md',
  },
  {
    method: 'POST',
    path: '/amc/reporting/{instanceId}/workflowExecutions',
    summary: 'execute a workflow',
    doc: 'en-us/guides/amazon-marketing-cloud/reporting/execute-workflow.md',
    bodyDoc: {
      type: 'object',
      properties: {
        workflowId: { type: 'string' },
        workflow: { type: 'object', properties: { sqlQuery: { type: 'string' } } },
        timeWindowType: { type: 'string', enum: WINDOW_TYPES },
        timeWindowStart: { type: 'string' },
        timeWindowEnd: { type: 'string' },
        timeWindowTimeZone: { type: 'string' },
        outputFormat: { type: 'string' },
        parameterValues: { type: 'object' },
        ignoreDataGaps: { type: 'boolean' },
        workflowExecutionTimeoutSeconds: { type: 'integer' },
      },
    },
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/workflowExecutions',
    summary: 'list executions',
    doc: 'execute-workflow.md',
    query: {
      workflowId: { type: 'string' },
      minCreationTime: { type: 'string' },
      maxCreationTime: { type: 'string' },
      sortAscending: { type: 'boolean' },
      includeCancelled: { type: 'boolean' },
      nextToken: { type: 'string' },
    },
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/workflowExecutions/{executionId}',
    summary: 'execution status',
    doc: 'execute-workflow.md',
  },
  {
    method: 'DELETE',
    path: '/amc/reporting/{instanceId}/workflowExecutions/{executionId}',
    summary: 'cancel an execution',
    doc: 'execute-workflow.md',
  },
  {
    method: 'GET',
    path: '/amc/reporting/{instanceId}/workflowExecutions/{executionId}/downloadUrls',
    summary: 'download URLs',
    doc: 'en-us/guides/amazon-marketing-cloud/reporting/get-your-results.md',
  },
];

export function amcRoutes(state: SandboxState, authorise: (req: Req, res: ServerResponse) => boolean): Route[] {
  const workflows = state.amcWorkflows;
  const executions = state.amcExecutions;
  const needAmcHeaders = (req: Req, res: ServerResponse): boolean => {
    if (!authorise(req, res)) return false;
    for (const h of ['amazon-advertising-api-advertiserid', 'amazon-advertising-api-marketplaceid']) {
      if (typeof req.headers[h] !== 'string' || !req.headers[h]) {
        amcError(
          res,
          400,
          `${h === 'amazon-advertising-api-advertiserid' ? 'Amazon-Advertising-API-AdvertiserId' : 'Amazon-Advertising-API-MarketplaceId'} header is required`,
        );
        return false;
      }
    }
    return true;
  };
  const key = (instanceId: string, workflowId: string) => `${instanceId}|${workflowId}`;

  const checkWorkflow = (b: Record<string, unknown> | null, res: ServerResponse): boolean => {
    if (!b || typeof b !== 'object' || Array.isArray(b))
      return (amcError(res, 400, 'request body is not a JSON object'), false);
    if (typeof b.workflowId !== 'string' || !WORKFLOW_ID.test(b.workflowId))
      return (
        amcError(
          res,
          400,
          'workflowId is required and may only contain alphanumeric characters, periods, dashes and underscores',
        ),
        false
      );
    if (typeof b.sqlQuery !== 'string' || !b.sqlQuery.trim())
      return (amcError(res, 400, 'sqlQuery is required'), false);
    if (b.inputParameters !== undefined && !Array.isArray(b.inputParameters))
      return (amcError(res, 400, 'inputParameters must be an array'), false);
    return true;
  };

  return [
    route('POST', '/amc/reporting/{instanceId}/workflows', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const b = jsonBody<Record<string, unknown>>(req);
      if (!checkWorkflow(b, res)) return;
      const id = String(b!.workflowId);
      if (workflows.has(key(req.params.instanceId!, id)))
        return amcError(res, 400, `Workflow with ID ${id} already exists.`);
      const now = state.now().toISOString();
      workflows.set(key(req.params.instanceId!, id), {
        workflowId: id,
        sqlQuery: String(b!.sqlQuery),
        inputParameters: b!.inputParameters as unknown[] | undefined,
        createdAt: now,
        updatedAt: now,
      });
      send(res, 200, {});
    }),
    route('GET', '/amc/reporting/{instanceId}/workflows', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const all = [...workflows.entries()]
        .filter(([k]) => k.startsWith(`${req.params.instanceId}|`))
        .map(([, w]) => ({
          workflowId: w.workflowId,
          sqlQuery: w.sqlQuery,
          ...(w.inputParameters ? { inputParameters: w.inputParameters } : {}),
        }));
      const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 100) || 100, 1), 100);
      const start = Number(Buffer.from(req.query.get('nextToken') ?? '', 'base64url').toString() || 0) || 0;
      const page = all.slice(start, start + limit);
      send(res, 200, {
        workflows: page,
        ...(start + limit < all.length ? { nextToken: Buffer.from(String(start + limit)).toString('base64url') } : {}),
      });
    }),
    route('PUT', '/amc/reporting/{instanceId}/workflows/{workflowId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const b = jsonBody<Record<string, unknown>>(req);
      const w = workflows.get(key(req.params.instanceId!, req.params.workflowId!));
      if (!w) return amcError(res, 404, `Workflow ${req.params.workflowId} not found`);
      if (!checkWorkflow(b, res)) return;
      if (b!.workflowId !== w.workflowId) return amcError(res, 400, 'workflowId in the body must match the path');
      w.sqlQuery = String(b!.sqlQuery);
      w.inputParameters = b!.inputParameters as unknown[] | undefined;
      w.updatedAt = state.now().toISOString();
      send(res, 200, {});
    }),
    route('GET', '/amc/reporting/{instanceId}/workflows/{workflowId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const w = workflows.get(key(req.params.instanceId!, req.params.workflowId!));
      if (!w) return amcError(res, 404, `Workflow ${req.params.workflowId} not found`);
      send(res, 200, w);
    }),
    route('DELETE', '/amc/reporting/{instanceId}/workflows/{workflowId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const k = key(req.params.instanceId!, req.params.workflowId!);
      if (!workflows.has(k)) return amcError(res, 404, `Workflow ${req.params.workflowId} not found`);
      // A workflow a schedule runs cannot go (the wording is ours: Amazon's docs do not quote it).
      const users = [...state.amcSchedules.values()]
        .filter((x) => x.instanceId === req.params.instanceId && x.workflowId === req.params.workflowId)
        .map((x) => x.scheduleId);
      if (users.length > 0)
        return amcError(
          res,
          400,
          `Workflow ${req.params.workflowId} cannot be deleted because it is used by schedule(s) ${users.join(', ')}. Delete the schedule(s) first.`,
        );
      workflows.delete(k);
      send(res, 200, {});
    }),
    ...scheduleRoutes(state, needAmcHeaders, (i, w) => workflows.has(key(i, w))),
    route('POST', '/amc/reporting/{instanceId}/workflowExecutions', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const instanceId = req.params.instanceId!;
      const b = jsonBody<Record<string, unknown>>(req);
      state.amcRequests.push({ instanceId, body: b, at: Date.now() });
      if (!b || typeof b !== 'object' || Array.isArray(b))
        return amcError(res, 400, 'request body is not a JSON object');
      // A saved workflow by id, or an ad-hoc one carrying its SQL (ad-hoc-workflow.md).
      let workflowId: string;
      if (b.workflow !== undefined) {
        const w = b.workflow as Record<string, unknown> | null;
        if (!w || typeof w !== 'object' || typeof w.sqlQuery !== 'string' || !w.sqlQuery.trim())
          return amcError(res, 400, 'workflow.sqlQuery is required for an ad-hoc workflow');
        workflowId = `transient_${randomUUID()}`;
      } else {
        if (typeof b.workflowId !== 'string')
          return amcError(res, 400, 'workflowId is required if a workflow is not provided');
        if (!workflows.has(key(instanceId, b.workflowId)))
          return amcError(res, 400, `Workflow ${b.workflowId} does not exist`);
        workflowId = b.workflowId;
      }
      const type = b.timeWindowType ?? 'MOST_RECENT_DAY';
      if (typeof type !== 'string' || !WINDOW_TYPES.includes(type))
        return amcError(
          res,
          400,
          `timeWindowType ${String(type)} is not supported; use one of ${WINDOW_TYPES.join(', ')}`,
        );
      if (
        type === 'EXPLICIT' &&
        (!ISO_LOCAL.test(String(b.timeWindowStart)) || !ISO_LOCAL.test(String(b.timeWindowEnd)))
      )
        return amcError(res, 400, 'timeWindowStart and timeWindowEnd must be yyyy-MM-ddTHH:mm:ss for EXPLICIT windows');
      if (
        type === 'EXPLICIT' &&
        !(isRealLocalTime(String(b.timeWindowStart)) && isRealLocalTime(String(b.timeWindowEnd)))
      )
        return amcError(res, 400, 'timeWindowStart and timeWindowEnd must be dates and times that exist');
      if (type === 'EXPLICIT' && String(b.timeWindowStart) >= String(b.timeWindowEnd))
        return amcError(res, 400, 'timeWindowStart must be before timeWindowEnd');
      if (
        b.timeWindowTimeZone !== undefined &&
        (typeof b.timeWindowTimeZone !== 'string' || !validTimeZone(b.timeWindowTimeZone))
      )
        return amcError(res, 400, `timeWindowTimeZone ${String(b.timeWindowTimeZone)} is not a valid time zone`);
      if (type === 'EXPLICIT') {
        // An instance holds 13 months of data and none yet to come (how-amc-works.md); the wording is ours.
        const tz = typeof b.timeWindowTimeZone === 'string' ? b.timeWindowTimeZone : 'UTC';
        const [limit] = amcWindowLimits(
          utcMs(zonedToUtc(String(b.timeWindowStart), tz)),
          utcMs(zonedToUtc(String(b.timeWindowEnd), tz)),
          state.now(),
        );
        if (limit) return amcError(res, 400, limit);
      }
      if (b.outputFormat !== undefined && b.outputFormat !== 'CSV' && b.outputFormat !== 'PARQUET')
        return amcError(res, 400, 'outputFormat must be CSV or PARQUET');
      if (
        b.parameterValues !== undefined &&
        (typeof b.parameterValues !== 'object' || b.parameterValues === null || Array.isArray(b.parameterValues))
      )
        return amcError(res, 400, 'parameterValues must be an object');
      schedule(state, instanceId);
      const live = [...executions.values()].filter(
        (e) => e.instanceId === instanceId && ['PENDING', 'RUNNING'].includes(executionStatus(state, e)),
      );
      const overlapping =
        type === 'EXPLICIT' &&
        live.find(
          (e) =>
            e.workflowId === workflowId &&
            String(e.request.timeWindowStart) < String(b.timeWindowEnd) &&
            String(b.timeWindowStart) < String(e.request.timeWindowEnd),
        );
      // execute-workflow.md: executions over the same, overlapping input are refused with this message.
      if (overlapping)
        return amcError(
          res,
          400,
          `Execution "${overlapping.workflowExecutionId}" of workflow "${workflowId}" could not be run because too many workflows have already been run against the same input data sources in the same or overlapping time windows.`,
        );
      if (b.ignoreDataGaps !== undefined && !['boolean', 'string'].includes(typeof b.ignoreDataGaps))
        return amcError(res, 400, 'ignoreDataGaps must be a boolean');
      const e: AmcExecution = {
        workflowExecutionId: randomUUID(),
        instanceId,
        workflowId,
        category: 'AD_HOC',
        folder: 'adhoc',
        // Amazon's sample notebook sends the string "True".
        ignoreDataGaps: b.ignoreDataGaps === true || String(b.ignoreDataGaps).toLowerCase() === 'true',
        gaps: null,
        request: { ...b, timeWindowType: type },
        createdAt: state.now().getTime(),
        startedAt: null,
        durationMs: state.faults.amcExecutionMs,
        cancelled: false,
        fail: state.faults.failAmcWorkflows.includes(workflowId),
        headers: {
          advertiserId: String(req.headers['amazon-advertising-api-advertiserid']),
          marketplaceId: String(req.headers['amazon-advertising-api-marketplaceid']),
        },
      };
      executions.set(e.workflowExecutionId, e);
      schedule(state, instanceId);
      send(res, 200, view(state, e));
    }),
    route('GET', '/amc/reporting/{instanceId}/workflowExecutions', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      schedule(state, req.params.instanceId!);
      const minCreation = req.query.get('minCreationTime');
      if (minCreation !== null && !ISO_LOCAL.test(minCreation))
        return amcError(res, 400, 'minCreationTime must be yyyy-MM-ddTHH:mm:ss');
      const maxCreation = req.query.get('maxCreationTime');
      if (maxCreation !== null && !ISO_LOCAL.test(maxCreation))
        return amcError(res, 400, 'maxCreationTime must be yyyy-MM-ddTHH:mm:ss');
      const workflowId = req.query.get('workflowId');
      const includeCancelled = req.query.get('includeCancelled') !== 'false';
      const ascending = req.query.get('sortAscending') !== 'false';
      const all = [...executions.values()]
        .filter(
          (e) =>
            e.instanceId === req.params.instanceId &&
            (!workflowId || e.workflowId === workflowId) &&
            (!minCreation || e.createdAt >= utcMs(minCreation)) &&
            (!maxCreation || e.createdAt <= utcMs(maxCreation)) &&
            (includeCancelled || !e.cancelled),
        )
        .sort((a, b) => (ascending ? a.createdAt - b.createdAt : b.createdAt - a.createdAt));
      const start = Number(Buffer.from(req.query.get('nextToken') ?? '', 'base64url').toString() || 0) || 0;
      const page = all.slice(start, start + 100);
      send(res, 200, {
        executions: page.map((e) => view(state, e)),
        ...(start + 100 < all.length ? { nextToken: Buffer.from(String(start + 100)).toString('base64url') } : {}),
      });
    }),
    route('GET', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      schedule(state, req.params.instanceId!);
      const e = executions.get(req.params.executionId!);
      if (!e || e.instanceId !== req.params.instanceId)
        return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      send(res, 200, view(state, e));
    }),
    route('DELETE', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const e = executions.get(req.params.executionId!);
      if (!e || e.instanceId !== req.params.instanceId)
        return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      e.cancelled = true;
      schedule(state, e.instanceId);
      send(res, 200, view(state, e));
    }),
    route('GET', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}/downloadUrls', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      schedule(state, req.params.instanceId!);
      const e = executions.get(req.params.executionId!);
      if (!e || e.instanceId !== req.params.instanceId)
        return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      // get-your-results.md: "Execution with ID … is unavailable for download."
      if (executionStatus(state, e) !== 'SUCCEEDED')
        return amcError(res, 400, `Execution with ID ${e.workflowExecutionId} is unavailable for download.`);
      resultFile(state, e);
      const ext = e.request.outputFormat === 'PARQUET' ? 'parquet' : 'csv';
      const sig = createHmac('sha256', state.signingKey).update(`amc|${e.workflowExecutionId}`).digest('hex');
      send(res, 200, {
        downloadUrls: [
          `${state.baseUrl()}/_download/amc/${e.workflowExecutionId}/part-00000.${ext}?X-Amz-Signature=${sig}`,
        ],
        metadataDownloadUrls: [],
      });
    }),
    route('GET', '/_download/amc/{executionId}/{file}', (req, res) => {
      const e = executions.get(req.params.executionId!);
      const sig = e ? createHmac('sha256', state.signingKey).update(`amc|${e.workflowExecutionId}`).digest('hex') : '';
      if (!e || !e.file || req.query.get('X-Amz-Signature') !== sig)
        return send(
          res,
          403,
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
          'application/xml',
        );
      res.writeHead(200, {
        'content-type': e.request.outputFormat === 'PARQUET' ? 'application/octet-stream' : 'text/csv',
        'content-length': e.file.length,
      });
      res.end(e.file);
    }),
  ];
}

/**
 * The schedules resource (schedule-workflow.md; fields from the Workflow Management Service
 * model): create, list, get, update (same structure as create), delete. A schedule names a
 * saved workflow; enabling or changing it never back-fills runs from before.
 */
function scheduleRoutes(
  state: SandboxState,
  needAmcHeaders: (req: Req, res: ServerResponse) => boolean,
  workflowExists: (instanceId: string, workflowId: string) => boolean,
): Route[] {
  const schedules = state.amcSchedules;
  const key = (instanceId: string, scheduleId: string) => `${instanceId}|${scheduleId}`;
  const view = (x: AmcSchedule) => ({
    scheduleId: x.scheduleId,
    workflowId: x.workflowId,
    aggregationPeriod: x.aggregationPeriod,
    aggregationHourUtc: x.aggregationHourUtc,
    ...(x.aggregationPeriod === 'Weekly' ? { aggregationStartDay: x.aggregationStartDay } : {}),
    scheduleEnabled: x.scheduleEnabled,
  });
  /** The fields of a create or update body, or the refusal (Amazon's {code, details}). */
  const parse = (
    b: Record<string, unknown> | null,
    instanceId: string,
  ): { error: string } | { value: Omit<AmcSchedule, 'instanceId' | 'lastRunAt' | 'headers'> } => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return { error: 'request body is not a JSON object' };
    if (typeof b.scheduleId !== 'string' || !WORKFLOW_ID.test(b.scheduleId))
      return {
        error: 'scheduleId is required and may only contain alphanumeric characters, periods, dashes and underscores',
      };
    if (typeof b.workflowId !== 'string' || !WORKFLOW_ID.test(b.workflowId)) return { error: 'workflowId is required' };
    if (!workflowExists(instanceId, b.workflowId)) return { error: `Workflow ${b.workflowId} does not exist` };
    if (b.aggregationPeriod !== 'Daily' && b.aggregationPeriod !== 'Weekly')
      return { error: `aggregationPeriod ${String(b.aggregationPeriod)} is not supported; use one of Daily, Weekly` };
    const hour = b.aggregationHourUtc ?? 0;
    if (typeof hour !== 'number' || !Number.isInteger(hour) || hour < 0 || hour > 23)
      return { error: 'aggregationHourUtc must be an integer from 0 to 23' };
    // schedule-workflow.md: "If not specified, aggregationStartDay will default to the day that the schedule is created".
    const day = b.aggregationStartDay ?? DAYS[state.now().getUTCDay()];
    if (typeof day !== 'string' || !(DAYS as readonly string[]).includes(day))
      return { error: `aggregationStartDay ${String(day)} is not supported; use one of ${DAYS.join(', ')}` };
    if (b.scheduleEnabled !== undefined && typeof b.scheduleEnabled !== 'boolean')
      return { error: 'scheduleEnabled must be a boolean' };
    return {
      value: {
        scheduleId: b.scheduleId,
        workflowId: b.workflowId,
        aggregationPeriod: b.aggregationPeriod,
        aggregationHourUtc: hour,
        aggregationStartDay: day,
        // "To enable a schedule, set the ScheduleEnabled parameter to true."
        scheduleEnabled: b.scheduleEnabled === true,
      },
    };
  };
  return [
    route('POST', '/amc/reporting/{instanceId}/schedules', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const instanceId = req.params.instanceId!;
      const parsed = parse(jsonBody<Record<string, unknown>>(req), instanceId);
      if ('error' in parsed) return amcError(res, 400, parsed.error);
      const k = key(instanceId, parsed.value.scheduleId);
      if (schedules.has(k)) return amcError(res, 400, `Schedule with ID ${parsed.value.scheduleId} already exists.`);
      schedules.set(k, {
        ...parsed.value,
        instanceId,
        lastRunAt: state.now().getTime(),
        headers: {
          advertiserId: String(req.headers['amazon-advertising-api-advertiserid']),
          marketplaceId: String(req.headers['amazon-advertising-api-marketplaceid']),
        },
      });
      send(res, 200, {});
    }),
    route('GET', '/amc/reporting/{instanceId}/schedules', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const all = [...schedules.values()].filter((x) => x.instanceId === req.params.instanceId).map(view);
      const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 100) || 100, 1), 100);
      const start = Number(Buffer.from(req.query.get('nextToken') ?? '', 'base64url').toString() || 0) || 0;
      send(res, 200, {
        schedules: all.slice(start, start + limit),
        ...(start + limit < all.length ? { nextToken: Buffer.from(String(start + limit)).toString('base64url') } : {}),
      });
    }),
    route('GET', '/amc/reporting/{instanceId}/schedules/{scheduleId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const x = schedules.get(key(req.params.instanceId!, req.params.scheduleId!));
      if (!x) return amcError(res, 404, `Schedule ${req.params.scheduleId} not found`);
      send(res, 200, view(x));
    }),
    route('PUT', '/amc/reporting/{instanceId}/schedules/{scheduleId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const instanceId = req.params.instanceId!;
      const x = schedules.get(key(instanceId, req.params.scheduleId!));
      if (!x) return amcError(res, 404, `Schedule ${req.params.scheduleId} not found`);
      const parsed = parse(jsonBody<Record<string, unknown>>(req), instanceId);
      if ('error' in parsed) return amcError(res, 400, parsed.error);
      if (parsed.value.scheduleId !== x.scheduleId)
        return amcError(res, 400, 'scheduleId in the body must match the path');
      // Runs start from the change on: a re-enabled or re-timed schedule does not catch up.
      runSchedules(state, instanceId);
      Object.assign(x, parsed.value, { lastRunAt: Math.max(x.lastRunAt, state.now().getTime()) });
      send(res, 200, {});
    }),
    route('DELETE', '/amc/reporting/{instanceId}/schedules/{scheduleId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const k = key(req.params.instanceId!, req.params.scheduleId!);
      if (!schedules.has(k)) return amcError(res, 404, `Schedule ${req.params.scheduleId} not found`);
      runSchedules(state, req.params.instanceId!);
      schedules.delete(k);
      send(res, 200, {});
    }),
  ];
}
