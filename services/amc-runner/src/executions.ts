/**
 * AMC executions: recorded first, submitted when the instance has a free slot
 * (AMC allows 10 in flight), carried to completion by a background tick, never by
 * a request waiting. On success the output is downloaded, parsed (CSV or Parquet)
 * and stored in ClickHouse, with its location, row count and size on the record.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { chDateTime } from '@adsync/shared/db/clickhouse';
import { parquetReadObjects } from 'hyparquet';
import { buildExecutionBody, lagWarning, mapStatus, type AmcExecutionBody, type ExecutionInput } from './amc-request.ts';
import { createExecution, downloadUrls, executionStatus, type AmcInstance } from '@adsync/shared/amazon/amc';
import { parseCsv } from './csv.ts';

export const MAX_IN_FLIGHT_PER_INSTANCE = 10;

export interface AmcDeps {
  db: Knex;
  ch: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  defaultWindowDays: number;
  now?: () => Date;
}

export class WorkflowNotSavedError extends Error {}

async function instanceOf(db: Knex, instanceId: string): Promise<AmcInstance & { account_id: string }> {
  const i = await db('amc_instances').where({ instance_id: instanceId }).first();
  if (!i) throw new Error(`AMC instance ${instanceId} is not registered`);
  return i;
}

/** Records an execution and submits it at once if the instance has a free slot. */
export async function startExecution(deps: AmcDeps, workflow: { instance_id: string; workflow_id: string }, input: ExecutionInput): Promise<{ id: string; status: string; body: AmcExecutionBody; warnings: string[]; failureReason: string | null }> {
  const now = (deps.now ?? (() => new Date()))();
  const body = buildExecutionBody(input, now, deps.defaultWindowDays);
  const warnings = [lagWarning(body, now)].filter((w): w is string => w !== null);
  const [row] = await deps.db('amc_executions')
    .insert({
      instance_id: workflow.instance_id, workflow_id: workflow.workflow_id, status: 'queued', request: JSON.stringify(body), time_window_start: body.timeWindowStart ?? null,
      time_window_end: body.timeWindowEnd ?? null, time_zone: body.timeWindowTimeZone, output_format: body.outputFormat, warnings: JSON.stringify(warnings),
    })
    .returning(['id']);
  const submitted = await submitIfSlot(deps, row.id);
  return { id: row.id, status: submitted.status, body, warnings, failureReason: submitted.failureReason };
}

/** Submits a queued execution when its instance has fewer than 10 in flight; a per-instance lock keeps the count honest. */
async function submitIfSlot(deps: AmcDeps, id: string): Promise<{ status: string; failureReason: string | null }> {
  const { db } = deps;
  return db.transaction(async (tx) => {
    const e = await tx('amc_executions').where({ id }).forUpdate().first();
    if (!e || e.status !== 'queued') return { status: e?.status ?? 'missing', failureReason: e?.failure_reason ?? null };
    await tx.raw('select pg_advisory_xact_lock(hashtext(?))', [`amc:${e.instance_id}`]);
    const inFlight = Number((await tx('amc_executions').where({ instance_id: e.instance_id }).whereIn('status', ['pending', 'running']).count<{ c: string }[]>('* as c'))[0]!.c);
    if (inFlight >= MAX_IN_FLIGHT_PER_INSTANCE) return { status: 'queued', failureReason: null };
    const instance = await instanceOf(tx as unknown as Knex, e.instance_id);
    const { client } = { client: await deps.clients.forAccount(instance.account_id) };
    try {
      const amcId = await createExecution(client, instance, e.request as AmcExecutionBody);
      await tx('amc_executions').where({ id }).update({ status: 'pending', amc_status: 'PENDING', amc_execution_id: amcId, submitted_at: tx.fn.now(), next_poll_at: tx.fn.now(), updated_at: tx.fn.now() });
      return { status: 'pending', failureReason: null };
    } catch (err) {
      if (err instanceof AmazonApiError && err.status === 429) return { status: 'queued', failureReason: null }; // AMC's own limit: stay queued
      if (err instanceof AmazonApiError && err.retriable) return { status: 'queued', failureReason: null };
      const reason = err instanceof AmazonApiError && /overlap/i.test(err.message) ? `rejected by AMC: the window overlaps a running execution of this workflow (${err.message})` : `rejected by AMC: ${(err as Error).message}`;
      await tx('amc_executions').where({ id }).update({ status: 'failed', failure_reason: reason, completed_at: tx.fn.now(), updated_at: tx.fn.now() });
      deps.log.warn({ executionId: id, workflowId: e.workflow_id, reason }, 'AMC refused the execution');
      return { status: 'failed', failureReason: reason };
    }
  });
}

const inflightRefresh = new Map<string, Promise<Record<string, unknown>>>();

/**
 * At most one status call to AMC for one execution, answered at once; never waits on
 * AMC's execution time. Many clients polling the same execution share one call
 * (single flight), and a status fetched within `freshMs` is answered from the record,
 * so a dashboard full of pollers cannot exhaust the instance's AMC rate limit.
 */
export function refreshStatus(deps: AmcDeps, id: string, freshMs = 1000): Promise<Record<string, unknown>> {
  const running = inflightRefresh.get(id);
  if (running) return running;
  const p = doRefresh(deps, id, freshMs).finally(() => inflightRefresh.delete(id));
  inflightRefresh.set(id, p);
  return p;
}

async function doRefresh(deps: AmcDeps, id: string, freshMs: number): Promise<Record<string, unknown>> {
  const { db } = deps;
  const e = await db('amc_executions').where({ id }).first();
  if (!e) throw new Error(`no execution ${id}`);
  if (!e.amc_execution_id || ['completed', 'failed'].includes(e.status)) return e;
  if (e.status_checked_at && Date.now() - new Date(e.status_checked_at).getTime() < freshMs) return e;
  const instance = await instanceOf(db, e.instance_id);
  const client = await deps.clients.forAccount(instance.account_id);
  const s = await executionStatus(client, instance, e.amc_execution_id);
  const mapped = mapStatus(s.status);
  // Completion (results) is the background tick's job; until then a SUCCEEDED execution reads as running.
  const status = mapped === 'completed' ? (e.status === 'completed' ? 'completed' : 'running') : mapped;
  const update: Record<string, unknown> = { amc_status: s.status, data_gaps: JSON.stringify(s.dataGaps ?? []), status_checked_at: new Date(), updated_at: db.fn.now() };
  if (status !== e.status) update.status = status;
  if (mapped === 'failed') Object.assign(update, { failure_reason: s.statusReason ?? `AMC status ${s.status}`, completed_at: db.fn.now() });
  await db('amc_executions').where({ id }).update(update);
  return { ...e, ...update, status, amc_status: s.status };
}

async function readOutput(client: { download: (u: string) => Promise<{ body: AsyncIterable<Buffer> }> }, url: string): Promise<Buffer> {
  const res = await client.download(url);
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Downloads, parses and stores the output of a SUCCEEDED execution; records its metadata. */
export async function completeExecution(deps: AmcDeps, id: string): Promise<void> {
  const { db } = deps;
  const e = await db('amc_executions').where({ id }).first();
  const instance = await instanceOf(db, e.instance_id);
  const client = await deps.clients.forAccount(instance.account_id);
  const status = await executionStatus(client, instance, e.amc_execution_id);
  const urls = await downloadUrls(client, instance, e.amc_execution_id);
  let columns: string[] = [];
  let rowNumber = 0;
  let size = 0;
  for (const url of urls) {
    const bytes = await readOutput(client, url);
    size += bytes.length;
    let rows: Record<string, unknown>[];
    if (e.output_format === 'PARQUET') {
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
      rows = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
      if (rows[0]) columns = Object.keys(rows[0]);
    } else {
      const [header, ...data] = parseCsv(bytes.toString('utf8'));
      columns = header ?? [];
      rows = data.map((r) => Object.fromEntries(columns.map((c, k) => [c, r[k] ?? null])));
    }
    const loadedAt = chDateTime(new Date());
    const values = rows.map((r) => ({ execution_id: id, workflow_id: e.workflow_id, instance_id: e.instance_id, row_number: rowNumber++, row: JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)), loaded_at: loadedAt }));
    for (let k = 0; k < values.length; k += 10_000) await deps.ch.client.insert({ table: 'amc_results', format: 'JSONEachRow', values: values.slice(k, k + 10_000) });
  }
  const location = status.outputS3URI ?? urls[0]?.split('?')[0] ?? null;
  await db('amc_executions').where({ id }).update({
    status: 'completed', amc_status: 'SUCCEEDED', output_location: location, row_count: rowNumber, size_bytes: size, columns: JSON.stringify(columns),
    data_gaps: JSON.stringify(status.dataGaps ?? []), completed_at: db.fn.now(), updated_at: db.fn.now(),
  });
  deps.log.info({ executionId: id, workflowId: e.workflow_id, rows: rowNumber, sizeBytes: size }, 'AMC execution completed');
}

/** The background tick: submit queued executions into free slots, poll the ones in flight, complete the finished. */
export async function amcTick(deps: AmcDeps, opts: { maxPolls: number; minSpacingMs: number } = { maxPolls: 50, minSpacingMs: 10_000 }): Promise<{ submitted: number; polled: number; completed: number }> {
  const { db } = deps;
  let submitted = 0;
  for (const q of await db('amc_executions').where({ status: 'queued' }).orderBy('created_at').select('id')) {
    if ((await submitIfSlot(deps, q.id)).status === 'pending') submitted++;
  }
  const due = await db.raw(
    `update amc_executions set poll_count = poll_count + 1, next_poll_at = now() + (? * interval '1 millisecond')
     where id in (select id from amc_executions where status in ('pending', 'running') and next_poll_at <= now() order by next_poll_at limit ? for update skip locked)
     returning id`,
    [opts.minSpacingMs, opts.maxPolls],
  );
  let completed = 0;
  for (const { id } of due.rows as { id: string }[]) {
    try {
      const r = await refreshStatus(deps, id, 0);
      if (r.amc_status === 'SUCCEEDED') {
        await completeExecution(deps, id);
        completed++;
      }
    } catch (err) {
      deps.log.warn({ executionId: id, err: (err as Error).message }, 'AMC poll failed; will retry');
    }
  }
  return { submitted, polled: due.rows.length, completed };
}
