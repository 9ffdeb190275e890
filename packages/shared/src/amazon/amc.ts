/**
 * AMC reporting calls (en-us/guides/amazon-marketing-cloud/reporting/*.md), through the
 * shared Amazon Ads client (tokens, retries, typed errors), paced per instance.
 */
import type { AmazonAdsClient } from './ads-client.ts';

/** The body of POST /workflowExecutions adsync sends: always a saved workflow, never ad-hoc SQL. */
export interface AmcExecutionBody {
  workflowId: string;
  timeWindowType: string;
  timeWindowStart?: string;
  timeWindowEnd?: string;
  timeWindowTimeZone: string;
  outputFormat: string;
  parameterValues: Record<string, unknown>;
  /** Run on the data there is (listing gaps) instead of waiting PENDING for it. */
  ignoreDataGaps?: boolean;
}

export type AmcStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/**
 * AMC keeps 13 months of event-level data: an instance "will always have the most recent 13
 * months" (en-us/guides/amazon-marketing-cloud/how-amc-works.md, admin/instance-management.md).
 */
export const AMC_RETENTION_MONTHS = 13;

/** The earliest instant AMC still holds data for (13 calendar months before now, UTC). Pure. */
export function amcEarliestData(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCMonth(d.getUTCMonth() - AMC_RETENTION_MONTHS);
  return d;
}

/** Whether yyyy-MM-ddTHH:mm:ss (an optional Z) names a moment that exists: no month 13, no 30 February, no hour 24. Pure. */
export function isRealLocalTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z?$/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return (
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === se
  );
}

/**
 * What is wrong with an explicit window (UTC instants) beyond its order: starting before AMC's
 * retention or ending after now, each with the limit named. Pure.
 */
export function amcWindowLimits(startMs: number, endMs: number, now: Date): string[] {
  const problems: string[] = [];
  const earliest = amcEarliestData(now);
  if (endMs > now.getTime())
    problems.push(
      `the time window ends in the future (${new Date(endMs).toISOString()}); it must end by now (${now.toISOString()})`,
    );
  if (startMs < earliest.getTime())
    problems.push(
      `the time window starts ${new Date(startMs).toISOString().slice(0, 10)}, before AMC's ${AMC_RETENTION_MONTHS} months of data (earliest ${earliest.toISOString().slice(0, 10)})`,
    );
  return problems;
}

export interface AmcInstance {
  instance_id: string;
  advertiser_id: string;
  marketplace_id: string;
}

const rateKey = (i: AmcInstance) => `amc:${i.instance_id}`;
const headers = (i: AmcInstance) => ({
  'amazon-advertising-api-advertiserid': i.advertiser_id,
  'amazon-advertising-api-marketplaceid': i.marketplace_id,
});
const base = (i: AmcInstance) => `/amc/reporting/${encodeURIComponent(i.instance_id)}`;

/** A saved workflow as AMC keeps it (create-workflow.md). */
export interface AmcWorkflowDefinition {
  workflowId: string;
  sqlQuery: string;
  inputParameters?: unknown[];
}

const call = <T>(
  client: AmazonAdsClient,
  i: AmcInstance,
  req: Omit<Parameters<AmazonAdsClient['call']>[0], 'headers' | 'rateKey'>,
) => client.call<T>({ ...req, path: `${base(i)}${req.path}`, headers: headers(i), rateKey: rateKey(i) });

const isNotFound = (err: unknown) => (err as { kind?: string }).kind === 'not_found';

/** One saved workflow, or null when AMC has none by that id. Read flat or wrapped ({workflow}): Amazon's guide and its API model differ. */
export async function getWorkflow(
  client: AmazonAdsClient,
  i: AmcInstance,
  workflowId: string,
): Promise<AmcWorkflowDefinition | null> {
  try {
    const res = await call<AmcWorkflowDefinition & { workflow?: AmcWorkflowDefinition }>(client, i, {
      method: 'GET',
      path: `/workflows/${encodeURIComponent(workflowId)}`,
      what: `AMC workflow ${workflowId}`,
    });
    return res.body.workflow ?? res.body;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Every saved workflow of the instance, all pages. */
export async function listWorkflows(client: AmazonAdsClient, i: AmcInstance): Promise<AmcWorkflowDefinition[]> {
  const out: AmcWorkflowDefinition[] = [];
  let nextToken: string | undefined;
  do {
    const res = await call<{ workflows?: AmcWorkflowDefinition[]; nextToken?: string }>(client, i, {
      method: 'GET',
      path: '/workflows',
      query: { nextToken },
      what: 'AMC workflows',
    });
    out.push(...(res.body.workflows ?? []));
    nextToken = res.body.nextToken || undefined;
  } while (nextToken);
  return out;
}

/** Creates the workflow, or updates it when AMC already has one by that id. */
export async function upsertWorkflow(
  client: AmazonAdsClient,
  i: AmcInstance,
  workflow: AmcWorkflowDefinition,
): Promise<'created' | 'updated'> {
  const body = {
    workflowId: workflow.workflowId,
    sqlQuery: workflow.sqlQuery,
    ...(workflow.inputParameters?.length ? { inputParameters: workflow.inputParameters } : {}),
  };
  if ((await getWorkflow(client, i, workflow.workflowId)) === null) {
    await call(client, i, {
      method: 'POST',
      path: '/workflows',
      body,
      what: `create AMC workflow ${workflow.workflowId}`,
    });
    return 'created';
  }
  await call(client, i, {
    method: 'PUT',
    path: `/workflows/${encodeURIComponent(workflow.workflowId)}`,
    body,
    what: `update AMC workflow ${workflow.workflowId}`,
  });
  return 'updated';
}

/** Deletes a saved workflow; AMC refuses while a schedule runs it (the AmazonApiError carries its words). */
export async function deleteWorkflow(
  client: AmazonAdsClient,
  i: AmcInstance,
  workflowId: string,
): Promise<'deleted' | 'absent'> {
  try {
    await call(client, i, {
      method: 'DELETE',
      path: `/workflows/${encodeURIComponent(workflowId)}`,
      what: `delete AMC workflow ${workflowId}`,
    });
    return 'deleted';
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    throw err;
  }
}

/** A schedule (schedule-workflow.md): the workflow runs Daily or Weekly at aggregationHourUtc, weekly on aggregationStartDay. */
export interface AmcScheduleDefinition {
  scheduleId: string;
  workflowId: string;
  aggregationPeriod: 'Daily' | 'Weekly';
  aggregationHourUtc: number;
  aggregationStartDay?: string;
  scheduleEnabled: boolean;
}

export async function createSchedule(client: AmazonAdsClient, i: AmcInstance, s: AmcScheduleDefinition): Promise<void> {
  await call(client, i, { method: 'POST', path: '/schedules', body: s, what: `create AMC schedule ${s.scheduleId}` });
}

export async function updateSchedule(client: AmazonAdsClient, i: AmcInstance, s: AmcScheduleDefinition): Promise<void> {
  await call(client, i, {
    method: 'PUT',
    path: `/schedules/${encodeURIComponent(s.scheduleId)}`,
    body: s,
    what: `update AMC schedule ${s.scheduleId}`,
  });
}

export async function getSchedule(
  client: AmazonAdsClient,
  i: AmcInstance,
  scheduleId: string,
): Promise<AmcScheduleDefinition | null> {
  try {
    const res = await call<AmcScheduleDefinition & { schedule?: AmcScheduleDefinition }>(client, i, {
      method: 'GET',
      path: `/schedules/${encodeURIComponent(scheduleId)}`,
      what: `AMC schedule ${scheduleId}`,
    });
    return res.body.schedule ?? res.body;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function listSchedules(client: AmazonAdsClient, i: AmcInstance): Promise<AmcScheduleDefinition[]> {
  const out: AmcScheduleDefinition[] = [];
  let nextToken: string | undefined;
  do {
    const res = await call<{ schedules?: AmcScheduleDefinition[]; nextToken?: string }>(client, i, {
      method: 'GET',
      path: '/schedules',
      query: { nextToken },
      what: 'AMC schedules',
    });
    out.push(...(res.body.schedules ?? []));
    nextToken = res.body.nextToken || undefined;
  } while (nextToken);
  return out;
}

export async function deleteSchedule(
  client: AmazonAdsClient,
  i: AmcInstance,
  scheduleId: string,
): Promise<'deleted' | 'absent'> {
  try {
    await call(client, i, {
      method: 'DELETE',
      path: `/schedules/${encodeURIComponent(scheduleId)}`,
      what: `delete AMC schedule ${scheduleId}`,
    });
    return 'deleted';
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    throw err;
  }
}

/**
 * Executions of one workflow created at or after `minCreationTime` (AMC's clock,
 * yyyy-MM-ddTHH:mm:ss UTC), oldest first, all pages (execute-workflow.md "View workflow executions").
 */
export async function listExecutions(
  client: AmazonAdsClient,
  i: AmcInstance,
  workflowId: string,
  minCreationTime: string,
): Promise<AmcExecutionStatus[]> {
  const out: AmcExecutionStatus[] = [];
  let nextToken: string | undefined;
  do {
    const res = await call<{ executions?: AmcExecutionStatus[]; nextToken?: string }>(client, i, {
      method: 'GET',
      path: '/workflowExecutions',
      query: { workflowId, minCreationTime, nextToken },
      what: `AMC executions of ${workflowId}`,
    });
    out.push(...(res.body.executions ?? []));
    nextToken = res.body.nextToken || undefined;
  } while (nextToken);
  return out;
}

export async function createExecution(
  client: AmazonAdsClient,
  i: AmcInstance,
  body: AmcExecutionBody,
): Promise<string> {
  const res = await client.call<{ workflowExecutionId: string }>({
    method: 'POST',
    path: `${base(i)}/workflowExecutions`,
    headers: headers(i),
    rateKey: rateKey(i),
    body,
    what: `execute AMC workflow ${body.workflowId}`,
  });
  return res.body.workflowExecutionId;
}

/** A data gap AMC lists on an execution (UTC); the entry's shape is not documented, this is the sandbox's. */
export interface AmcDataGap {
  startTime: string;
  endTime: string;
  reason?: string;
}

export interface AmcExecutionStatus {
  workflowExecutionId: string;
  workflowId?: string;
  status: AmcStatus;
  statusReason?: string;
  executionCategory?: string;
  dataGaps?: AmcDataGap[];
  outputS3URI?: string;
  createTime?: string;
  timeWindowStart?: string;
  timeWindowEnd?: string;
  timeWindowStartOriginal?: string;
  timeWindowEndOriginal?: string;
  timeWindowTimeZoneOriginal?: string;
  ignoreDataGaps?: boolean;
  outputFormat?: string;
}

export async function executionStatus(
  client: AmazonAdsClient,
  i: AmcInstance,
  executionId: string,
): Promise<AmcExecutionStatus> {
  const res = await client.call<AmcExecutionStatus>({
    method: 'GET',
    path: `${base(i)}/workflowExecutions/${encodeURIComponent(executionId)}`,
    headers: headers(i),
    rateKey: rateKey(i),
    what: `AMC execution ${executionId} status`,
  });
  return res.body;
}

export async function downloadUrls(client: AmazonAdsClient, i: AmcInstance, executionId: string): Promise<string[]> {
  const res = await client.call<{ downloadUrls: string[] }>({
    method: 'GET',
    path: `${base(i)}/workflowExecutions/${encodeURIComponent(executionId)}/downloadUrls`,
    headers: headers(i),
    rateKey: rateKey(i),
    what: `AMC execution ${executionId} download URLs`,
  });
  return res.body.downloadUrls ?? [];
}

/** Cancels an execution (execute-workflow.md: DELETE …/workflowExecutions/{id}); it stays, CANCELLED. */
export async function cancelExecution(client: AmazonAdsClient, i: AmcInstance, executionId: string): Promise<void> {
  await client.call({
    method: 'DELETE',
    path: `${base(i)}/workflowExecutions/${encodeURIComponent(executionId)}`,
    headers: headers(i),
    rateKey: rateKey(i),
    what: `cancel AMC execution ${executionId}`,
  });
}
