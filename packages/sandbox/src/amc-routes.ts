/**
 * Amazon Marketing Cloud reporting: saved workflows, workflow executions over a
 * time window (PENDING → RUNNING → SUCCEEDED, or FAILED/CANCELLED), download URLs
 * that are "unavailable for download" until the execution succeeded, results as
 * CSV or Parquet, at most 10 executions in flight per instance, and rejection of
 * an execution whose window overlaps a running one of the same workflow.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import { hash32, intBetween } from './hash-random.ts';

export interface AmcWorkflow {
  workflowId: string;
  sqlQuery: string;
  createdAt: string;
  updatedAt: string;
}

export interface AmcExecution {
  workflowExecutionId: string;
  instanceId: string;
  workflowId: string;
  request: Record<string, unknown>;
  createdAt: number;
  /** Fixed when the execution is created, so changing the knob later does not rewrite history. */
  durationMs: number;
  cancelled: boolean;
  fail: boolean;
  headers: Record<string, string>;
  file?: Buffer;
  rowCount?: number;
}

export const AMC_MAX_IN_FLIGHT = 10;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

const amcError = (res: ServerResponse, status: number, details: string) => send(res, status, { code: String(status), details });

function executionStatus(state: SandboxState, e: AmcExecution): 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' {
  if (e.cancelled) return 'CANCELLED';
  const age = state.now().getTime() - e.createdAt;
  const gen = e.durationMs;
  if (age < gen / 2) return 'PENDING';
  if (age < gen) return 'RUNNING';
  return e.fail ? 'FAILED' : 'SUCCEEDED';
}

/** The result rows an execution produces: deterministic from its id and window. */
export function amcResultRows(state: SandboxState, e: AmcExecution): { campaign: string; impressions: number; reach: number; conversions: number; new_to_brand: number }[] {
  const seed = state.dataset.seed ^ hash32(0, `${e.workflowId}|${e.request.timeWindowStart}|${e.request.timeWindowEnd}`);
  const n = intBetween(seed, 'rows', 5, 40);
  return Array.from({ length: n }, (_, i) => {
    const impressions = intBetween(seed, `imp${i}`, 100, 100_000);
    const reach = Math.floor(impressions * (0.3 + (hash32(seed, `r${i}`) % 50) / 100));
    const conversions = intBetween(seed, `c${i}`, 0, 500);
    return { campaign: `Campaign ${i + 1}`, impressions, reach, conversions, new_to_brand: Math.floor(conversions / 2) };
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
    e.file = Buffer.from([header, ...rows.map((r) => [r.campaign, r.impressions, r.reach, r.conversions, r.new_to_brand].map(csvCell).join(','))].join('\n') + '\n');
  }
  return e.file;
}

function view(state: SandboxState, e: AmcExecution) {
  const status = executionStatus(state, e);
  const r = e.request;
  const end = Date.parse(`${String(r.timeWindowEnd)}Z`);
  // AMC data lags ~48 h: a window ending inside it reports the missing span as a data gap.
  const lagStart = state.now().getTime() - 48 * 3600_000;
  const dataGaps = Number.isFinite(end) && end > lagStart
    ? [{ startTime: new Date(Math.max(lagStart, Date.parse(`${String(r.timeWindowStart)}Z`))).toISOString().slice(0, 19), endTime: String(r.timeWindowEnd), reason: 'DATA_NOT_YET_AVAILABLE' }]
    : [];
  return {
    workflowExecutionId: e.workflowExecutionId,
    workflowId: e.workflowId,
    status,
    statusReason: status === 'FAILED' ? 'Query execution failed: internal error' : status === 'CANCELLED' ? 'Cancelled by user' : undefined,
    timeWindowType: r.timeWindowType,
    timeWindowStart: r.timeWindowStart,
    timeWindowEnd: r.timeWindowEnd,
    timeWindowTimeZone: r.timeWindowTimeZone,
    outputFormat: r.outputFormat,
    parameterValues: r.parameterValues ?? {},
    createTime: new Date(e.createdAt).toISOString(),
    lastUpdatedTime: state.now().toISOString(),
    dataGaps,
    outputS3URI: status === 'SUCCEEDED' ? `s3://amc-sandbox-${e.instanceId}/workflow=${e.workflowId}/execution=${e.workflowExecutionId}/` : undefined,
  };
}

export function amcRoutes(state: SandboxState, authorise: (req: Req, res: ServerResponse) => boolean): Route[] {
  const workflows = state.amcWorkflows;
  const executions = state.amcExecutions;
  const needAmcHeaders = (req: Req, res: ServerResponse): boolean => {
    if (!authorise(req, res)) return false;
    for (const h of ['amazon-advertising-api-advertiserid', 'amazon-advertising-api-marketplaceid']) {
      if (typeof req.headers[h] !== 'string' || !req.headers[h]) {
        amcError(res, 400, `${h === 'amazon-advertising-api-advertiserid' ? 'Amazon-Advertising-API-AdvertiserId' : 'Amazon-Advertising-API-MarketplaceId'} header is required`);
        return false;
      }
    }
    return true;
  };
  const key = (instanceId: string, workflowId: string) => `${instanceId}|${workflowId}`;

  return [
    route('POST', '/amc/reporting/{instanceId}/workflows', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const b = jsonBody<{ workflowId?: string; sqlQuery?: string }>(req);
      if (!b?.workflowId || !b.sqlQuery) return amcError(res, 400, 'workflowId and sqlQuery are required');
      if (workflows.has(key(req.params.instanceId!, b.workflowId))) return amcError(res, 409, `Workflow ${b.workflowId} already exists`);
      const now = state.now().toISOString();
      workflows.set(key(req.params.instanceId!, b.workflowId), { workflowId: b.workflowId, sqlQuery: b.sqlQuery, createdAt: now, updatedAt: now });
      send(res, 200, { workflowId: b.workflowId });
    }),
    route('PUT', '/amc/reporting/{instanceId}/workflows/{workflowId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const b = jsonBody<{ workflowId?: string; sqlQuery?: string }>(req);
      const w = workflows.get(key(req.params.instanceId!, req.params.workflowId!));
      if (!w) return amcError(res, 404, `Workflow ${req.params.workflowId} not found`);
      if (!b?.sqlQuery) return amcError(res, 400, 'sqlQuery is required');
      w.sqlQuery = b.sqlQuery;
      w.updatedAt = state.now().toISOString();
      send(res, 200, { workflowId: w.workflowId });
    }),
    route('GET', '/amc/reporting/{instanceId}/workflows/{workflowId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const w = workflows.get(key(req.params.instanceId!, req.params.workflowId!));
      if (!w) return amcError(res, 404, `Workflow ${req.params.workflowId} not found`);
      send(res, 200, w);
    }),
    route('POST', '/amc/reporting/{instanceId}/workflowExecutions', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const instanceId = req.params.instanceId!;
      const b = jsonBody<Record<string, unknown>>(req);
      state.amcRequests.push({ instanceId, body: b, at: Date.now() });
      if (!b) return amcError(res, 400, 'request body is not valid JSON');
      if ('workflow' in b || 'sqlQuery' in b) return amcError(res, 400, 'ad-hoc workflows are not accepted; execute a saved workflowId');
      const workflowId = b.workflowId;
      if (typeof workflowId !== 'string' || !workflows.has(key(instanceId, workflowId))) return amcError(res, 400, `Workflow ${String(workflowId)} does not exist`);
      if (b.timeWindowType !== 'EXPLICIT' && b.timeWindowType !== 'MOST_RECENT_DAY' && b.timeWindowType !== 'MOST_RECENT_WEEK' && b.timeWindowType !== 'CURRENT_MONTH' && b.timeWindowType !== 'PREVIOUS_MONTH') return amcError(res, 400, `timeWindowType ${String(b.timeWindowType)} is not supported`);
      if (b.timeWindowType === 'EXPLICIT' && (!ISO_LOCAL.test(String(b.timeWindowStart)) || !ISO_LOCAL.test(String(b.timeWindowEnd)))) return amcError(res, 400, 'timeWindowStart and timeWindowEnd must be yyyy-MM-ddTHH:mm:ss for EXPLICIT windows');
      if (b.outputFormat !== 'CSV' && b.outputFormat !== 'PARQUET') return amcError(res, 400, `outputFormat must be CSV or PARQUET`);
      const inFlight = [...executions.values()].filter((e) => e.instanceId === instanceId && ['PENDING', 'RUNNING'].includes(executionStatus(state, e)));
      if (inFlight.length >= AMC_MAX_IN_FLIGHT) return amcError(res, 429, `Instance ${instanceId} already has ${AMC_MAX_IN_FLIGHT} executions in progress`);
      const overlapping = inFlight.find((e) => e.workflowId === workflowId && String(e.request.timeWindowStart) < String(b.timeWindowEnd) && String(b.timeWindowStart) < String(e.request.timeWindowEnd));
      if (overlapping) return amcError(res, 400, `Execution overlaps the time window of running execution ${overlapping.workflowExecutionId} of workflow ${workflowId}`);
      const e: AmcExecution = {
        workflowExecutionId: randomUUID(), instanceId, workflowId, request: b, createdAt: state.now().getTime(), durationMs: state.faults.amcExecutionMs, cancelled: false,
        fail: state.faults.failAmcWorkflows.includes(workflowId),
        headers: { advertiserId: String(req.headers['amazon-advertising-api-advertiserid']), marketplaceId: String(req.headers['amazon-advertising-api-marketplaceid']) },
      };
      executions.set(e.workflowExecutionId, e);
      send(res, 200, { workflowExecutionId: e.workflowExecutionId });
    }),
    route('GET', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const e = executions.get(req.params.executionId!);
      if (!e || e.instanceId !== req.params.instanceId) return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      send(res, 200, view(state, e));
    }),
    route('DELETE', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const e = executions.get(req.params.executionId!);
      if (!e) return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      e.cancelled = true;
      send(res, 200, view(state, e));
    }),
    route('GET', '/amc/reporting/{instanceId}/workflowExecutions/{executionId}/downloadUrls', (req, res) => {
      if (!needAmcHeaders(req, res)) return;
      const e = executions.get(req.params.executionId!);
      if (!e) return amcError(res, 404, `Workflow execution ${req.params.executionId} not found`);
      if (executionStatus(state, e) !== 'SUCCEEDED') return amcError(res, 400, `Workflow execution ${e.workflowExecutionId} is unavailable for download`);
      resultFile(state, e);
      const ext = e.request.outputFormat === 'PARQUET' ? 'parquet' : 'csv';
      const sig = createHmac('sha256', state.signingKey).update(`amc|${e.workflowExecutionId}`).digest('hex');
      send(res, 200, { downloadUrls: [`${state.baseUrl()}/_download/amc/${e.workflowExecutionId}/part-00000.${ext}?X-Amz-Signature=${sig}`] });
    }),
    route('GET', '/_download/amc/{executionId}/{file}', (req, res) => {
      const e = executions.get(req.params.executionId!);
      const sig = e ? createHmac('sha256', state.signingKey).update(`amc|${e.workflowExecutionId}`).digest('hex') : '';
      if (!e || !e.file || req.query.get('X-Amz-Signature') !== sig) return send(res, 403, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', 'application/xml');
      res.writeHead(200, { 'content-type': e.request.outputFormat === 'PARQUET' ? 'application/octet-stream' : 'text/csv', 'content-length': e.file.length });
      res.end(e.file);
    }),
  ];
}
