/**
 * Amazon Marketing Cloud reporting (en-us/guides/amazon-marketing-cloud/reporting/*.md):
 * saved workflows (create, get, list, update, delete); workflow executions of a saved
 * workflow or an ad-hoc one, over a time window (PENDING → RUNNING → SUCCEEDED, or
 * FAILED/CANCELLED), answered flat with AMC's fields; executions beyond the 10 an
 * instance runs in parallel wait as PENDING (the limit queues, it does not refuse);
 * the documented refusal of executions over the same, overlapping input; download
 * URLs that are "unavailable for download" until the execution succeeded; results
 * as CSV or Parquet. Errors are {code: "<status>", details}.
 */
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

export interface AmcExecution {
  workflowExecutionId: string;
  instanceId: string;
  workflowId: string;
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

/** Gives queued executions a slot as running ones finish: 10 at a time per instance. */
function schedule(state: SandboxState, instanceId: string): void {
  const now = state.now().getTime();
  const mine = [...state.amcExecutions.values()]
    .filter((e) => e.instanceId === instanceId && !e.cancelled)
    .sort((a, b) => a.createdAt - b.createdAt);
  let running = mine.filter((e) => e.startedAt !== null && now - e.startedAt < e.durationMs).length;
  for (const e of mine) {
    if (e.startedAt !== null || running >= AMC_MAX_IN_FLIGHT) continue;
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
  return Array.from({ length: n }, (_, i) => {
    const impressions = intBetween(seed, `imp${i}`, 100, 100_000);
    const reach = Math.floor(impressions * (0.3 + (hash32(seed, `r${i}`) % 50) / 100));
    const conversions = intBetween(seed, `c${i}`, 0, 500);
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

/** A wall-clock time in a zone → the UTC instant, as AMC reports windows (execute-workflow.md sample: 00:00 New York → 04:00Z). */
export function zonedToUtc(local: string, timeZone: string): string {
  if (local.endsWith('Z')) return local;
  const asUtc = Date.parse(`${local}Z`);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(asUtc));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - asUtc;
  return new Date(asUtc - offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An execution as AMC answers it (execute-workflow.md sample): flat, times in UTC, the caller's window echoed as *Original. */
function view(state: SandboxState, e: AmcExecution) {
  const status = executionStatus(state, e);
  const r = e.request;
  const tz = typeof r.timeWindowTimeZone === 'string' ? r.timeWindowTimeZone : 'UTC';
  const utc = (local: unknown) => (typeof local === 'string' ? zonedToUtc(local, tz) : undefined);
  const end = Date.parse(utc(r.timeWindowEnd) ?? '');
  // AMC data lags ~48 h: a window ending inside it reports the missing span as a data gap.
  const lagStart = state.now().getTime() - 48 * 3600_000;
  const dataGaps =
    Number.isFinite(end) && end > lagStart
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
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    workflowExecutionId: e.workflowExecutionId,
    workflowId: e.workflowId,
    executionCategory: 'AD_HOC',
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
    ignoreDataGaps: r.ignoreDataGaps === true || r.ignoreDataGaps === 'True' || r.ignoreDataGaps === 'true',
    workflowExecutionTimeoutSeconds: Number(r.workflowExecutionTimeoutSeconds ?? 21600),
    disableAggregationControls: false,
    createTime: iso(e.createdAt),
    lastUpdatedTime: iso(state.now().getTime()),
    expireTime: iso(e.createdAt + 86_400_000),
    dataGaps,
    outputS3URI:
      status === 'SUCCEEDED'
        ? `s3://amc-sandbox-${e.instanceId}/workflow=${e.workflowId}/schedule=adhoc/execution=${e.workflowExecutionId}/`
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
    query: { workflowId: { type: 'string' }, minCreationTime: { type: 'string' }, nextToken: { type: 'string' } },
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
      workflows.delete(k);
      send(res, 200, {});
    }),
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
      if (type === 'EXPLICIT' && String(b.timeWindowStart) >= String(b.timeWindowEnd))
        return amcError(res, 400, 'timeWindowStart must be before timeWindowEnd');
      if (
        b.timeWindowTimeZone !== undefined &&
        (typeof b.timeWindowTimeZone !== 'string' || !validTimeZone(b.timeWindowTimeZone))
      )
        return amcError(res, 400, `timeWindowTimeZone ${String(b.timeWindowTimeZone)} is not a valid time zone`);
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
      const e: AmcExecution = {
        workflowExecutionId: randomUUID(),
        instanceId,
        workflowId,
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
      const workflowId = req.query.get('workflowId');
      const all = [...executions.values()]
        .filter(
          (e) =>
            e.instanceId === req.params.instanceId &&
            (!workflowId || e.workflowId === workflowId) &&
            (!minCreation || e.createdAt >= Date.parse(`${minCreation.replace(/Z$/, '')}Z`)),
        )
        .sort((a, b) => a.createdAt - b.createdAt);
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
