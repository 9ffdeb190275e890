/**
 * AMC executions, and the module that owns `amc_executions` (every execution, whoever started
 * it) and `amc_execution_loads` (the ClickHouse ledger of complete loads): recorded first,
 * submitted when the instance has a free slot (AMC runs 10 at a time per
 * instance), carried to completion by a background tick, never by a request
 * waiting. On success the output is downloaded, parsed (CSV or Parquet) and stored
 * in ClickHouse, with its location, row count and size on the record. An
 * execution AMC keeps running past AMC_EXECUTION_TIMEOUT_MS is given up with the
 * reason (and cancelled at AMC, so the slot frees).
 *
 * No Amazon call is made inside a transaction: a submitter reserves slots in one
 * short transaction (queued → submitting, under a per-instance lock so replicas
 * never over-book), then calls AMC, then records the answer.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { chDateTime, chString } from '@adsync/shared/db/clickhouse';
import { claim, nextDueIn, queueDepth, type QueueSpec } from '@adsync/shared/runtime/work-queue';
import { parquetReadObjects } from 'hyparquet';
import {
  buildExecutionBody,
  lagWarning,
  mapStatus,
  type AmcExecutionBody,
  type ExecutionInput,
} from './amc-request.ts';
import { cancelExecution, createExecution, downloadUrls, executionStatus } from '@adsync/shared/amazon/amc';
import { parseCsv } from './csv.ts';
import { DEFAULT_EXECUTION_TIMEOUT_MS, DEFAULT_GAP_MAX_WAIT_MS, DEFAULT_GAP_RECHECK_MS } from './config.ts';
import { onCompletion, whileWaiting, type DataGapPolicy } from './data-gaps.ts';
import { discoverScheduled } from './schedules.ts';
import { instanceIdsOfAccount, registeredInstance } from './instances.ts';
import { dataGapPolicyOf } from './workflows.ts';
import { storeResultRows } from './amc-results.ts';
import type { AmcDataGap } from '@adsync/shared/amazon/amc';
import { PermanentError } from '@adsync/shared/runtime/errors';

export const MAX_IN_FLIGHT_PER_INSTANCE = 10;

/** A reserved slot is given back if its submitter does not record AMC's answer in this long (it died). */
const SUBMIT_LEASE_MS = 120_000;

export interface AmcDeps {
  db: Knex;
  ch: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  defaultWindowDays: number;
  /** How long an execution may stay PENDING/RUNNING at AMC before it is given up (default DEFAULT_EXECUTION_TIMEOUT_MS). */
  executionTimeoutMs?: number;
  /** wait_and_rerun: how long after a data gap a window runs again, and how long a window may wait in all. */
  gapRecheckMs?: number;
  gapMaxWaitMs?: number;
  /** Called after a tick completed executions (the AMC dashboard's columns follow the latest results). */
  onCompleted?: () => Promise<unknown>;
  /** How long a submission AMC refused for now (throttled, busy) waits before it is tried again. */
  submitRetryMs?: number;
  now?: () => Date;
}

/** Executions AMC is running, due for a status check; a claim moves the next check out by the spacing. */
export const STATUS_QUEUE: QueueSpec = {
  table: 'amc_executions',
  claimable: `status in ('pending', 'running') and next_poll_at <= now()`,
  order: 'next_poll_at',
  claim: `poll_count = t.poll_count + 1, status_checked_at = now(), next_poll_at = now() + (:lease * interval '1 millisecond'), updated_at = now()`,
  waiting: `status in ('queued', 'submitting', 'pending', 'running')`,
  ageColumn: 'created_at',
};

/** Queued executions of one instance, and reservations whose submitter died. */
const SUBMIT_QUEUE: QueueSpec = {
  table: 'amc_executions',
  // A queued re-run waits for its time (next_poll_at), and for AMC to confirm its predecessor cancelled
  // (AMC refuses an overlapping execution of the same workflow while the old one lives).
  claimable: `((status = 'queued' and next_poll_at <= now()) or (status = 'submitting' and next_poll_at < now()))
    and not exists (select 1 from amc_executions p where p.id = amc_executions.rerun_of and p.cancel_requested_at is not null)`,
  order: 'created_at',
  claim: `status = 'submitting', next_poll_at = now() + (:lease * interval '1 millisecond'), updated_at = now()`,
  waiting: `status = 'queued'`,
  ageColumn: 'created_at',
};

/** Records an execution and submits it at once if the instance has a free slot. */
export async function startExecution(
  deps: AmcDeps,
  workflow: { instance_id: string; workflow_id: string; output_format?: string; data_gap_policy?: DataGapPolicy },
  input: ExecutionInput,
): Promise<{ id: string; status: string; body: AmcExecutionBody; warnings: string[]; failureReason: string | null }> {
  const now = (deps.now ?? (() => new Date()))();
  const body = buildExecutionBody(
    { ...input, outputFormat: input.outputFormat ?? (workflow.output_format as ExecutionInput['outputFormat']) },
    now,
    deps.defaultWindowDays,
  );
  // AMC waits on missing data unless told not to; only run_anyway tells it (the other policies decide themselves).
  if ((workflow.data_gap_policy ?? 'run_anyway') === 'run_anyway') body.ignoreDataGaps = true;
  const warnings = [lagWarning(body, now)].filter((w): w is string => w !== null);
  const [row] = await deps
    .db('amc_executions')
    .insert({
      instance_id: workflow.instance_id,
      workflow_id: workflow.workflow_id,
      status: 'queued',
      origin: 'on_demand',
      request: JSON.stringify(body),
      time_window_start: body.timeWindowStart ?? null,
      time_window_end: body.timeWindowEnd ?? null,
      time_zone: body.timeWindowTimeZone,
      output_format: body.outputFormat,
      ignore_data_gaps: body.ignoreDataGaps === true,
      warnings: JSON.stringify(warnings),
    })
    .returning(['id']);
  await submitQueued(deps, workflow.instance_id);
  const e = await deps.db('amc_executions').where({ id: row.id }).first('status', 'failure_reason');
  return { id: row.id, status: e.status, body, warnings, failureReason: e.failure_reason };
}

/**
 * Records a run AMC started for one of our schedules, once (by its AMC execution id); false when
 * it was recorded before. From here the status queue follows, downloads and loads it.
 */
export async function recordScheduledRun(
  db: Knex,
  run: {
    instanceId: string;
    workflowId: string;
    scheduleId: string | null;
    amcExecutionId: string;
    amcStatus: string;
    status: 'pending' | 'running' | 'failed';
    failureReason: string | null;
    request: { timeWindowStart: string; timeWindowEnd: string; timeWindowTimeZone: string; outputFormat: string };
    ignoreDataGaps: boolean;
    dataGaps: AmcDataGap[];
  },
): Promise<boolean> {
  const inserted = await db('amc_executions')
    .insert({
      instance_id: run.instanceId,
      workflow_id: run.workflowId,
      origin: 'scheduled',
      schedule_id: run.scheduleId,
      amc_execution_id: run.amcExecutionId,
      amc_status: run.amcStatus,
      status: run.status,
      failure_reason: run.failureReason,
      completed_at: run.status === 'failed' ? db.fn.now() : null,
      request: JSON.stringify(run.request),
      time_window_start: run.request.timeWindowStart,
      time_window_end: run.request.timeWindowEnd,
      time_zone: run.request.timeWindowTimeZone,
      output_format: run.request.outputFormat,
      ignore_data_gaps: run.ignoreDataGaps,
      data_gaps: JSON.stringify(run.dataGaps),
      // The give-up clock starts when we first see the run (AMC's createTime is on AMC's clock).
      submitted_at: db.fn.now(),
      next_poll_at: db.fn.now(),
    })
    .onConflict(['instance_id', 'amc_execution_id'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/** Reserves the instance's free slots for its oldest queued executions (one short transaction, no Amazon call). */
async function reserveSlots(
  db: Knex,
  instanceId: string,
): Promise<{ id: string; workflow_id: string; request: AmcExecutionBody }[]> {
  return db.transaction(async (tx) => {
    await tx.raw('select pg_advisory_xact_lock(hashtext(?))', [`amc:${instanceId}`]);
    const inFlight = Number(
      (
        await tx('amc_executions')
          .where({ instance_id: instanceId })
          .where((q) =>
            q
              .whereIn('status', ['pending', 'running'])
              .orWhere((s) => s.where('status', 'submitting').where('next_poll_at', '>=', tx.fn.now()))
              // Given up or replaced, but AMC has not confirmed the cancellation: it may still hold a slot.
              .orWhereNotNull('cancel_requested_at'),
          )
          .count<{ c: string }[]>('* as c')
      )[0]!.c,
    );
    const free = MAX_IN_FLIGHT_PER_INSTANCE - inFlight;
    if (free <= 0) return [];
    return claim(tx, SUBMIT_QUEUE, {
      limit: free,
      leaseMs: SUBMIT_LEASE_MS,
      where: { sql: 'instance_id = :instance', bindings: { instance: instanceId } },
    });
  });
}

/** Submits what the instance has room for; AMC's answer is recorded per execution. */
export async function submitQueued(deps: AmcDeps, instanceId: string): Promise<number> {
  const { db } = deps;
  const reserved = await reserveSlots(db, instanceId);
  if (reserved.length === 0) return 0;
  const instance = await registeredInstance(db, instanceId);
  const client = await deps.clients.forAccount(instance.account_id);
  let submitted = 0;
  for (const e of reserved) {
    try {
      const amcId = await createExecution(client, instance, e.request);
      await db('amc_executions').where({ id: e.id }).update({
        status: 'pending',
        amc_status: 'PENDING',
        amc_execution_id: amcId,
        submitted_at: db.fn.now(),
        next_poll_at: db.fn.now(),
        updated_at: db.fn.now(),
      });
      submitted++;
    } catch (err) {
      if (err instanceof AmazonApiError && err.retriable) {
        // AMC busy or throttling: back in the queue, due again after a pause (the loop sleeps until then).
        await db('amc_executions')
          .where({ id: e.id })
          .update({
            status: 'queued',
            next_poll_at: db.raw(`now() + (? * interval '1 millisecond')`, [deps.submitRetryMs ?? 10_000]),
            updated_at: db.fn.now(),
          });
        continue;
      }
      const reason =
        err instanceof AmazonApiError && /overlap/i.test(err.message)
          ? `rejected by AMC: the window overlaps a running execution of this workflow (${err.message})`
          : `rejected by AMC: ${(err as Error).message}`;
      await db('amc_executions')
        .where({ id: e.id })
        .update({ status: 'failed', failure_reason: reason, completed_at: db.fn.now(), updated_at: db.fn.now() });
      deps.log.warn({ executionId: e.id, workflowId: e.workflow_id, reason }, 'AMC refused the execution');
    }
  }
  return submitted;
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
  if (!e) throw new PermanentError(`no execution ${id}`, { code: 'ADSYNC_UNKNOWN_EXECUTION' });
  if (!e.amc_execution_id || ['completed', 'failed', 'replaced'].includes(e.status)) return e;
  if (e.status_checked_at && freshMs > 0 && Date.now() - new Date(e.status_checked_at).getTime() < freshMs) return e;
  const instance = await registeredInstance(db, e.instance_id);
  const client = await deps.clients.forAccount(instance.account_id);
  const s = await executionStatus(client, instance, e.amc_execution_id);
  const mapped = mapStatus(s.status);
  // Completion (results) is the background tick's job; until then a SUCCEEDED execution reads as running.
  const status = mapped === 'completed' ? (e.status === 'completed' ? 'completed' : 'running') : mapped;
  const update: Record<string, unknown> = {
    amc_status: s.status,
    data_gaps: JSON.stringify(s.dataGaps ?? []),
    status_checked_at: new Date(),
    updated_at: db.fn.now(),
  };
  if (status !== e.status) update.status = status;
  if (mapped === 'failed')
    Object.assign(update, { failure_reason: s.statusReason ?? `AMC status ${s.status}`, completed_at: db.fn.now() });
  // Only over the state read: a transition the tick made meanwhile (replaced, given up, completed) stands.
  const n = await db('amc_executions').where({ id, status: e.status }).update(update);
  if (n === 0) return db('amc_executions').where({ id }).first();
  return { ...e, ...update, status, amc_status: s.status };
}

async function readOutput(
  client: { download: (u: string) => Promise<{ body: AsyncIterable<Buffer> }> },
  url: string,
): Promise<Buffer> {
  const res = await client.download(url);
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const chTime = (iso: string | undefined | null): string =>
  chDateTime(new Date(iso ? (iso.endsWith('Z') ? iso : `${iso}Z`) : 0));

/** The policy and limits that decide what a data gap does to this execution. */
async function gapContext(
  deps: AmcDeps,
  e: { instance_id: string; workflow_id: string; created_at: Date; chain_started_at: Date | null },
) {
  return {
    policy: await dataGapPolicyOf(deps.db, e.instance_id, e.workflow_id),
    waitedMs: Date.now() - new Date(e.chain_started_at ?? e.created_at).getTime(),
    maxWaitMs: deps.gapMaxWaitMs ?? DEFAULT_GAP_MAX_WAIT_MS,
    recheckMs: deps.gapRecheckMs ?? DEFAULT_GAP_RECHECK_MS,
  };
}

/**
 * Queues the same window again, as a re-run of `e` (the first of a chain keeps the chain's start).
 * A relative window (MOST_RECENT_DAY, …) is pinned to the one AMC resolved, so the re-run covers
 * the same hours and replaces the result of that window.
 */
async function queueRerun(
  db: Knex,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a knex row
  e: Record<string, any>,
  opts: { ignoreDataGaps: boolean; notBeforeMs: number },
  resolved: { timeWindowStart?: string; timeWindowEnd?: string },
): Promise<string> {
  const request = { ...e.request, ignoreDataGaps: opts.ignoreDataGaps };
  if (!opts.ignoreDataGaps) delete request.ignoreDataGaps;
  if (request.timeWindowType !== 'EXPLICIT' && resolved.timeWindowStart && resolved.timeWindowEnd)
    Object.assign(request, {
      timeWindowType: 'EXPLICIT',
      timeWindowStart: resolved.timeWindowStart.replace(/Z$/, '').slice(0, 19),
      timeWindowEnd: resolved.timeWindowEnd.replace(/Z$/, '').slice(0, 19),
      timeWindowTimeZone: 'UTC',
    });
  const [row] = await db('amc_executions')
    .insert({
      instance_id: e.instance_id,
      workflow_id: e.workflow_id,
      status: 'queued',
      origin: 'rerun',
      schedule_id: e.schedule_id ?? null,
      rerun_of: e.id,
      chain_started_at: e.chain_started_at ?? e.created_at,
      request: JSON.stringify(request),
      time_window_start: request.timeWindowStart ?? e.time_window_start,
      time_window_end: request.timeWindowEnd ?? e.time_window_end,
      time_zone: request.timeWindowTimeZone ?? e.time_zone,
      output_format: e.output_format,
      ignore_data_gaps: opts.ignoreDataGaps,
      next_poll_at: new Date(Date.now() + opts.notBeforeMs),
    })
    .returning(['id']);
  return row.id;
}

/**
 * Asks AMC to cancel an execution adsync has already let go of (given up, failed or replaced,
 * recorded first with `cancel_requested_at`). Until AMC confirms, the row keeps counting against
 * the instance's slots and its re-run waits; a later tick asks again.
 */
async function cancelAtAmc(deps: AmcDeps, e: { id: string; instance_id: string; amc_execution_id: string }) {
  try {
    const instance = await registeredInstance(deps.db, e.instance_id);
    await cancelExecution(await deps.clients.forAccount(instance.account_id), instance, e.amc_execution_id);
  } catch (err) {
    // Gone, or already ended at AMC (it refuses to cancel a finished execution): nothing holds the slot.
    if (!(err instanceof AmazonApiError && (err.kind === 'not_found' || err.kind === 'bad_request'))) {
      deps.log.warn({ executionId: e.id, err: (err as Error).message }, 'cancelling at AMC failed; will ask again');
      return false;
    }
  }
  await deps.db('amc_executions').where({ id: e.id }).update({ cancel_requested_at: null });
  return true;
}

/** Cancellations AMC has not confirmed yet, asked again. */
async function confirmCancellations(deps: AmcDeps): Promise<number> {
  const pending = await deps
    .db('amc_executions')
    .whereNotNull('cancel_requested_at')
    .whereNotNull('amc_execution_id')
    .orderBy('cancel_requested_at')
    .limit(50);
  let n = 0;
  for (const e of pending) if (await cancelAtAmc(deps, e)) n++;
  return n;
}

/** AMC holds the execution for missing data: the workflow's policy keeps it waiting, fails it, or hands its window on. */
async function applyWaitingPolicy(
  deps: AmcDeps,
  id: string,
  gaps: AmcDataGap[],
): Promise<'kept' | 'failed' | 'replaced'> {
  const { db } = deps;
  const e = await db('amc_executions').where({ id }).first();
  const decision = whileWaiting({
    status: e.amc_status,
    gaps,
    ignoredGaps: e.ignore_data_gaps,
    ...(await gapContext(deps, e)),
  });
  if (decision.action === 'keep_waiting') return 'kept';
  // The window AMC resolved, for a re-run of a relative one (read before the transaction: no network inside).
  const resolved =
    decision.action === 'replace' && e.request?.timeWindowType !== 'EXPLICIT'
      ? await executionStatus(
          await deps.clients.forAccount((await registeredInstance(db, e.instance_id)).account_id),
          await registeredInstance(db, e.instance_id),
          e.amc_execution_id,
        )
      : {};
  // Recorded first, with the re-run, in one transaction; the cancellation at AMC follows (and is retried).
  const outcome = await db.transaction(async (tx) => {
    const terminal =
      decision.action === 'fail'
        ? { status: 'failed', failure_reason: decision.reason, partial: true }
        : { status: 'replaced', failure_reason: decision.reason };
    const n = await tx('amc_executions')
      .where({ id })
      .whereIn('status', ['pending', 'running'])
      .update({ ...terminal, cancel_requested_at: tx.fn.now(), completed_at: tx.fn.now(), updated_at: tx.fn.now() });
    if (n === 0) return null; // another replica got here first
    if (decision.action === 'fail') return { rerunId: null };
    const rerunId = await queueRerun(tx, e, decision, resolved);
    await tx('amc_executions')
      .where({ id })
      .update({ failure_reason: `${decision.reason}; replaced by execution ${rerunId}` });
    return { rerunId };
  });
  if (!outcome) return 'kept';
  await cancelAtAmc(deps, e);
  deps.log.info({ executionId: id, rerunId: outcome.rerunId, workflowId: e.workflow_id }, decision.reason);
  return decision.action === 'fail' ? 'failed' : 'replaced';
}

/**
 * Downloads, parses and stores the output of a SUCCEEDED execution, tagged with its window,
 * then writes the load to the ledger (so the latest-per-window view only ever sees complete
 * loads), then records the metadata. A crash anywhere repeats the load: both ClickHouse tables
 * replace by key, so it lands once. A data gap in the result follows the workflow's policy.
 */
export async function completeExecution(deps: AmcDeps, id: string): Promise<void> {
  const { db } = deps;
  const e = await db('amc_executions').where({ id }).first();
  const instance = await registeredInstance(db, e.instance_id);
  const client = await deps.clients.forAccount(instance.account_id);
  const status = await executionStatus(client, instance, e.amc_execution_id);
  const gaps = status.dataGaps ?? [];
  const decision = onCompletion({ gaps, ...(await gapContext(deps, e)) });
  const warnings = [...(e.warnings ?? []), ...(decision.warning ? [decision.warning] : [])];
  if (!decision.load) {
    await db('amc_executions')
      .where({ id })
      .update({
        status: 'failed',
        amc_status: 'SUCCEEDED',
        partial: true,
        failure_reason: decision.failReason,
        data_gaps: JSON.stringify(gaps),
        completed_at: db.fn.now(),
        updated_at: db.fn.now(),
      });
    deps.log.warn({ executionId: id, workflowId: e.workflow_id, reason: decision.failReason }, 'AMC result not loaded');
    return;
  }
  const window = {
    time_window_start: chTime(status.timeWindowStart ?? e.time_window_start),
    time_window_end: chTime(status.timeWindowEnd ?? e.time_window_end),
  };
  const urls = await downloadUrls(client, instance, e.amc_execution_id);
  let columns: string[] = [];
  let rowNumber = 0;
  let size = 0;
  for (const url of urls) {
    const bytes = await readOutput(client, url);
    size += bytes.length;
    let rows: Record<string, unknown>[];
    // By content, not by what was asked: a schedule's runs write AMC's own format.
    if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
      rows = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
      if (rows[0]) columns = Object.keys(rows[0]);
    } else {
      const [header, ...data] = parseCsv(bytes.toString('utf8'));
      columns = header ?? [];
      rows = data.map((r) => Object.fromEntries(columns.map((c, k) => [c, r[k] ?? null])));
    }
    const loadedAt = chDateTime(new Date());
    const values = rows.map((r) => ({
      execution_id: id,
      workflow_id: e.workflow_id,
      instance_id: e.instance_id,
      schedule_id: e.schedule_id ?? '',
      ...window,
      partial: decision.partial ? 1 : 0,
      row_number: rowNumber++,
      row: JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)),
      loaded_at: loadedAt,
    }));
    await storeResultRows(deps.ch, values);
  }
  await deps.ch.client.insert({
    table: 'amc_execution_loads',
    format: 'JSONEachRow',
    values: [
      {
        execution_id: id,
        instance_id: e.instance_id,
        workflow_id: e.workflow_id,
        schedule_id: e.schedule_id ?? '',
        origin: e.origin,
        ...window,
        partial: decision.partial ? 1 : 0,
        data_gaps: JSON.stringify(gaps),
        row_count: rowNumber,
        completed_ms: Date.now(),
      },
    ],
  });
  const location = status.outputS3URI ?? urls[0]?.split('?')[0] ?? null;
  const recorded = await db.transaction(async (tx) => {
    const n = await tx('amc_executions')
      .where({ id })
      .whereIn('status', ['pending', 'running'])
      .update({
        status: 'completed',
        amc_status: 'SUCCEEDED',
        output_location: location,
        row_count: rowNumber,
        size_bytes: size,
        columns: JSON.stringify(columns),
        data_gaps: JSON.stringify(gaps),
        partial: decision.partial,
        warnings: JSON.stringify(warnings),
        completed_at: tx.fn.now(),
        updated_at: tx.fn.now(),
      });
    // The re-run a partial result promises is queued with it, or not at all (a crash loses neither).
    if (n === 1 && decision.rerunAfterMs !== null)
      await queueRerun(tx, e, { ignoreDataGaps: false, notBeforeMs: decision.rerunAfterMs }, status);
    return n === 1;
  });
  if (!recorded) return; // another replica recorded it (the rows it loaded replace ours by key)
  deps.log.info(
    {
      executionId: id,
      workflowId: e.workflow_id,
      origin: e.origin,
      rows: rowNumber,
      sizeBytes: size,
      partial: decision.partial,
    },
    'AMC execution completed',
  );
}

const duration = (ms: number): string =>
  ms < 120_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 7_200_000
      ? `${Math.round(ms / 60_000)} min`
      : `${(ms / 3_600_000).toFixed(1)} h`;

/** Gives up an execution AMC has kept too long: recorded failed with the reason, then cancelled at AMC to free the slot. */
async function giveUp(
  deps: AmcDeps,
  e: { id: string; instance_id: string; amc_execution_id: string; amc_status: string | null; submitted_at: Date },
  limitMs: number,
): Promise<boolean> {
  const reason = `gave up: AMC still said ${e.amc_status ?? 'PENDING'} ${duration(Date.now() - new Date(e.submitted_at).getTime())} after submission (limit AMC_EXECUTION_TIMEOUT_MS = ${limitMs} ms); cancelled at AMC`;
  const n = await deps.db('amc_executions').where({ id: e.id }).whereIn('status', ['pending', 'running']).update({
    status: 'failed',
    failure_reason: reason,
    cancel_requested_at: deps.db.fn.now(),
    completed_at: deps.db.fn.now(),
    updated_at: deps.db.fn.now(),
  });
  if (n === 0) return false;
  deps.log.warn({ executionId: e.id, reason }, 'AMC execution given up');
  await cancelAtAmc(deps, e);
  return true;
}

/** The background tick: submit queued executions into free slots, poll the ones in flight, complete the finished. */
export async function amcTick(
  deps: AmcDeps,
  opts: { maxPolls: number; minSpacingMs: number } = { maxPolls: 50, minSpacingMs: 10_000 },
): Promise<{ discovered: number; submitted: number; polled: number; completed: number; givenUp: number }> {
  const { db } = deps;
  // A schedule's runs are found first, so the slots they hold count before anything is submitted.
  const discovered = await discoverScheduled(db, deps.clients, deps.log);
  await confirmCancellations(deps);
  let submitted = 0;
  for (const instanceId of await db('amc_executions')
    .whereIn('status', ['queued', 'submitting'])
    .distinct('instance_id')
    .pluck('instance_id')) {
    submitted += await submitQueued(deps, instanceId);
  }
  const due = await claim<{
    id: string;
    instance_id: string;
    amc_execution_id: string;
    amc_status: string | null;
    submitted_at: Date;
  }>(db, STATUS_QUEUE, { limit: opts.maxPolls, leaseMs: opts.minSpacingMs });
  const limitMs = deps.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS;
  let completed = 0;
  let givenUp = 0;
  for (const e of due) {
    try {
      // AMC's answer first: a result that is ready is loaded, however long it took.
      const r = await refreshStatus(deps, e.id, 0);
      if (r.amc_status === 'SUCCEEDED') {
        await completeExecution(deps, e.id);
        completed++;
        continue;
      }
      if (!['pending', 'running'].includes(String(r.status))) continue;
      if (e.submitted_at && Date.now() - new Date(e.submitted_at).getTime() > limitMs) {
        if (await giveUp(deps, { ...e, amc_status: (r.amc_status as string) ?? e.amc_status }, limitMs)) givenUp++;
        continue;
      }
      if (r.amc_status === 'PENDING') {
        const gaps = (typeof r.data_gaps === 'string' ? JSON.parse(r.data_gaps) : r.data_gaps) ?? [];
        if ((await applyWaitingPolicy(deps, e.id, gaps)) !== 'kept') givenUp++;
      }
    } catch (err) {
      deps.log.warn({ executionId: e.id, err: (err as Error).message }, 'AMC poll failed; will retry');
    }
  }
  if (givenUp || completed)
    for (const instanceId of new Set(due.map((e) => e.instance_id))) submitted += await submitQueued(deps, instanceId);
  if (completed > 0 && deps.onCompleted)
    await deps
      .onCompleted()
      .catch((err) =>
        deps.log.warn({ err: (err as Error).message }, 'refreshing after completed AMC executions failed'),
      );
  return { discovered: discovered.found, submitted, polled: due.length, completed, givenUp };
}

/**
 * When the executions tick next has work: an execution's status to ask, a submission to retry, a
 * queued re-run whose time comes, or a submitter's lease running out. A queued or submitting
 * execution already due but waiting for a slot or a confirmed cancellation is not counted: what
 * frees it (a poll, a confirmation) happens in a tick, and counting it would spin the loop.
 */
export const executionsDueIn = (db: Knex): Promise<number | null> =>
  nextDueIn(db, {
    ...STATUS_QUEUE,
    due: {
      rows: `status in ('pending', 'running') or (status in ('queued', 'submitting') and next_poll_at > now())`,
      at: 'next_poll_at',
    },
  });

/** Whether a cancellation AMC has not confirmed yet waits to be asked about again. */
export async function anyUnconfirmedCancellation(db: Knex): Promise<boolean> {
  return Boolean(await db('amc_executions').whereNotNull('cancel_requested_at').first(db.raw('1 as one')));
}

/** Executions queued or in flight, and the oldest one's age, for status and metrics. */
export const executionDepth = (db: Knex) => queueDepth(db, STATUS_QUEUE);

/** An execution's record, if there is one. */
export async function findExecution(db: Knex, id: string) {
  return db('amc_executions').where({ id }).first();
}

/** The id of an execution's instance: a subquery. */
export const instanceIdOfExecution = (db: Knex, id: string) => db('amc_executions').where({ id }).select('instance_id');

/** Executions, of one account, instance, workflow, schedule, origin or status, newest first (a query to page). */
export function executionsQuery(
  db: Knex,
  filter: {
    accountId?: string;
    instanceId?: string;
    workflowId?: string;
    scheduleId?: string;
    origin?: string;
    status?: string;
  },
) {
  let q = db('amc_executions');
  if (filter.accountId) q = q.whereIn('instance_id', instanceIdsOfAccount(db, filter.accountId));
  if (filter.instanceId) q = q.where('instance_id', filter.instanceId);
  if (filter.workflowId) q = q.where('workflow_id', filter.workflowId);
  if (filter.scheduleId) q = q.where('schedule_id', filter.scheduleId);
  if (filter.origin) q = q.where('origin', filter.origin);
  if (filter.status) q = q.where('status', filter.status);
  return q.orderBy([{ column: 'created_at', order: 'desc' }, 'id']);
}

/** How many of a schedule's runs are in each state. */
export async function executionCountsOfSchedule(
  db: Knex,
  instanceId: string,
  scheduleId: string,
): Promise<Record<string, number>> {
  const counts: { status: string; n: string }[] = await db('amc_executions')
    .where({ instance_id: instanceId, schedule_id: scheduleId })
    .groupBy('status')
    .select('status', db.raw('count(*) as n'));
  return Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
}

/** The workflow's latest completed execution: its id and the columns its output had. */
export async function latestCompleted(
  db: Knex,
  instanceId: string,
  workflowId: string,
): Promise<{ id: string; columns: string[] | null } | undefined> {
  return db('amc_executions')
    .where({ instance_id: instanceId, workflow_id: workflowId, status: 'completed' })
    .orderBy('completed_at', 'desc')
    .first('id', 'columns');
}

/**
 * SQL selecting one window (time_window_start, time_window_end) of the workflow's complete
 * loads: the newest end, and of windows ending then (a daily and a weekly run), the widest. Pure.
 */
export const newestWindowSql = (instanceId: string, workflowId: string): string =>
  `SELECT time_window_start, time_window_end FROM amc_execution_loads FINAL WHERE instance_id = ${chString(instanceId)} AND workflow_id = ${chString(workflowId)} ORDER BY time_window_end DESC, time_window_start ASC LIMIT 1`;
