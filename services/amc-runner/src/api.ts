/** The AMC HTTP API: instances, saved workflows, executions (create, status, detail, results). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { badRequest, conflict, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount, requireKnownAccount } from '@adsync/shared/http/server';
import { dateTime, idParams, nullable, object } from '@adsync/shared/http/schemas';
import { chString } from '@adsync/shared/db/clickhouse';
import {
  OUTPUT_FORMATS,
  TIME_WINDOW_TYPES,
  buildExecutionBody,
  windowProblems,
  type ExecutionInput,
} from './amc-request.ts';
import { upsertWorkflow } from '@adsync/shared/amazon/amc';
import { refreshStatus, startExecution, type AmcDeps } from './executions.ts';

const ISO_LOCAL = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$';
/** AMC's identifiers: instance, advertiser and marketplace ids are short tokens of letters, digits and - _ . */
const AMC_ID = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } as const;

const executionSchema = object(
  {
    id: { type: 'string' },
    workflowId: { type: 'string' },
    instanceId: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'submitting', 'pending', 'running', 'completed', 'failed'] },
    amcStatus: nullable({ type: 'string' }),
    amcExecutionId: nullable({ type: 'string' }),
    request: {},
    dataGaps: { type: 'array' },
    warnings: { type: 'array' },
    failureReason: nullable({ type: 'string' }),
    output_location: nullable({ type: 'string' }),
    row_count: nullable({ type: 'integer' }),
    size_bytes: nullable({ type: 'integer' }),
    columns: {},
    pollCount: { type: 'integer' },
    createdAt: dateTime,
    submittedAt: nullable(dateTime),
    completedAt: nullable(dateTime),
  },
  ['id', 'workflowId', 'instanceId', 'status'],
);

export function registerAmcApi(app: FastifyInstance, deps: AmcDeps): void {
  const { db } = deps;

  const instanceFor = async (req: FastifyRequest, instanceId: string) => {
    const i = await db('amc_instances').where({ instance_id: instanceId }).first();
    if (!i) throw notFound(`AMC instance ${instanceId} is not registered (POST /v1/amc/instances)`);
    requireAccount(req, i.account_id);
    return i;
  };

  app.post<{ Body: { accountId: string; instanceId: string; advertiserId: string; marketplaceId: string } }>(
    '/v1/amc/instances',
    {
      schema: {
        summary: 'Register an AMC instance for an account',
        body: {
          type: 'object',
          required: ['accountId', 'instanceId', 'advertiserId', 'marketplaceId'],
          additionalProperties: false,
          properties: {
            accountId: { type: 'string', format: 'uuid' },
            instanceId: AMC_ID,
            advertiserId: AMC_ID,
            marketplaceId: AMC_ID,
          },
        },
        response: {
          201: object({ instanceId: { type: 'string' }, created: { type: 'boolean' } }, ['instanceId']),
        },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.body.accountId);
      // Only the account that registered an instance may change it; another account naming its id is refused.
      const rows = await db('amc_instances')
        .insert({
          account_id: req.body.accountId,
          instance_id: req.body.instanceId,
          advertiser_id: req.body.advertiserId,
          marketplace_id: req.body.marketplaceId,
        })
        .onConflict('instance_id')
        .merge({ advertiser_id: req.body.advertiserId, marketplace_id: req.body.marketplaceId })
        .where('amc_instances.account_id', req.body.accountId)
        .returning(['instance_id', db.raw('(xmax = 0) as created')]);
      if (rows.length === 0)
        throw conflict(`AMC instance ${req.body.instanceId} is registered to another account`, {
          instanceId: req.body.instanceId,
        });
      return reply.status(201).send({ instanceId: req.body.instanceId, created: rows[0].created });
    },
  );

  app.post<{
    Body: { instanceId: string; workflowId: string; sqlQuery: string; parameters?: Record<string, unknown> };
  }>(
    '/v1/amc/workflows',
    {
      schema: {
        summary: 'Save a workflow and create or update it in AMC',
        body: {
          type: 'object',
          required: ['instanceId', 'workflowId', 'sqlQuery'],
          additionalProperties: false,
          properties: {
            instanceId: AMC_ID,
            workflowId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,200}$' },
            sqlQuery: { type: 'string', minLength: 1, maxLength: 262_144 },
            parameters: { type: 'object', maxProperties: 100 },
          },
        },
        response: {
          200: object({ instanceId: { type: 'string' }, workflowId: { type: 'string' }, amc: { type: 'string' } }),
          201: object({ instanceId: { type: 'string' }, workflowId: { type: 'string' }, amc: { type: 'string' } }),
        },
      },
    },
    async (req, reply) => {
      const instance = await instanceFor(req, req.body.instanceId);
      const client = await deps.clients.forAccount(instance.account_id);
      let action;
      try {
        action = await upsertWorkflow(client, instance, req.body.workflowId, req.body.sqlQuery);
      } catch (err) {
        if (err instanceof AmazonApiError && err.kind === 'bad_request')
          throw badRequest(`AMC refused the workflow: ${err.message}`);
        throw err;
      }
      await db('amc_workflows')
        .insert({
          instance_id: instance.instance_id,
          workflow_id: req.body.workflowId,
          sql_query: req.body.sqlQuery,
          parameters: JSON.stringify(req.body.parameters ?? {}),
          amc_synced_at: db.fn.now(),
        })
        .onConflict(['instance_id', 'workflow_id'])
        .merge({
          sql_query: req.body.sqlQuery,
          parameters: JSON.stringify(req.body.parameters ?? {}),
          amc_synced_at: db.fn.now(),
          updated_at: db.fn.now(),
        });
      return reply
        .status(action === 'created' ? 201 : 200)
        .send({ instanceId: instance.instance_id, workflowId: req.body.workflowId, amc: action });
    },
  );

  app.post<{ Body: ExecutionInput & { instanceId?: string } }>(
    '/v1/amc/executions',
    {
      schema: {
        summary: 'Run a saved workflow over a time window; answers at once, the execution runs in the background',
        body: {
          type: 'object',
          required: ['workflowId'],
          additionalProperties: false,
          properties: {
            workflowId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,200}$' },
            instanceId: { ...AMC_ID, description: 'needed only when the workflow id is saved on several instances' },
            timeWindowType: { type: 'string', enum: [...TIME_WINDOW_TYPES], default: 'EXPLICIT' },
            timeWindowStart: { type: 'string', pattern: ISO_LOCAL },
            timeWindowEnd: { type: 'string', pattern: ISO_LOCAL },
            timeWindowTimeZone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
            outputFormat: { type: 'string', enum: [...OUTPUT_FORMATS], default: 'CSV' },
            parameterValues: { type: 'object', maxProperties: 100 },
          },
        },
        response: {
          202: object(
            {
              id: { type: 'string' },
              status: { type: 'string' },
              request: {},
              warnings: { type: 'array', items: { type: 'string' } },
              status_url: { type: 'string' },
            },
            ['id', 'status', 'status_url'],
          ),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      let q = db('amc_workflows as w')
        .join('amc_instances as i', 'i.instance_id', 'w.instance_id')
        .where('w.workflow_id', req.body.workflowId);
      if (req.body.instanceId) q = q.where('w.instance_id', req.body.instanceId);
      if (p.scope === 'account') q = q.where('i.account_id', p.accountId);
      const found = await q.select('w.instance_id', 'w.workflow_id', 'i.account_id');
      if (found.length === 0)
        throw notFound(
          `workflow ${req.body.workflowId} is not saved; save it first (POST /v1/amc/workflows) — executions never send ad-hoc SQL`,
        );
      if (found.length > 1)
        throw badRequest(`workflow ${req.body.workflowId} is saved on several instances; name one with instanceId`, {
          instances: found.map((f) => f.instance_id),
        });
      const { instanceId: _ignored, ...input } = req.body;
      const problems = windowProblems(buildExecutionBody(input, new Date(), deps.defaultWindowDays));
      if (problems.length) throw badRequest(problems.join('; '), { problems });
      const started = await startExecution(deps, found[0], input);
      if (started.status === 'failed')
        throw conflict(started.failureReason ?? 'AMC refused the execution', { id: started.id });
      return reply.status(202).send({
        id: started.id,
        status: started.status,
        request: started.body,
        warnings: started.warnings,
        status_url: `/v1/amc/executions/${started.id}/status`,
      });
    },
  );

  const own = async (req: FastifyRequest, id: string) => {
    const e = await db('amc_executions as e')
      .join('amc_instances as i', 'i.instance_id', 'e.instance_id')
      .where('e.id', id)
      .first('e.*', 'i.account_id');
    if (!e) throw notFound(`no AMC execution ${id}`);
    requireAccount(req, e.account_id);
    return e;
  };
  const idParam = idParams();

  app.get<{ Params: { id: string } }>(
    '/v1/amc/executions/:id/status',
    {
      schema: {
        summary: 'One status call to AMC, answered at once',
        params: idParam,
        response: {
          200: object({
            id: { type: 'string' },
            status: { type: 'string' },
            amcStatus: nullable({ type: 'string' }),
            failureReason: nullable({ type: 'string' }),
          }),
        },
      },
    },
    async (req) => {
      await own(req, req.params.id);
      const e = await refreshStatus(deps, req.params.id);
      return { id: e.id, status: e.status, amcStatus: e.amc_status ?? null, failureReason: e.failure_reason ?? null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/amc/executions/:id',
    {
      schema: {
        summary: 'The execution with its output metadata',
        params: idParam,
        response: { 200: executionSchema },
      },
    },
    async (req) => {
      const e = await own(req, req.params.id);
      return {
        id: e.id,
        workflowId: e.workflow_id,
        instanceId: e.instance_id,
        status: e.status,
        amcStatus: e.amc_status,
        amcExecutionId: e.amc_execution_id,
        request: e.request,
        dataGaps: e.data_gaps ?? [],
        warnings: e.warnings ?? [],
        failureReason: e.failure_reason,
        output_location: e.output_location,
        row_count: e.row_count,
        size_bytes: e.size_bytes,
        columns: e.columns,
        pollCount: e.poll_count,
        createdAt: e.created_at,
        submittedAt: e.submitted_at,
        completedAt: e.completed_at,
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number; offset: number } }>(
    '/v1/amc/executions/:id/results',
    {
      schema: {
        summary: "A completed execution's result rows, a page at a time",
        params: idParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
          },
        },
        response: {
          200: object({
            columns: {},
            rows: { type: 'array', items: { type: 'object', additionalProperties: true } },
            total: nullable({ type: 'integer' }),
            nextOffset: { type: ['integer', 'null'] },
          }),
        },
      },
    },
    async (req) => {
      const e = await own(req, req.params.id);
      if (e.status !== 'completed')
        throw conflict(`execution ${e.id} is ${e.status}; results exist once it is completed`);
      const rs = await deps.ch.client.query({
        query: `SELECT row FROM amc_results FINAL WHERE execution_id = ${chString(e.id)} ORDER BY row_number LIMIT ${req.query.limit} OFFSET ${req.query.offset}`,
        format: 'JSONEachRow',
      });
      const rows = (await rs.json<{ row: string }>()).map((r) => JSON.parse(r.row));
      const next = req.query.offset + rows.length;
      return { columns: e.columns, rows, total: e.row_count, nextOffset: next < (e.row_count ?? 0) ? next : null };
    },
  );
}
