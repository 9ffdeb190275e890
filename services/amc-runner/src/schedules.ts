/**
 * AMC schedules, and the module that owns `amc_schedules`: adsync's copy of the schedules it
 * made in AMC, and discovery of the executions AMC starts for them. AMC runs a schedule on its
 * own; adsync finds each run by listing the workflow's executions created since the last look
 * (execute-workflow.md: workflowId + minCreationTime), records it once (a unique AMC execution
 * id), and from there it is followed, downloaded and loaded like an on-demand execution.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import { conflict, notFound } from '@adsync/shared/http/errors';
import {
  createSchedule as createAtAmc,
  deleteSchedule as deleteAtAmc,
  getSchedule,
  listExecutions,
  updateSchedule as updateAtAmc,
  type AmcExecutionStatus,
  type AmcScheduleDefinition,
} from '@adsync/shared/amazon/amc';
import { amcRefusal, findWorkflow } from './workflows.ts';
import { mapStatus } from './amc-request.ts';
import { instanceIdsOfAccount, registeredInstance, type Instance } from './instances.ts';
import { recordScheduledRun } from './executions.ts';

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export interface ScheduleRow {
  instance_id: string;
  schedule_id: string;
  workflow_id: string;
  aggregation_period: 'Daily' | 'Weekly';
  aggregation_hour_utc: number;
  aggregation_start_day: string | null;
  enabled: boolean;
  discovered_until: Date;
  created_at: Date;
  updated_at: Date;
}

export interface ScheduleInput {
  scheduleId: string;
  workflowId: string;
  aggregationPeriod: 'Daily' | 'Weekly';
  aggregationHourUtc: number;
  aggregationStartDay?: string;
  enabled: boolean;
}

/** A discovered execution is looked for again this far back, in case AMC lists it late; the unique id keeps it once. */
const DISCOVERY_OVERLAP_MS = 3600_000;
/** A new schedule's runs are looked for from this long before it was made, in case AMC's clock is behind ours. */
const FIRST_LOOK_BACK_MS = 86_400_000;

export const toAmc = (s: ScheduleInput): AmcScheduleDefinition => ({
  scheduleId: s.scheduleId,
  workflowId: s.workflowId,
  aggregationPeriod: s.aggregationPeriod,
  aggregationHourUtc: s.aggregationHourUtc,
  // Weekly runs start on a day; AMC would default it to the day of creation, so adsync always says which.
  ...(s.aggregationPeriod === 'Weekly'
    ? { aggregationStartDay: s.aggregationStartDay ?? WEEKDAYS[new Date().getUTCDay()] }
    : {}),
  scheduleEnabled: s.enabled,
});

export async function findSchedule(db: Knex, instanceId: string, scheduleId: string): Promise<ScheduleRow> {
  const s = await db('amc_schedules').where({ instance_id: instanceId, schedule_id: scheduleId }).first();
  if (!s) throw notFound(`schedule ${scheduleId} is not saved on AMC instance ${instanceId} (POST /v1/amc/schedules)`);
  return s;
}

/** Schedules, of one account, instance, workflow or schedule id, in a stable order (a query to page). */
export function schedulesQuery(
  db: Knex,
  filter: { accountId?: string; instanceId?: string; workflowId?: string; scheduleId?: string },
) {
  let q = db('amc_schedules');
  if (filter.accountId) q = q.whereIn('instance_id', instanceIdsOfAccount(db, filter.accountId));
  if (filter.instanceId) q = q.where('instance_id', filter.instanceId);
  if (filter.workflowId) q = q.where('workflow_id', filter.workflowId);
  if (filter.scheduleId) q = q.where('schedule_id', filter.scheduleId);
  return q.orderBy(['instance_id', 'schedule_id']);
}

/** Forgets our schedules of a workflow (AMC let the workflow go, so none of them runs it any more). */
export async function deleteSchedulesOfWorkflow(db: Knex, instanceId: string, workflowId: string): Promise<void> {
  await db('amc_schedules').where({ instance_id: instanceId, workflow_id: workflowId }).delete();
}

const rowOf = (s: AmcScheduleDefinition) => ({
  workflow_id: s.workflowId,
  aggregation_period: s.aggregationPeriod,
  aggregation_hour_utc: s.aggregationHourUtc,
  aggregation_start_day: s.aggregationStartDay ?? null,
  enabled: s.scheduleEnabled,
});

/** Creates the schedule in AMC for a workflow adsync saved, then our copy; discovery starts from now. */
export async function createSchedule(
  db: Knex,
  clients: AmazonClients,
  instance: Instance,
  input: ScheduleInput,
): Promise<ScheduleRow> {
  await findWorkflow(db, instance.instance_id, input.workflowId);
  const existing = await db('amc_schedules')
    .where({ instance_id: instance.instance_id, schedule_id: input.scheduleId })
    .first();
  if (existing)
    throw conflict(
      `schedule ${input.scheduleId} already exists on ${instance.instance_id}; change it with PUT /v1/amc/schedules/${instance.instance_id}/${input.scheduleId}`,
    );
  const definition = toAmc(input);
  const client = await clients.forAccount(instance.account_id);
  try {
    await createAtAmc(client, instance, definition);
  } catch (err) {
    // AMC has it already: ours, made before a crash kept us from recording it, if it runs the same workflow.
    const theirs = await getSchedule(client, instance, input.scheduleId).catch(() => null);
    if (!theirs || theirs.workflowId !== input.workflowId) amcRefusal(err, `create schedule ${input.scheduleId}`);
    try {
      await updateAtAmc(client, instance, definition);
    } catch (e2) {
      amcRefusal(e2, `adopt schedule ${input.scheduleId}`);
    }
  }
  const [row] = await db('amc_schedules')
    .insert({
      instance_id: instance.instance_id,
      schedule_id: input.scheduleId,
      ...rowOf(definition),
      discovered_until: new Date(Date.now() - FIRST_LOOK_BACK_MS),
    })
    .returning('*');
  return row;
}

/** Changes a schedule (AMC takes the whole schedule on PUT); enabling and disabling are changes of `enabled`. */
export async function updateSchedule(
  db: Knex,
  clients: AmazonClients,
  instance: Instance,
  scheduleId: string,
  patch: Partial<Omit<ScheduleInput, 'scheduleId' | 'workflowId'>>,
): Promise<ScheduleRow> {
  const current = await findSchedule(db, instance.instance_id, scheduleId);
  const merged: ScheduleInput = {
    scheduleId,
    workflowId: current.workflow_id,
    aggregationPeriod: patch.aggregationPeriod ?? current.aggregation_period,
    aggregationHourUtc: patch.aggregationHourUtc ?? current.aggregation_hour_utc,
    aggregationStartDay: patch.aggregationStartDay ?? current.aggregation_start_day ?? undefined,
    enabled: patch.enabled ?? current.enabled,
  };
  const definition = toAmc(merged);
  try {
    await updateAtAmc(await clients.forAccount(instance.account_id), instance, definition);
  } catch (err) {
    amcRefusal(err, `update schedule ${scheduleId}`);
  }
  const [row] = await db('amc_schedules')
    .where({ instance_id: instance.instance_id, schedule_id: scheduleId })
    .update({ ...rowOf(definition), updated_at: db.fn.now() })
    .returning('*');
  return row;
}

/**
 * Deletes the schedule at AMC, then ours. Runs it already started are looked for once more
 * first (discovery only follows schedules we keep), so they are still found and loaded.
 */
export async function deleteSchedule(
  db: Knex,
  clients: AmazonClients,
  log: Logger,
  instance: Instance,
  scheduleId: string,
) {
  const s = await findSchedule(db, instance.instance_id, scheduleId);
  try {
    await deleteAtAmc(await clients.forAccount(instance.account_id), instance, scheduleId);
  } catch (err) {
    amcRefusal(err, `delete schedule ${scheduleId}`);
  }
  await discoverScheduled(db, clients, log, { instanceId: s.instance_id, workflowId: s.workflow_id });
  await db('amc_schedules').where({ instance_id: instance.instance_id, schedule_id: scheduleId }).delete();
}

const utc = (s: string | undefined) => (s ? Date.parse(s.endsWith('Z') ? s : `${s}Z`) : NaN);

/**
 * Which of the workflow's schedules started an execution: the one whose period is the
 * execution's window length (a workflow may run daily and weekly). Pure.
 */
export function scheduleOf(
  schedules: Pick<ScheduleRow, 'schedule_id' | 'aggregation_period'>[],
  e: Pick<AmcExecutionStatus, 'timeWindowStart' | 'timeWindowEnd'> & { scheduleId?: string },
): string | null {
  if (e.scheduleId && schedules.some((s) => s.schedule_id === e.scheduleId)) return e.scheduleId;
  const days = Math.round((utc(e.timeWindowEnd) - utc(e.timeWindowStart)) / 86_400_000);
  const period = days === 1 ? 'Daily' : days === 7 ? 'Weekly' : null;
  return schedules.find((s) => s.aggregation_period === period)?.schedule_id ?? schedules[0]?.schedule_id ?? null;
}

/** AMC's window echo as a request adsync could send again (local times in the caller's zone). */
export function requestOf(e: AmcExecutionStatus, outputFormat: string) {
  const local = (original: string | undefined, utcValue: string | undefined) =>
    (original ?? utcValue ?? '').replace(/Z$/, '').slice(0, 19);
  return {
    workflowId: e.workflowId!,
    timeWindowType: 'EXPLICIT',
    timeWindowStart: local(e.timeWindowStartOriginal, e.timeWindowStart),
    timeWindowEnd: local(e.timeWindowEndOriginal, e.timeWindowEnd),
    timeWindowTimeZone: e.timeWindowTimeZoneOriginal ?? 'UTC',
    outputFormat,
    parameterValues: {},
  };
}

/**
 * Finds the executions AMC started for our schedules and records each once. Returns how many
 * were new. An execution AMC already finished is recorded as running, so the status queue
 * completes (downloads and loads) it like any other.
 */
/** Whether any schedule exists, so AMC is to be asked for the runs schedules start. */
export async function anySchedule(db: Knex): Promise<boolean> {
  return Boolean(await db('amc_schedules').first(db.raw('1 as one')));
}

export async function discoverScheduled(
  db: Knex,
  clients: AmazonClients,
  log: Logger,
  only?: { instanceId: string; workflowId: string },
): Promise<{ found: number; instances: string[] }> {
  let q = db('amc_schedules');
  if (only) q = q.where({ instance_id: only.instanceId, workflow_id: only.workflowId });
  const groups: { instance_id: string; workflow_id: string; since: Date }[] = await q
    .groupBy('instance_id', 'workflow_id')
    .select('instance_id', 'workflow_id', db.raw('min(discovered_until) as since'));
  let found = 0;
  const touched = new Set<string>();
  for (const g of groups) {
    try {
      const instance = await registeredInstance(db, g.instance_id);
      const schedules: ScheduleRow[] = await db('amc_schedules').where({
        instance_id: g.instance_id,
        workflow_id: g.workflow_id,
      });
      const client = await clients.forAccount(instance.account_id);
      const since = new Date(g.since).toISOString().slice(0, 19);
      const executions = await listExecutions(client, instance, g.workflow_id, since);
      let newest = new Date(g.since).getTime();
      for (const e of executions) {
        const created = utc(e.createTime);
        if (Number.isFinite(created)) newest = Math.max(newest, created);
        // AD_HOC runs are someone's on-demand executions (ours are recorded when submitted).
        if (e.executionCategory === 'AD_HOC') continue;
        const status = mapStatus(e.status);
        // The run's own format (AMC's schedules write CSV unless told otherwise), not the workflow's on-demand default.
        const request = requestOf({ ...e, workflowId: e.workflowId ?? g.workflow_id }, e.outputFormat ?? 'CSV');
        const recorded = await recordScheduledRun(db, {
          instanceId: g.instance_id,
          workflowId: g.workflow_id,
          scheduleId: scheduleOf(schedules, e as AmcExecutionStatus & { scheduleId?: string }),
          amcExecutionId: e.workflowExecutionId,
          amcStatus: e.status,
          // Finished at AMC already: the status queue's next poll downloads and loads it.
          status: status === 'completed' ? 'running' : status,
          failureReason: status === 'failed' ? (e.statusReason ?? `AMC status ${e.status}`) : null,
          request,
          ignoreDataGaps: e.ignoreDataGaps === true,
          dataGaps: e.dataGaps ?? [],
        });
        if (recorded) {
          found++;
          touched.add(g.instance_id);
          log.info(
            { instanceId: g.instance_id, workflowId: g.workflow_id, amcExecutionId: e.workflowExecutionId },
            'AMC started a scheduled execution; following it',
          );
        }
      }
      await db('amc_schedules')
        .where({ instance_id: g.instance_id, workflow_id: g.workflow_id })
        .where('discovered_until', '<', new Date(newest - DISCOVERY_OVERLAP_MS))
        .update({ discovered_until: new Date(newest - DISCOVERY_OVERLAP_MS) });
    } catch (err) {
      log.warn(
        { instanceId: g.instance_id, workflowId: g.workflow_id, err: (err as Error).message },
        'discovering scheduled AMC executions failed; the next tick tries again',
      );
    }
  }
  return { found, instances: [...touched] };
}
