/** The AMC HTTP API: instances, saved workflows, executions (create, status, detail, results). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { badRequest, conflict, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount } from '@adsync/shared/http/server';
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
            instanceId: { type: 'string', minLength: 1 },
            advertiserId: { type: 'string', minLength: 1 },
            marketplaceId: { type: 'string', minLength: 1 },
          },
        },
      },
    },
    async (req, reply) => {
      requireAccount(req, req.body.accountId);
      await db('amc_instances')
        .insert({
          account_id: req.body.accountId,
          instance_id: req.body.instanceId,
          advertiser_id: req.body.advertiserId,
          marketplace_id: req.body.marketplaceId,
        })
        .onConflict('instance_id')
        .merge(['advertiser_id', 'marketplace_id']);
      return reply.status(201).send({ instanceId: req.body.instanceId });
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
            instanceId: { type: 'string' },
            workflowId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,200}$' },
            sqlQuery: { type: 'string', minLength: 1 },
            parameters: { type: 'object' },
          },
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
            workflowId: { type: 'string', minLength: 1 },
            instanceId: {
              type: 'string',
              description: 'needed only when the workflow id is saved on several instances',
            },
            timeWindowType: { type: 'string', enum: [...TIME_WINDOW_TYPES], default: 'EXPLICIT' },
            timeWindowStart: { type: 'string', pattern: ISO_LOCAL },
            timeWindowEnd: { type: 'string', pattern: ISO_LOCAL },
            timeWindowTimeZone: { type: 'string', minLength: 1, default: 'UTC' },
            outputFormat: { type: 'string', enum: [...OUTPUT_FORMATS], default: 'CSV' },
            parameterValues: { type: 'object' },
          },
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
  const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

  app.get<{ Params: { id: string } }>(
    '/v1/amc/executions/:id/status',
    { schema: { summary: 'One status call to AMC, answered at once', params: idParam } },
    async (req) => {
      await own(req, req.params.id);
      const e = await refreshStatus(deps, req.params.id);
      return { id: e.id, status: e.status, amcStatus: e.amc_status ?? null, failureReason: e.failure_reason ?? null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/amc/executions/:id',
    { schema: { summary: 'The execution with its output metadata', params: idParam } },
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
        params: idParam,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
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
      return {
        columns: e.columns,
        rows: (await rs.json<{ row: string }>()).map((r) => JSON.parse(r.row)),
        total: e.row_count,
      };
    },
  );
}
