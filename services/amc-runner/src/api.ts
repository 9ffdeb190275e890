/** The AMC HTTP API: instances and executions (create, history, status, detail, results). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound } from '@adsync/shared/http/errors';
import { listedAccount, principalOf, requireAccount, requireKnownAccount } from '@adsync/shared/http/server';
import {
  dateTime,
  idParams,
  nullable,
  accountListQuery,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
} from '@adsync/shared/http/schemas';
import {
  OUTPUT_FORMATS,
  TIME_WINDOW_TYPES,
  buildExecutionBody,
  windowProblems,
  type ExecutionInput,
} from './amc-request.ts';
import { executionsQuery, findExecution, startExecution, type AmcDeps } from './executions.ts';
import { createStatusReader } from './status-read.ts';
import { AMC_ID, WORKFLOW_ID, ownFilters } from './workflow-api.ts';
import { findInstance, instancesQuery, registerInstance } from './instances.ts';
import { workflowsQuery } from './workflows.ts';
import { resultRows } from './amc-results.ts';

const ISO_LOCAL = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$';
const STATUSES = ['queued', 'submitting', 'pending', 'running', 'completed', 'failed', 'replaced'] as const;
const ORIGINS = ['on_demand', 'scheduled', 'rerun'] as const;

const executionSchema = object(
  {
    id: { type: 'string' },
    workflowId: { type: 'string' },
    instanceId: { type: 'string' },
    status: { type: 'string', enum: [...STATUSES] },
    origin: { type: 'string', enum: [...ORIGINS] },
    scheduleId: nullable({ type: 'string' }),
    rerunOf: nullable({ type: 'string' }),
    timeWindowStart: nullable({ type: 'string' }),
    timeWindowEnd: nullable({ type: 'string' }),
    partial: { type: 'boolean' },
    amcStatus: nullable({ type: 'string' }),
    amcExecutionId: nullable({ type: 'string' }),
    request: nullable(
      object({
        timeWindowType: { type: 'string' },
        timeWindowTimeZone: { type: 'string' },
        outputFormat: { type: 'string' },
      }),
    ),
    dataGaps: { type: 'array' },
    warnings: { type: 'array', items: { type: 'string' } },
    failureReason: nullable({ type: 'string' }),
    output_location: nullable({ type: 'string' }),
    row_count: nullable({ type: 'integer' }),
    size_bytes: nullable({ type: 'integer' }),
    columns: nullable({ type: 'array', items: { type: 'string' } }),
    pollCount: { type: 'integer' },
    createdAt: dateTime,
    submittedAt: nullable(dateTime),
    completedAt: nullable(dateTime),
  },
  // executionView sets every field (null where there is nothing to say).
  [
    'id',
    'workflowId',
    'instanceId',
    'status',
    'origin',
    'scheduleId',
    'timeWindowStart',
    'timeWindowEnd',
    'partial',
    'amcStatus',
    'request',
    'warnings',
    'failureReason',
    'row_count',
    'columns',
    'createdAt',
    'completedAt',
  ],
);

export function registerAmcApi(app: FastifyInstance, deps: AmcDeps): void {
  const { db } = deps;

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
      const registered = await registerInstance(db, req.body);
      if (!registered)
        throw conflict(`AMC instance ${req.body.instanceId} is registered to another account`, {
          instanceId: req.body.instanceId,
        });
      return reply.status(201).send({ instanceId: req.body.instanceId, created: registered.created });
    },
  );

  app.get<{ Querystring: { accountId?: string; limit: number; offset: number } }>(
    '/v1/amc/instances',
    {
      schema: {
        summary: "Registered AMC instances: an account's (an account key sees its own only), or all for an admin",
        querystring: accountListQuery(),
        response: {
          200: object({
            instances: {
              type: 'array',
              items: object(
                {
                  instanceId: { type: 'string' },
                  accountId: { type: 'string' },
                  advertiserId: { type: 'string' },
                  marketplaceId: { type: 'string' },
                  createdAt: dateTime,
                },
                ['instanceId', 'accountId', 'advertiserId', 'marketplaceId'],
              ),
            },
            ...pageResponseProperties,
          }),
        },
      },
    },
    async (req) => {
      const accountId = await listedAccount(req, db, req.query.accountId);
      const { items, ...rest } = await page<Record<string, string>>(instancesQuery(db, accountId), req.query);
      return {
        instances: items.map((i) => ({
          instanceId: i.instance_id,
          accountId: i.account_id,
          advertiserId: i.advertiser_id,
          marketplaceId: i.marketplace_id,
          createdAt: i.created_at,
        })),
        ...rest,
      };
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
            workflowId: WORKFLOW_ID,
            instanceId: { ...AMC_ID, description: 'needed only when the workflow id is saved on several instances' },
            timeWindowType: { type: 'string', enum: [...TIME_WINDOW_TYPES], default: 'EXPLICIT' },
            timeWindowStart: { type: 'string', pattern: ISO_LOCAL },
            timeWindowEnd: { type: 'string', pattern: ISO_LOCAL },
            timeWindowTimeZone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
            outputFormat: {
              type: 'string',
              enum: [...OUTPUT_FORMATS],
              description: "default: the workflow's outputFormat",
            },
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
      const found = await workflowsQuery(db, {
        accountId: p.scope === 'account' ? p.accountId : undefined,
        instanceId: req.body.instanceId,
        workflowId: req.body.workflowId,
      }).select('instance_id', 'workflow_id', 'output_format', 'data_gap_policy');
      if (found.length === 0)
        throw notFound(
          `workflow ${req.body.workflowId} is not saved; save it first (POST /v1/amc/workflows) — executions never send ad-hoc SQL`,
        );
      if (found.length > 1)
        throw badRequest(`workflow ${req.body.workflowId} is saved on several instances; name one with instanceId`, {
          instances: found.map((f) => f.instance_id),
        });
      const { instanceId: _ignored, ...input } = req.body;
      const now = new Date();
      const problems = windowProblems(
        buildExecutionBody(
          { ...input, outputFormat: input.outputFormat ?? found[0].output_format },
          now,
          deps.defaultWindowDays,
        ),
        now,
      );
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
    const e = await findExecution(db, id);
    const instance = e && (await findInstance(db, e.instance_id));
    if (!instance) throw notFound(`no AMC execution ${id}`);
    requireAccount(req, instance.account_id);
    return e;
  };
  const idParam = idParams();
  const statusReader = createStatusReader(deps);

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
      const missing = () => notFound(`no AMC execution ${req.params.id}`);
      const accountId = await statusReader.ownerOf(req.params.id);
      if (!accountId) throw missing();
      requireAccount(req, accountId);
      const s = await statusReader.status(req.params.id);
      if (!s) throw missing();
      return { id: s.id, status: s.status, amcStatus: s.amcStatus, failureReason: s.failureReason };
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
      return executionView(await own(req, req.params.id));
    },
  );

  app.get<{
    Querystring: {
      instanceId?: string;
      workflowId?: string;
      scheduleId?: string;
      origin?: string;
      status?: string;
      limit: number;
      offset: number;
    };
  }>(
    '/v1/amc/executions',
    {
      schema: {
        summary: "Execution history, newest first: on-demand runs, a schedule's runs and re-runs over data gaps",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            instanceId: AMC_ID,
            workflowId: WORKFLOW_ID,
            scheduleId: WORKFLOW_ID,
            origin: { type: 'string', enum: [...ORIGINS] },
            status: { type: 'string', enum: [...STATUSES] },
            ...pageQueryProperties,
          },
        },
        response: { 200: object({ items: { type: 'array', items: executionSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      await ownFilters(db, req, req.query);
      const { limit: _l, offset: _o, ...filter } = req.query;
      const result = await page<Record<string, unknown>>(
        executionsQuery(db, { ...filter, accountId: p.scope === 'account' ? p.accountId : undefined }),
        req.query,
      );
      return { ...result, items: result.items.map(executionView) };
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
          200: object(
            {
              columns: nullable({ type: 'array', items: { type: 'string' } }),
              rows: { type: 'array', items: { type: 'object', additionalProperties: true } },
              total: nullable({ type: 'integer' }),
              nextOffset: { type: ['integer', 'null'] },
            },
            ['columns', 'rows', 'total', 'nextOffset'],
          ),
        },
      },
    },
    async (req) => {
      const e = await own(req, req.params.id);
      if (e.status !== 'completed')
        throw conflict(`execution ${e.id} is ${e.status}; results exist once it is completed`);
      const rows = await resultRows(deps.ch, e.id, req.query);
      const next = req.query.offset + rows.length;
      return { columns: e.columns, rows, total: e.row_count, nextOffset: next < (e.row_count ?? 0) ? next : null };
    },
  );
}

const isoOrNull = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a knex row
function executionView(e: Record<string, any>) {
  return {
    id: e.id,
    workflowId: e.workflow_id,
    instanceId: e.instance_id,
    status: e.status,
    origin: e.origin,
    scheduleId: e.schedule_id ?? null,
    rerunOf: e.rerun_of ?? null,
    timeWindowStart: e.time_window_start ?? null,
    timeWindowEnd: e.time_window_end ?? null,
    partial: e.partial === true,
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
    createdAt: isoOrNull(e.created_at),
    submittedAt: isoOrNull(e.submitted_at),
    completedAt: isoOrNull(e.completed_at),
  };
}
