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
import { parquetWriteBuffer } from 'hyparquet-writer';
import { route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import { hash32, intBetween } from './hash-random.ts';
import { isRefusal, sendError, type Access, type Documented, type GateResult } from './amazon/endpoint.ts';
import type { AmcExecution, AmcSchedule } from './amc-state.ts';

// amc-runner's tests name the execution record from here.
export type { AmcExecution } from './amc-state.ts';

export const AMC_MAX_IN_FLIGHT = 10;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$/;
const WORKFLOW_ID = /^[A-Za-z0-9._-]{1,200}$/;
const WINDOW_TYPES = ['EXPLICIT', 'MOST_RECENT_DAY', 'MOST_RECENT_WEEK', 'CURRENT_MONTH', 'PREVIOUS_MONTH', 'ALL'];

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

/** What an AMC handler is given once the gateway and AMC's headers have let the request through. */
export interface AmcCtx {
  req: Req;
  /** The path's {instanceId}: every AMC operation is an instance's. */
  instanceId: string;
  /** The JSON body as parsed ({} when absent, null when it is not JSON); its shape is the handler's to judge. */
  body: Record<string, unknown> | null;
  /** {advertiserId, marketplaceId} from the headers, kept on what runs later (schedules, executions). */
  headers: Record<string, string>;
  /** Refuses in AMC's shape: {code: "<status>", details}. */
  fail(status: number, details: string): void;
  ok(body: unknown): void;
}

/** One AMC operation: what the OpenAPI document says of it (AMC has no model here) and its handler. */
export interface AmcEndpoint extends Documented {
  handle(ctx: AmcCtx): void;
}

/** Every AMC operation names the advertiser and the marketplace (checked in this order), kept as these fields. */
const AMC_HEADERS = {
  advertiserId: 'Amazon-Advertising-API-AdvertiserId',
  marketplaceId: 'Amazon-Advertising-API-MarketplaceId',
};

/**
 * Turns AMC's declarations into routes: the gateway (token and client id; AMC has no model, so its
 * refusals are the universal format of errors.md, as its guides show), AMC's headers, then the handler.
 */
export function amcEndpointRoutes(
  state: SandboxState,
  endpoints: AmcEndpoint[],
  authorise: (req: Req, access: Access) => GateResult,
): Route[] {
  return endpoints.map((ep) =>
    route(ep.method, ep.path, (req, res) => {
      const who = authorise(req, 'none');
      if (isRefusal(who)) return sendError(state, res, null, who.status, who.problem);
      const fail = (status: number, details: string) => send(res, status, { code: String(status), details });
      const headers: Record<string, string> = {};
      for (const [field, name] of Object.entries(AMC_HEADERS)) {
        const value = req.headers[name.toLowerCase()];
        if (typeof value !== 'string' || !value) return fail(400, `${name} header is required`);
        headers[field] = value;
      }
      ep.handle({
        req,
        instanceId: req.params.instanceId!,
        body: jsonBody<Record<string, unknown>>(req),
        headers,
        fail,
        ok: (body) => send(res, 200, body),
      });
    }),
  );
}

/** AMC's operations; amcEndpointRoutes serves them, and the sandbox's OpenAPI document (the fuzzer's) lists them. */
export function amcEndpoints(state: SandboxState): AmcEndpoint[] {
  return [...workflowEndpoints(state), ...scheduleEndpoints(state), ...executionEndpoints(state)];
}

/** Workflows and schedules are an instance's, by their id. */
const key = (instanceId: string, id: string) => `${instanceId}|${id}`;

/** A page of a list AMC pages by nextToken (an offset here, base64url), and the next page's token. */
function paged<T>(name: string, all: T[], query: URLSearchParams, limit: number, as: (x: T) => unknown = (x) => x) {
  const start = Number(Buffer.from(query.get('nextToken') ?? '', 'base64url').toString() || 0) || 0;
  return {
    [name]: all.slice(start, start + limit).map(as),
    ...(start + limit < all.length ? { nextToken: Buffer.from(String(start + limit)).toString('base64url') } : {}),
  };
}

/** The page size a list operation's `limit` asks for (1 to 100, 100 by default). */
const limitOf = (query: URLSearchParams) => Math.min(Math.max(Number(query.get('limit') ?? 100) || 100, 1), 100);

const workflowBody = {
  type: 'object',
  required: ['workflowId', 'sqlQuery'],
  properties: {
    workflowId: { type: 'string' },
    sqlQuery: { type: 'string' },
    inputParameters: { type: 'array', items: { type: 'object' } },
  },
};

/** Why a workflow body (create or update) is refused, or null. */
function workflowProblem(b: Record<string, unknown> | null): string | null {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return 'request body is not a JSON object';
  if (typeof b.workflowId !== 'string' || !WORKFLOW_ID.test(b.workflowId))
    return 'workflowId is required and may only contain alphanumeric characters, periods, dashes and underscores';
  if (typeof b.sqlQuery !== 'string' || !b.sqlQuery.trim()) return 'sqlQuery is required';
  if (b.inputParameters !== undefined && !Array.isArray(b.inputParameters)) return 'inputParameters must be an array';
  return null;
}

/** Saved workflows (create-workflow.md): create, list, get, update, delete. */
function workflowEndpoints(state: SandboxState): AmcEndpoint[] {
  const workflows = state.amcWorkflows;
  const path = '/amc/reporting/{instanceId}/workflows';
  const doc = 'create-workflow.md';
  return [
    {
      method: 'POST',
      path,
      summary: 'create a workflow',
      doc: 'en-us/guides/amazon-marketing-cloud/reporting/create-workflow.md',
      bodyDoc: workflowBody,
      handle: ({ instanceId, body: b, fail, ok }) => {
        const problem = workflowProblem(b);
        if (problem) return fail(400, problem);
        const id = String(b!.workflowId);
        if (workflows.has(key(instanceId, id))) return fail(400, `Workflow with ID ${id} already exists.`);
        const now = state.now().toISOString();
        workflows.set(key(instanceId, id), {
          workflowId: id,
          sqlQuery: String(b!.sqlQuery),
          inputParameters: b!.inputParameters as unknown[] | undefined,
          createdAt: now,
          updatedAt: now,
        });
        ok({});
      },
    },
    {
      method: 'GET',
      path,
      summary: 'list workflows',
      doc,
      query: { limit: { type: 'integer' }, nextToken: { type: 'string' } },
      handle: ({ req, instanceId, ok }) => {
        const all = [...workflows.entries()]
          .filter(([k]) => k.startsWith(`${instanceId}|`))
          .map(([, w]) => ({
            workflowId: w.workflowId,
            sqlQuery: w.sqlQuery,
            ...(w.inputParameters ? { inputParameters: w.inputParameters } : {}),
          }));
        ok(paged('workflows', all, req.query, limitOf(req.query)));
      },
    },
    {
      method: 'GET',
      path: `${path}/{workflowId}`,
      summary: 'get a workflow',
      doc,
      handle: ({ req, instanceId, fail, ok }) => {
        const w = workflows.get(key(instanceId, req.params.workflowId!));
        if (!w) return fail(404, `Workflow ${req.params.workflowId} not found`);
        ok(w);
      },
    },
    {
      method: 'PUT',
      path: `${path}/{workflowId}`,
      summary: 'update a workflow',
      doc,
      bodyDoc: workflowBody,
      handle: ({ req, instanceId, body: b, fail, ok }) => {
        const w = workflows.get(key(instanceId, req.params.workflowId!));
        if (!w) return fail(404, `Workflow ${req.params.workflowId} not found`);
        const problem = workflowProblem(b);
        if (problem) return fail(400, problem);
        if (b!.workflowId !== w.workflowId) return fail(400, 'workflowId in the body must match the path');
        w.sqlQuery = String(b!.sqlQuery);
        w.inputParameters = b!.inputParameters as unknown[] | undefined;
        w.updatedAt = state.now().toISOString();
        ok({});
      },
    },
    {
      method: 'DELETE',
      path: `${path}/{workflowId}`,
      summary: 'delete a workflow',
      doc,
      handle: ({ req, instanceId, fail, ok }) => {
        const workflowId = req.params.workflowId!;
        if (!workflows.has(key(instanceId, workflowId))) return fail(404, `Workflow ${workflowId} not found`);
        // A workflow a schedule runs cannot go (the wording is ours: Amazon's docs do not quote it).
        const users = [...state.amcSchedules.values()]
          .filter((x) => x.instanceId === instanceId && x.workflowId === workflowId)
          .map((x) => x.scheduleId);
        if (users.length > 0)
          return fail(
            400,
            `Workflow ${workflowId} cannot be deleted because it is used by schedule(s) ${users.join(', ')}. Delete the schedule(s) first.`,
          );
        workflows.delete(key(instanceId, workflowId));
        ok({});
      },
    },
  ];
}

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

/** The fields of a schedule's create or update body, or why it is refused. */
function parseSchedule(
  state: SandboxState,
  b: Record<string, unknown> | null,
  instanceId: string,
): { error: string } | { value: Omit<AmcSchedule, 'instanceId' | 'lastRunAt' | 'headers'> } {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return { error: 'request body is not a JSON object' };
  if (typeof b.scheduleId !== 'string' || !WORKFLOW_ID.test(b.scheduleId))
    return {
      error: 'scheduleId is required and may only contain alphanumeric characters, periods, dashes and underscores',
    };
  if (typeof b.workflowId !== 'string' || !WORKFLOW_ID.test(b.workflowId)) return { error: 'workflowId is required' };
  if (!state.amcWorkflows.has(key(instanceId, b.workflowId)))
    return { error: `Workflow ${b.workflowId} does not exist` };
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
}

/**
 * The schedules resource (schedule-workflow.md; fields from the Workflow Management Service
 * model): create, list, get, update (same structure as create), delete. A schedule names a
 * saved workflow; enabling or changing it never back-fills runs from before.
 */
function scheduleEndpoints(state: SandboxState): AmcEndpoint[] {
  const schedules = state.amcSchedules;
  const path = '/amc/reporting/{instanceId}/schedules';
  const doc = 'schedule-workflow.md';
  const scheduleView = (x: AmcSchedule) => ({
    scheduleId: x.scheduleId,
    workflowId: x.workflowId,
    aggregationPeriod: x.aggregationPeriod,
    aggregationHourUtc: x.aggregationHourUtc,
    ...(x.aggregationPeriod === 'Weekly' ? { aggregationStartDay: x.aggregationStartDay } : {}),
    scheduleEnabled: x.scheduleEnabled,
  });
  return [
    {
      method: 'POST',
      path,
      summary: 'create a schedule',
      doc: 'en-us/guides/amazon-marketing-cloud/reporting/schedule-workflow.md',
      bodyDoc: scheduleBody,
      handle: ({ instanceId, body, headers, fail, ok }) => {
        const parsed = parseSchedule(state, body, instanceId);
        if ('error' in parsed) return fail(400, parsed.error);
        const k = key(instanceId, parsed.value.scheduleId);
        if (schedules.has(k)) return fail(400, `Schedule with ID ${parsed.value.scheduleId} already exists.`);
        schedules.set(k, { ...parsed.value, instanceId, lastRunAt: state.now().getTime(), headers });
        ok({});
      },
    },
    {
      method: 'GET',
      path,
      summary: 'list schedules',
      doc,
      query: { limit: { type: 'integer' }, nextToken: { type: 'string' } },
      handle: ({ req, instanceId, ok }) => {
        const all = [...schedules.values()].filter((x) => x.instanceId === instanceId).map(scheduleView);
        ok(paged('schedules', all, req.query, limitOf(req.query)));
      },
    },
    {
      method: 'GET',
      path: `${path}/{scheduleId}`,
      summary: 'get a schedule',
      doc,
      handle: ({ req, instanceId, fail, ok }) => {
        const x = schedules.get(key(instanceId, req.params.scheduleId!));
        if (!x) return fail(404, `Schedule ${req.params.scheduleId} not found`);
        ok(scheduleView(x));
      },
    },
    {
      method: 'PUT',
      path: `${path}/{scheduleId}`,
      summary: 'update a schedule',
      doc,
      bodyDoc: scheduleBody,
      handle: ({ req, instanceId, body, fail, ok }) => {
        const x = schedules.get(key(instanceId, req.params.scheduleId!));
        if (!x) return fail(404, `Schedule ${req.params.scheduleId} not found`);
        const parsed = parseSchedule(state, body, instanceId);
        if ('error' in parsed) return fail(400, parsed.error);
        if (parsed.value.scheduleId !== x.scheduleId) return fail(400, 'scheduleId in the body must match the path');
        // Runs start from the change on: a re-enabled or re-timed schedule does not catch up.
        runSchedules(state, instanceId);
        Object.assign(x, parsed.value, { lastRunAt: Math.max(x.lastRunAt, state.now().getTime()) });
        ok({});
      },
    },
    {
      method: 'DELETE',
      path: `${path}/{scheduleId}`,
      summary: 'delete a schedule',
      doc,
      handle: ({ req, instanceId, fail, ok }) => {
        const k = key(instanceId, req.params.scheduleId!);
        if (!schedules.has(k)) return fail(404, `Schedule ${req.params.scheduleId} not found`);
        runSchedules(state, instanceId);
        schedules.delete(k);
        ok({});
      },
    },
  ];
}

/** Which workflow an execution request runs and over which window type, or why it is refused. */
function parseExecution(
  state: SandboxState,
  instanceId: string,
  b: Record<string, unknown> | null,
): { error: string } | { workflowId: string; type: string } {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return { error: 'request body is not a JSON object' };
  // A saved workflow by id, or an ad-hoc one carrying its SQL (ad-hoc-workflow.md).
  let workflowId: string;
  if (b.workflow !== undefined) {
    const w = b.workflow as Record<string, unknown> | null;
    if (!w || typeof w !== 'object' || typeof w.sqlQuery !== 'string' || !w.sqlQuery.trim())
      return { error: 'workflow.sqlQuery is required for an ad-hoc workflow' };
    workflowId = `transient_${randomUUID()}`;
  } else {
    if (typeof b.workflowId !== 'string') return { error: 'workflowId is required if a workflow is not provided' };
    if (!state.amcWorkflows.has(key(instanceId, b.workflowId)))
      return { error: `Workflow ${b.workflowId} does not exist` };
    workflowId = b.workflowId;
  }
  const type = b.timeWindowType ?? 'MOST_RECENT_DAY';
  if (typeof type !== 'string' || !WINDOW_TYPES.includes(type))
    return { error: `timeWindowType ${String(type)} is not supported; use one of ${WINDOW_TYPES.join(', ')}` };
  if (type === 'EXPLICIT' && (!ISO_LOCAL.test(String(b.timeWindowStart)) || !ISO_LOCAL.test(String(b.timeWindowEnd))))
    return { error: 'timeWindowStart and timeWindowEnd must be yyyy-MM-ddTHH:mm:ss for EXPLICIT windows' };
  if (type === 'EXPLICIT' && !(isRealLocalTime(String(b.timeWindowStart)) && isRealLocalTime(String(b.timeWindowEnd))))
    return { error: 'timeWindowStart and timeWindowEnd must be dates and times that exist' };
  if (type === 'EXPLICIT' && String(b.timeWindowStart) >= String(b.timeWindowEnd))
    return { error: 'timeWindowStart must be before timeWindowEnd' };
  if (
    b.timeWindowTimeZone !== undefined &&
    (typeof b.timeWindowTimeZone !== 'string' || !validTimeZone(b.timeWindowTimeZone))
  )
    return { error: `timeWindowTimeZone ${String(b.timeWindowTimeZone)} is not a valid time zone` };
  if (type === 'EXPLICIT') {
    // An instance holds 13 months of data and none yet to come (how-amc-works.md); the wording is ours.
    const tz = typeof b.timeWindowTimeZone === 'string' ? b.timeWindowTimeZone : 'UTC';
    const [limit] = amcWindowLimits(
      utcMs(zonedToUtc(String(b.timeWindowStart), tz)),
      utcMs(zonedToUtc(String(b.timeWindowEnd), tz)),
      state.now(),
    );
    if (limit) return { error: limit };
  }
  if (b.outputFormat !== undefined && b.outputFormat !== 'CSV' && b.outputFormat !== 'PARQUET')
    return { error: 'outputFormat must be CSV or PARQUET' };
  if (
    b.parameterValues !== undefined &&
    (typeof b.parameterValues !== 'object' || b.parameterValues === null || Array.isArray(b.parameterValues))
  )
    return { error: 'parameterValues must be an object' };
  return { workflowId, type };
}

/** The signature of an execution's result URL (the presigned S3 URL AMC hands out). */
const signatureOf = (state: SandboxState, e: AmcExecution) =>
  createHmac('sha256', state.signingKey).update(`amc|${e.workflowExecutionId}`).digest('hex');

/** Workflow executions (execute-workflow.md): run, list, status, cancel, and their results' URLs (get-your-results.md). */
function executionEndpoints(state: SandboxState): AmcEndpoint[] {
  const executions = state.amcExecutions;
  const path = '/amc/reporting/{instanceId}/workflowExecutions';
  const doc = 'execute-workflow.md';
  /** The instance's execution the path names, or the 404 for it. */
  const executionAt = ({ req, instanceId, fail }: AmcCtx): AmcExecution | undefined => {
    const e = executions.get(req.params.executionId!);
    if (e && e.instanceId === instanceId) return e;
    fail(404, `Workflow execution ${req.params.executionId} not found`);
    return undefined;
  };
  return [
    {
      method: 'POST',
      path,
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
      handle: ({ instanceId, body: b, headers, fail, ok }) => {
        state.amcRequests.push({ instanceId, body: b, at: Date.now() });
        const parsed = parseExecution(state, instanceId, b);
        if ('error' in parsed) return fail(400, parsed.error);
        const { workflowId, type } = parsed;
        schedule(state, instanceId);
        const live = [...executions.values()].filter(
          (e) => e.instanceId === instanceId && ['PENDING', 'RUNNING'].includes(executionStatus(state, e)),
        );
        const overlapping =
          type === 'EXPLICIT' &&
          live.find(
            (e) =>
              e.workflowId === workflowId &&
              String(e.request.timeWindowStart) < String(b!.timeWindowEnd) &&
              String(b!.timeWindowStart) < String(e.request.timeWindowEnd),
          );
        // execute-workflow.md: executions over the same, overlapping input are refused with this message.
        if (overlapping)
          return fail(
            400,
            `Execution "${overlapping.workflowExecutionId}" of workflow "${workflowId}" could not be run because too many workflows have already been run against the same input data sources in the same or overlapping time windows.`,
          );
        if (b!.ignoreDataGaps !== undefined && !['boolean', 'string'].includes(typeof b!.ignoreDataGaps))
          return fail(400, 'ignoreDataGaps must be a boolean');
        const e: AmcExecution = {
          workflowExecutionId: randomUUID(),
          instanceId,
          workflowId,
          category: 'AD_HOC',
          folder: 'adhoc',
          // Amazon's sample notebook sends the string "True".
          ignoreDataGaps: b!.ignoreDataGaps === true || String(b!.ignoreDataGaps).toLowerCase() === 'true',
          gaps: null,
          request: { ...b, timeWindowType: type },
          createdAt: state.now().getTime(),
          startedAt: null,
          durationMs: state.faults.amcExecutionMs,
          cancelled: false,
          fail: state.faults.failAmcWorkflows.includes(workflowId),
          headers,
        };
        executions.set(e.workflowExecutionId, e);
        schedule(state, instanceId);
        ok(view(state, e));
      },
    },
    {
      method: 'GET',
      path,
      summary: 'list executions',
      doc,
      query: {
        workflowId: { type: 'string' },
        minCreationTime: { type: 'string' },
        maxCreationTime: { type: 'string' },
        sortAscending: { type: 'boolean' },
        includeCancelled: { type: 'boolean' },
        nextToken: { type: 'string' },
      },
      handle: ({ req, instanceId, fail, ok }) => {
        schedule(state, instanceId);
        const minCreation = req.query.get('minCreationTime');
        if (minCreation !== null && !ISO_LOCAL.test(minCreation))
          return fail(400, 'minCreationTime must be yyyy-MM-ddTHH:mm:ss');
        const maxCreation = req.query.get('maxCreationTime');
        if (maxCreation !== null && !ISO_LOCAL.test(maxCreation))
          return fail(400, 'maxCreationTime must be yyyy-MM-ddTHH:mm:ss');
        const workflowId = req.query.get('workflowId');
        const includeCancelled = req.query.get('includeCancelled') !== 'false';
        const ascending = req.query.get('sortAscending') !== 'false';
        const all = [...executions.values()]
          .filter(
            (e) =>
              e.instanceId === instanceId &&
              (!workflowId || e.workflowId === workflowId) &&
              (!minCreation || e.createdAt >= utcMs(minCreation)) &&
              (!maxCreation || e.createdAt <= utcMs(maxCreation)) &&
              (includeCancelled || !e.cancelled),
          )
          .sort((a, b) => (ascending ? a.createdAt - b.createdAt : b.createdAt - a.createdAt));
        ok(paged('executions', all, req.query, 100, (e) => view(state, e)));
      },
    },
    {
      method: 'GET',
      path: `${path}/{executionId}`,
      summary: 'execution status',
      doc,
      handle: (ctx) => {
        schedule(state, ctx.instanceId);
        const e = executionAt(ctx);
        if (e) ctx.ok(view(state, e));
      },
    },
    {
      method: 'DELETE',
      path: `${path}/{executionId}`,
      summary: 'cancel an execution',
      doc,
      handle: (ctx) => {
        const e = executionAt(ctx);
        if (!e) return;
        e.cancelled = true;
        schedule(state, e.instanceId);
        ctx.ok(view(state, e));
      },
    },
    {
      method: 'GET',
      path: `${path}/{executionId}/downloadUrls`,
      summary: 'download URLs',
      doc: 'en-us/guides/amazon-marketing-cloud/reporting/get-your-results.md',
      handle: (ctx) => {
        schedule(state, ctx.instanceId);
        const e = executionAt(ctx);
        if (!e) return;
        // get-your-results.md: "Execution with ID … is unavailable for download."
        if (executionStatus(state, e) !== 'SUCCEEDED')
          return ctx.fail(400, `Execution with ID ${e.workflowExecutionId} is unavailable for download.`);
        resultFile(state, e);
        const ext = e.request.outputFormat === 'PARQUET' ? 'parquet' : 'csv';
        ctx.ok({
          downloadUrls: [
            `${state.baseUrl()}/_download/amc/${e.workflowExecutionId}/part-00000.${ext}?X-Amz-Signature=${signatureOf(state, e)}`,
          ],
          metadataDownloadUrls: [],
        });
      },
    },
  ];
}

/** The presigned result download (S3: no Amazon headers; an XML error when the signature is wrong). */
export function amcDownloadRoutes(state: SandboxState): Route[] {
  return [
    route('GET', '/_download/amc/{executionId}/{file}', (req, res) => {
      const e = state.amcExecutions.get(req.params.executionId!);
      if (!e || !e.file || req.query.get('X-Amz-Signature') !== signatureOf(state, e))
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
