/** The AMC workflow API: saved workflows (list, get with a live drift check, save, update, delete) and drift per instance. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount } from '@adsync/shared/http/server';
import { nullable, object, page, pageQueryProperties, pageResponseProperties } from '@adsync/shared/http/schemas';
import { getWorkflow as getAtAmc } from '@adsync/shared/amazon/amc';
import { DATA_GAP_POLICIES, type DataGapPolicy } from './data-gaps.ts';
import { OUTPUT_FORMATS } from './amc-request.ts';
import {
  checkDrift,
  driftOf,
  findWorkflow,
  recordDrift,
  removeWorkflow,
  saveWorkflow,
  workflowsQuery,
  type WorkflowInput,
  type WorkflowRow,
} from './workflows.ts';
import { schedulesQuery } from './schedules.ts';
import { findInstance } from './instances.ts';

/** AMC's identifiers: instance, advertiser and marketplace ids are short tokens of letters, digits and - _ . */
export const AMC_ID = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } as const;
/** create-workflow.md: "alphanumeric characters, periods, dashes, and underscores". */
export const WORKFLOW_ID = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,200}$' } as const;

/** AMC's inputParameters (create-workflow.md "Include custom parameters"). */
const inputParameters = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    required: ['name', 'dataType'],
    additionalProperties: true,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      dataType: {},
      columnType: { type: 'string', enum: ['DIMENSION', 'METRIC'] },
      defaultValue: {},
      description: { type: 'string', maxLength: 2000 },
    },
  },
} as const;

const definition = {
  sqlQuery: { type: 'string', minLength: 1, maxLength: 262_144 },
  inputParameters,
  outputFormat: { type: 'string', enum: [...OUTPUT_FORMATS] },
  dataGapPolicy: {
    type: 'string',
    enum: [...DATA_GAP_POLICIES],
    description:
      'what a data gap in an execution window does: run_anyway (load it marked partial), wait_and_rerun (run the window again until the gap closes), fail',
  },
} as const;

export const workflowSchema = object(
  {
    instanceId: { type: 'string' },
    workflowId: { type: 'string' },
    sqlQuery: { type: 'string' },
    inputParameters: {
      type: 'array',
      items: object({ name: { type: 'string' }, dataType: {}, defaultValue: {}, description: { type: 'string' } }, [
        'name',
      ]),
    },
    outputFormat: { type: 'string' },
    dataGapPolicy: { type: 'string' },
    drift: nullable({ type: 'string' }),
    amc: nullable({ type: 'object', additionalProperties: true }),
    driftCheckedAt: nullable({ type: 'string' }),
    updatedAt: { type: 'string' },
  },
  // workflowView sets every field.
  ['instanceId', 'workflowId', 'sqlQuery', 'inputParameters', 'outputFormat', 'dataGapPolicy', 'drift', 'updatedAt'],
);

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
export const workflowView = (w: WorkflowRow) => ({
  instanceId: w.instance_id,
  workflowId: w.workflow_id,
  sqlQuery: w.sql_query,
  inputParameters: w.input_parameters ?? [],
  outputFormat: w.output_format,
  dataGapPolicy: w.data_gap_policy,
  drift: w.drift_status,
  amc: w.drift_status === 'drifted' ? w.amc_definition : null,
  driftCheckedAt: iso(w.drift_checked_at),
  updatedAt: iso(w.updated_at)!,
});

const pathParams = {
  type: 'object',
  required: ['instanceId', 'workflowId'],
  additionalProperties: false,
  properties: { instanceId: AMC_ID, workflowId: WORKFLOW_ID },
} as const;

export interface WorkflowApiDeps {
  db: Knex;
  clients: AmazonClients;
  /** Called after a workflow is saved or deleted (the AMC dashboard follows the saved workflows). */
  onChange?: () => Promise<unknown>;
}

/** The instance, if the caller's key may act on it (an account key only on its own account's instances). */
export async function ownInstance(db: Knex, req: FastifyRequest, instanceId: string) {
  const i = await findInstance(db, instanceId);
  if (!i) throw notFound(`AMC instance ${instanceId} is not registered (POST /v1/amc/instances)`);
  requireAccount(req, i.account_id);
  return i;
}

/** Filters naming a workflow or schedule must name the caller's own (an account key naming another's gets 404, as for ids). */
export async function ownFilters(
  db: Knex,
  req: FastifyRequest,
  q: { instanceId?: string; workflowId?: string; scheduleId?: string },
) {
  if (q.instanceId) await ownInstance(db, req, q.instanceId);
  const p = principalOf(req);
  const scope = { accountId: p.scope === 'account' ? p.accountId : undefined, instanceId: q.instanceId };
  if (q.workflowId && !(await workflowsQuery(db, { ...scope, workflowId: q.workflowId }).first('instance_id')))
    throw notFound(`workflow ${q.workflowId} is not saved on your AMC instances`);
  if (q.scheduleId && !(await schedulesQuery(db, { ...scope, scheduleId: q.scheduleId }).first('instance_id')))
    throw notFound(`schedule ${q.scheduleId} is not saved on your AMC instances`);
}

export function registerWorkflowApi(app: FastifyInstance, deps: WorkflowApiDeps): void {
  const { db, clients } = deps;
  const changed = async () => {
    await deps.onChange?.().catch(() => undefined);
  };

  app.post<{ Body: WorkflowInput & { instanceId: string } }>(
    '/v1/amc/workflows',
    {
      schema: {
        summary: 'Save a workflow: create or update it in AMC, then keep our copy',
        body: {
          type: 'object',
          required: ['instanceId', 'workflowId', 'sqlQuery'],
          additionalProperties: false,
          properties: { instanceId: AMC_ID, workflowId: WORKFLOW_ID, ...definition },
        },
        response: {
          200: object({ instanceId: { type: 'string' }, workflowId: { type: 'string' }, amc: { type: 'string' } }),
          201: object({ instanceId: { type: 'string' }, workflowId: { type: 'string' }, amc: { type: 'string' } }),
        },
      },
    },
    async (req, reply) => {
      const instance = await ownInstance(db, req, req.body.instanceId);
      const { instanceId: _i, ...input } = req.body;
      const action = await saveWorkflow(db, clients, instance, input);
      await changed();
      return reply
        .status(action === 'created' ? 201 : 200)
        .send({ instanceId: instance.instance_id, workflowId: input.workflowId, amc: action });
    },
  );

  app.get<{ Querystring: { instanceId?: string; limit: number; offset: number } }>(
    '/v1/amc/workflows',
    {
      schema: {
        summary: 'Saved workflows with their drift from AMC as last checked',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { instanceId: AMC_ID, ...pageQueryProperties },
        },
        response: { 200: object({ items: { type: 'array', items: workflowSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      await ownFilters(db, req, req.query);
      const result = await page<WorkflowRow>(
        workflowsQuery(db, {
          accountId: p.scope === 'account' ? p.accountId : undefined,
          instanceId: req.query.instanceId,
        }),
        req.query,
      );
      return { ...result, items: result.items.map(workflowView) };
    },
  );

  app.get<{ Params: { instanceId: string; workflowId: string } }>(
    '/v1/amc/workflows/:instanceId/:workflowId',
    {
      schema: {
        summary: "A saved workflow, compared with AMC's copy now",
        params: pathParams,
        response: { 200: workflowSchema },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      const ours = await findWorkflow(db, instance.instance_id, req.params.workflowId);
      const amc = await getAtAmc(await clients.forAccount(instance.account_id), instance, ours.workflow_id);
      return workflowView(await recordDrift(db, ours, driftOf(ours, amc), amc));
    },
  );

  app.put<{ Params: { instanceId: string; workflowId: string }; Body: Omit<WorkflowInput, 'workflowId'> }>(
    '/v1/amc/workflows/:instanceId/:workflowId',
    {
      schema: {
        summary: 'Change a saved workflow (in AMC, then our copy); fields left out keep their value',
        params: pathParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: definition },
        response: { 200: workflowSchema },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      const ours = await findWorkflow(db, instance.instance_id, req.params.workflowId);
      await saveWorkflow(db, clients, instance, {
        workflowId: ours.workflow_id,
        sqlQuery: req.body.sqlQuery ?? ours.sql_query,
        inputParameters: req.body.inputParameters ?? ours.input_parameters,
        outputFormat: req.body.outputFormat ?? ours.output_format,
        dataGapPolicy: (req.body.dataGapPolicy ?? ours.data_gap_policy) as DataGapPolicy,
      });
      await changed();
      return workflowView(await findWorkflow(db, instance.instance_id, ours.workflow_id));
    },
  );

  app.delete<{ Params: { instanceId: string; workflowId: string } }>(
    '/v1/amc/workflows/:instanceId/:workflowId',
    {
      schema: {
        summary: "Delete a saved workflow in AMC and here; refused (409, AMC's words) while a schedule runs it",
        params: pathParams,
        response: { 200: object({ workflowId: { type: 'string' }, amc: { type: 'string' } }) },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      const amc = await removeWorkflow(db, clients, instance, req.params.workflowId);
      await changed();
      return { workflowId: req.params.workflowId, amc };
    },
  );

  app.post<{ Params: { instanceId: string } }>(
    '/v1/amc/instances/:instanceId/drift',
    {
      schema: {
        summary: "Compare every AMC workflow of the instance with adsync's copies now, and record the result",
        params: {
          type: 'object',
          required: ['instanceId'],
          additionalProperties: false,
          properties: { instanceId: AMC_ID },
        },
        response: {
          200: object({
            instanceId: { type: 'string' },
            checkedAt: { type: 'string' },
            inSync: { type: 'array', items: { type: 'string' } },
            drifted: { type: 'array' },
            missingAtAmc: { type: 'array', items: { type: 'string' } },
            unmanaged: { type: 'array', items: { type: 'string' } },
          }),
        },
      },
    },
    async (req) => checkDrift(db, clients, await ownInstance(db, req, req.params.instanceId)),
  );
}
