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
}

export type AmcStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

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

export async function upsertWorkflow(
  client: AmazonAdsClient,
  i: AmcInstance,
  workflowId: string,
  sqlQuery: string,
): Promise<'created' | 'updated'> {
  try {
    await client.call({
      method: 'GET',
      path: `${base(i)}/workflows/${encodeURIComponent(workflowId)}`,
      headers: headers(i),
      rateKey: rateKey(i),
      what: `AMC workflow ${workflowId}`,
    });
  } catch (err) {
    if ((err as { kind?: string }).kind !== 'not_found') throw err;
    await client.call({
      method: 'POST',
      path: `${base(i)}/workflows`,
      headers: headers(i),
      rateKey: rateKey(i),
      body: { workflowId, sqlQuery },
      what: `create AMC workflow ${workflowId}`,
    });
    return 'created';
  }
  await client.call({
    method: 'PUT',
    path: `${base(i)}/workflows/${encodeURIComponent(workflowId)}`,
    headers: headers(i),
    rateKey: rateKey(i),
    body: { workflowId, sqlQuery },
    what: `update AMC workflow ${workflowId}`,
  });
  return 'updated';
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

export interface AmcExecutionStatus {
  workflowExecutionId: string;
  status: AmcStatus;
  statusReason?: string;
  dataGaps?: unknown[];
  outputS3URI?: string;
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
