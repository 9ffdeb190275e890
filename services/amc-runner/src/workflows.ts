/**
 * Saved AMC workflows, and the module that owns `amc_workflows`: adsync's copy of what it
 * saved in AMC (SQL, inputParameters, the output format its executions use, the data-gap
 * policy). AMC is written first, our copy after, so our copy never claims what AMC refused.
 * The drift check compares AMC's workflows with our copies and records what differs.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { badRequest, conflict, notFound } from '@adsync/shared/http/errors';
import {
  deleteWorkflow as deleteAtAmc,
  listWorkflows as listAtAmc,
  upsertWorkflow,
  type AmcWorkflowDefinition,
} from '@adsync/shared/amazon/amc';
import type { DataGapPolicy } from './data-gaps.ts';
import { instanceIdsOfAccount, type Instance } from './instances.ts';
import { deleteSchedulesOfWorkflow } from './schedules.ts';

export interface WorkflowInput {
  workflowId: string;
  sqlQuery: string;
  inputParameters?: unknown[];
  outputFormat?: 'CSV' | 'PARQUET';
  dataGapPolicy?: DataGapPolicy;
}

export interface WorkflowRow {
  instance_id: string;
  workflow_id: string;
  sql_query: string;
  input_parameters: unknown[];
  output_format: 'CSV' | 'PARQUET';
  data_gap_policy: DataGapPolicy;
  drift_status: DriftStatus | null;
  amc_definition: AmcWorkflowDefinition | null;
  drift_checked_at: Date | null;
  amc_synced_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type DriftStatus = 'in_sync' | 'drifted' | 'missing_at_amc';

/** A JSON value with object keys in one order, so two equal definitions compare equal. */
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;

/** How AMC's copy of a workflow differs from ours. Pure. */
export function driftOf(
  ours: { sql_query: string; input_parameters: unknown[] },
  amc: AmcWorkflowDefinition | null,
): DriftStatus {
  if (!amc) return 'missing_at_amc';
  const same =
    amc.sqlQuery.trim() === ours.sql_query.trim() &&
    JSON.stringify(canonical(amc.inputParameters ?? [])) === JSON.stringify(canonical(ours.input_parameters ?? []));
  return same ? 'in_sync' : 'drifted';
}

/** AMC's refusal, passed on with AMC's own words; anything else is rethrown. */
export function amcRefusal(err: unknown, what: string): never {
  if (err instanceof AmazonApiError && (err.kind === 'bad_request' || err.kind === 'duplicate')) {
    const details = (err.body as { details?: unknown } | null)?.details;
    throw conflict(`AMC refused to ${what}: ${typeof details === 'string' ? details : err.message}`, {
      amc: err.body ?? null,
    });
  }
  throw err;
}

export async function findWorkflow(db: Knex, instanceId: string, workflowId: string): Promise<WorkflowRow> {
  const w = await db('amc_workflows').where({ instance_id: instanceId, workflow_id: workflowId }).first();
  if (!w) throw notFound(`workflow ${workflowId} is not saved on AMC instance ${instanceId} (POST /v1/amc/workflows)`);
  return w;
}

/** Saved workflows, of one account, instance or workflow id, in a stable order (a query to page, or to narrow with a select). */
export function workflowsQuery(db: Knex, filter: { accountId?: string; instanceId?: string; workflowId?: string }) {
  let q = db('amc_workflows');
  if (filter.accountId) q = q.whereIn('instance_id', instanceIdsOfAccount(db, filter.accountId));
  if (filter.instanceId) q = q.where('instance_id', filter.instanceId);
  if (filter.workflowId) q = q.where('workflow_id', filter.workflowId);
  return q.orderBy(['instance_id', 'workflow_id']);
}

/** The ids of the instances with saved workflows: a subquery. */
export const instanceIdsWithWorkflows = (db: Knex) => db('amc_workflows').select('instance_id');

/** The workflow's data-gap policy (run_anyway when it is no longer saved). */
export async function dataGapPolicyOf(db: Knex, instanceId: string, workflowId: string): Promise<DataGapPolicy> {
  const w = await db('amc_workflows')
    .where({ instance_id: instanceId, workflow_id: workflowId })
    .first('data_gap_policy');
  return w?.data_gap_policy ?? 'run_anyway';
}

/** Creates or updates the workflow in AMC, then our copy (in sync as of now). */
export async function saveWorkflow(
  db: Knex,
  clients: AmazonClients,
  instance: Instance,
  input: WorkflowInput,
): Promise<'created' | 'updated'> {
  const client = await clients.forAccount(instance.account_id);
  // Saving again changes what it names; settings left out keep the values saved before.
  const before: WorkflowRow | undefined = await db('amc_workflows')
    .where({ instance_id: instance.instance_id, workflow_id: input.workflowId })
    .first();
  const definition = {
    workflowId: input.workflowId,
    sqlQuery: input.sqlQuery,
    inputParameters: input.inputParameters ?? before?.input_parameters ?? [],
  };
  let action: 'created' | 'updated';
  try {
    action = await upsertWorkflow(client, instance, definition);
  } catch (err) {
    if (err instanceof AmazonApiError && err.kind === 'bad_request')
      throw badRequest(`AMC refused the workflow: ${err.message}`, { amc: err.body ?? null });
    throw err;
  }
  const row = {
    sql_query: input.sqlQuery,
    input_parameters: JSON.stringify(definition.inputParameters),
    output_format: input.outputFormat ?? before?.output_format ?? 'CSV',
    data_gap_policy: input.dataGapPolicy ?? before?.data_gap_policy ?? 'run_anyway',
    drift_status: 'in_sync',
    amc_definition: JSON.stringify(definition),
    drift_checked_at: db.fn.now(),
    amc_synced_at: db.fn.now(),
  };
  await db('amc_workflows')
    .insert({ instance_id: instance.instance_id, workflow_id: input.workflowId, ...row })
    .onConflict(['instance_id', 'workflow_id'])
    .merge({ ...row, updated_at: db.fn.now() });
  return action;
}

/** Deletes the workflow at AMC (AMC refuses while a schedule runs it: 409 with its words), then our copy. */
export async function removeWorkflow(
  db: Knex,
  clients: AmazonClients,
  instance: Instance,
  workflowId: string,
): Promise<'deleted' | 'absent_at_amc'> {
  await findWorkflow(db, instance.instance_id, workflowId);
  const client = await clients.forAccount(instance.account_id);
  let atAmc: 'deleted' | 'absent';
  try {
    atAmc = await deleteAtAmc(client, instance, workflowId);
  } catch (err) {
    amcRefusal(err, `delete workflow ${workflowId}`);
  }
  await db.transaction(async (tx) => {
    // AMC let it go, so no schedule of AMC's runs it: ours naming it are stale.
    await deleteSchedulesOfWorkflow(tx, instance.instance_id, workflowId);
    await tx('amc_workflows').where({ instance_id: instance.instance_id, workflow_id: workflowId }).delete();
  });
  return atAmc === 'deleted' ? 'deleted' : 'absent_at_amc';
}

export interface DriftReport {
  instanceId: string;
  checkedAt: string;
  inSync: string[];
  drifted: { workflowId: string; ours: { sqlQuery: string; inputParameters: unknown[] }; amc: AmcWorkflowDefinition }[];
  missingAtAmc: string[];
  /** Saved in AMC but not by adsync (made in the AMC console, or by another tool). */
  unmanaged: string[];
}

/** Compares every AMC workflow of the instance with our copies and records each one's drift. */
export async function checkDrift(db: Knex, clients: AmazonClients, instance: Instance): Promise<DriftReport> {
  const client = await clients.forAccount(instance.account_id);
  const theirs = new Map((await listAtAmc(client, instance)).map((w) => [w.workflowId, w]));
  const ours: WorkflowRow[] = await db('amc_workflows').where({ instance_id: instance.instance_id });
  const report: DriftReport = {
    instanceId: instance.instance_id,
    checkedAt: new Date().toISOString(),
    inSync: [],
    drifted: [],
    missingAtAmc: [],
    unmanaged: [...theirs.keys()].filter((id) => !ours.some((w) => w.workflow_id === id)).sort(),
  };
  for (const w of ours) {
    const amc = theirs.get(w.workflow_id) ?? null;
    const status = driftOf(w, amc);
    if (status === 'in_sync') report.inSync.push(w.workflow_id);
    else if (status === 'missing_at_amc') report.missingAtAmc.push(w.workflow_id);
    else
      report.drifted.push({
        workflowId: w.workflow_id,
        ours: { sqlQuery: w.sql_query, inputParameters: w.input_parameters },
        amc: amc!,
      });
    await recordDrift(db, w, status, amc);
  }
  return report;
}

/** Records how AMC's copy of a workflow differs from ours, as of now; the workflow as it now reads. */
export async function recordDrift(
  db: Knex,
  w: { instance_id: string; workflow_id: string },
  status: DriftStatus,
  amc: AmcWorkflowDefinition | null,
): Promise<WorkflowRow> {
  const [row] = await db('amc_workflows')
    .where({ instance_id: w.instance_id, workflow_id: w.workflow_id })
    .update({
      drift_status: status,
      amc_definition: amc ? JSON.stringify(amc) : null,
      drift_checked_at: db.fn.now(),
    })
    .returning('*');
  return row;
}
