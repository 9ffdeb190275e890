/** The AMC schedule API: schedules of saved workflows (create, list, get, change, enable/disable, delete). */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import { badRequest } from '@adsync/shared/http/errors';
import { principalOf } from '@adsync/shared/http/server';
import { nullable, object, page, pageQueryProperties, pageResponseProperties } from '@adsync/shared/http/schemas';
import {
  WEEKDAYS,
  createSchedule,
  deleteSchedule,
  findSchedule,
  schedulesQuery,
  updateSchedule,
  type ScheduleInput,
  type ScheduleRow,
} from './schedules.ts';
import { AMC_ID, WORKFLOW_ID, ownFilters, ownInstance } from './workflow-api.ts';
import { executionCountsOfSchedule } from './executions.ts';

const timing = {
  aggregationPeriod: { type: 'string', enum: ['Daily', 'Weekly'] },
  aggregationHourUtc: { type: 'integer', minimum: 0, maximum: 23, description: 'the hour (UTC) each run starts' },
  aggregationStartDay: {
    type: 'string',
    enum: [...WEEKDAYS],
    description: 'Weekly only: the day of the week runs start (default: today)',
  },
  enabled: { type: 'boolean' },
} as const;

const scheduleSchema = object(
  {
    instanceId: { type: 'string' },
    scheduleId: { type: 'string' },
    workflowId: { type: 'string' },
    aggregationPeriod: { type: 'string' },
    aggregationHourUtc: { type: 'integer' },
    aggregationStartDay: nullable({ type: 'string' }),
    enabled: { type: 'boolean' },
    discoveredUntil: { type: 'string' },
    executions: object({}),
    updatedAt: { type: 'string' },
  },
  ['instanceId', 'scheduleId', 'workflowId', 'aggregationPeriod', 'enabled'],
);

const view = (s: ScheduleRow, executions?: Record<string, number>) => ({
  instanceId: s.instance_id,
  scheduleId: s.schedule_id,
  workflowId: s.workflow_id,
  aggregationPeriod: s.aggregation_period,
  aggregationHourUtc: s.aggregation_hour_utc,
  aggregationStartDay: s.aggregation_period === 'Weekly' ? s.aggregation_start_day : null,
  enabled: s.enabled,
  discoveredUntil: new Date(s.discovered_until).toISOString(),
  ...(executions ? { executions } : {}),
  updatedAt: new Date(s.updated_at).toISOString(),
});

const pathParams = {
  type: 'object',
  required: ['instanceId', 'scheduleId'],
  additionalProperties: false,
  properties: { instanceId: AMC_ID, scheduleId: WORKFLOW_ID },
} as const;

export function registerScheduleApi(
  app: FastifyInstance,
  deps: { db: Knex; clients: AmazonClients; log: Logger },
): void {
  const { db, clients } = deps;

  app.post<{ Body: ScheduleInput & { instanceId: string; enabled?: boolean } }>(
    '/v1/amc/schedules',
    {
      schema: {
        summary: "Schedule a saved workflow in AMC; AMC's runs are then found, loaded and kept like on-demand ones",
        body: {
          type: 'object',
          required: ['instanceId', 'scheduleId', 'workflowId', 'aggregationPeriod'],
          additionalProperties: false,
          properties: {
            instanceId: AMC_ID,
            scheduleId: WORKFLOW_ID,
            workflowId: WORKFLOW_ID,
            ...timing,
            aggregationHourUtc: { ...timing.aggregationHourUtc, default: 0 },
            enabled: { type: 'boolean', default: true },
          },
        },
        response: { 201: scheduleSchema },
      },
    },
    async (req, reply) => {
      const instance = await ownInstance(db, req, req.body.instanceId);
      if (req.body.aggregationPeriod === 'Daily' && req.body.aggregationStartDay)
        throw badRequest('aggregationStartDay is for Weekly schedules only (AMC ignores it for Daily)');
      const { instanceId: _i, ...input } = req.body;
      const row = await createSchedule(db, clients, instance, { ...input, enabled: input.enabled ?? true });
      return reply.status(201).send(view(row));
    },
  );

  app.get<{ Querystring: { instanceId?: string; workflowId?: string; limit: number; offset: number } }>(
    '/v1/amc/schedules',
    {
      schema: {
        summary: 'Schedules, of an instance or a workflow',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { instanceId: AMC_ID, workflowId: WORKFLOW_ID, ...pageQueryProperties },
        },
        response: { 200: object({ items: { type: 'array', items: scheduleSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      await ownFilters(db, req, req.query);
      const result = await page<ScheduleRow>(
        schedulesQuery(db, {
          accountId: p.scope === 'account' ? p.accountId : undefined,
          instanceId: req.query.instanceId,
          workflowId: req.query.workflowId,
        }),
        req.query,
      );
      return { ...result, items: result.items.map((s) => view(s)) };
    },
  );

  app.get<{ Params: { instanceId: string; scheduleId: string } }>(
    '/v1/amc/schedules/:instanceId/:scheduleId',
    {
      schema: {
        summary: 'A schedule, with how many of its runs are in each state',
        params: pathParams,
        response: { 200: scheduleSchema },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      const s = await findSchedule(db, instance.instance_id, req.params.scheduleId);
      return view(s, await executionCountsOfSchedule(db, s.instance_id, s.schedule_id));
    },
  );

  app.put<{
    Params: { instanceId: string; scheduleId: string };
    Body: Partial<Omit<ScheduleInput, 'scheduleId' | 'workflowId'>>;
  }>(
    '/v1/amc/schedules/:instanceId/:scheduleId',
    {
      schema: {
        summary: 'Change a schedule (timing, or enabled to pause and resume it); fields left out keep their value',
        params: pathParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: timing },
        response: { 200: scheduleSchema },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      return view(await updateSchedule(db, clients, instance, req.params.scheduleId, req.body));
    },
  );

  app.delete<{ Params: { instanceId: string; scheduleId: string } }>(
    '/v1/amc/schedules/:instanceId/:scheduleId',
    {
      schema: {
        summary: 'Delete a schedule in AMC and here; runs it already started are still loaded',
        params: pathParams,
        response: { 200: object({ scheduleId: { type: 'string' }, deleted: { type: 'boolean' } }) },
      },
    },
    async (req) => {
      const instance = await ownInstance(db, req, req.params.instanceId);
      await deleteSchedule(db, clients, deps.log, instance, req.params.scheduleId);
      return { scheduleId: req.params.scheduleId, deleted: true };
    },
  );
}
