/** supplier-sync HTTP API: suppliers, jobs, a cycle trigger, webhooks, marketplace listings, metrics. */
import { OutboundRefusedError, checkOutboundUrl, type OutboundPolicy } from '@adsync/shared/http/outbound';
import type { Destinations } from './deliveries.ts';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { badRequest, notFound } from '@adsync/shared/http/errors';
import { listedAccount, principalOf, requireAccount, requireKnownAccount } from '@adsync/shared/http/server';
import {
  accountListQuery,
  dateTime,
  idParams,
  nullable,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
  type PageQuery,
} from '@adsync/shared/http/schemas';
import { createJob, findJob, jobsNewestFirst, jobStatistics, PRIORITY } from './job-queue.ts';
import { activeSuppliers, createSupplier, findSupplier, suppliersOfAccountAmong, suppliersQuery } from './suppliers.ts';
import { createWebhook, webhooksQuery } from './webhooks.ts';
import { createIntegration, type NewIntegration } from './marketplaces.ts';
import { SUPPLIER_KINDS } from './connectors/index.ts';
import type { JobType } from './job-changes.ts';

const JOB_TYPES = ['supplier_api', 'inventory_update', 'price_update', 'order_sync'];
const JOB_STATUSES = ['pending', 'running', 'completed', 'failed'];

const jobSchema = object(
  {
    id: { type: 'string' },
    account_id: { type: 'string' },
    supplier_id: { type: 'string' },
    job_type: { type: 'string', enum: JOB_TYPES },
    status: { type: 'string', enum: JOB_STATUSES },
    priority: { type: 'integer' },
    attempt: { type: 'integer' },
    max_attempts: { type: 'integer' },
    trigger: { type: 'string' },
    worker_id: nullable({ type: 'string' }),
    counts: {},
    error: nullable({ type: 'string' }),
    created_at: dateTime,
    started_at: nullable(dateTime),
    finished_at: nullable(dateTime),
  },
  ['id', 'account_id', 'supplier_id', 'job_type', 'status'],
);
const jobStarted = object({ id: { type: 'string' }, status: { type: 'string' }, priority: { type: 'integer' } }, [
  'id',
  'status',
]);

/** Jobs for every active supplier of an account (or all accounts), e.g. the hourly cycle. */
export async function createCycle(
  db: Knex,
  opts: { accountId?: string; jobTypes?: JobType[]; priority: number; trigger: string },
) {
  const jobs = [];
  for (const s of await activeSuppliers(db, opts.accountId))
    for (const t of opts.jobTypes ?? (['inventory_update', 'price_update', 'order_sync'] as JobType[]))
      jobs.push(
        await createJob(db, {
          accountId: s.account_id,
          supplierId: s.id,
          jobType: t,
          priority: opts.priority,
          trigger: opts.trigger,
        }),
      );
  return jobs;
}

/** A destination the delivery guard would refuse is refused now, with the reason, rather than at every delivery. */
function refuseDestination(url: string, policy: OutboundPolicy, field: string): void {
  try {
    checkOutboundUrl(url, policy);
  } catch (err) {
    if (err instanceof OutboundRefusedError)
      throw badRequest(err.message, { fields: [{ path: `body.${field}`, problem: err.message }] });
    throw err;
  }
}

export function registerSupplierApi(
  app: FastifyInstance,
  deps: { db: Knex; box: SecretBox; relay: () => Promise<void>; maxAttempts: number; destinations: Destinations },
): void {
  const { db } = deps;
  // job.created right away, so a worker wakes now rather than at its next tick.
  const relay = deps.relay;

  app.post<{ Body: { accountId: string; kind: string; name: string; credentials: Record<string, unknown> } }>(
    '/v1/suppliers',
    {
      schema: {
        body: {
          type: 'object',
          required: ['accountId', 'kind', 'name', 'credentials'],
          additionalProperties: false,
          properties: {
            accountId: { type: 'string', format: 'uuid' },
            kind: { type: 'string', enum: SUPPLIER_KINDS },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            credentials: { type: 'object', maxProperties: 20 },
          },
        },
        response: {
          201: object(
            { id: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, active: { type: 'boolean' } },
            ['id', 'kind', 'name'],
          ),
        },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.body.accountId);
      return reply.status(201).send(await createSupplier(db, deps.box, req.body));
    },
  );

  app.get<{ Querystring: PageQuery & { accountId?: string } }>(
    '/v1/suppliers',
    {
      schema: {
        summary: 'Suppliers, newest first (never their credentials)',
        querystring: accountListQuery(),
        response: {
          200: object({
            suppliers: {
              type: 'array',
              items: object(
                {
                  id: { type: 'string' },
                  account_id: { type: 'string' },
                  kind: { type: 'string' },
                  name: { type: 'string' },
                  active: { type: 'boolean' },
                  created_at: dateTime,
                },
                ['id', 'account_id', 'kind', 'name', 'active'],
              ),
            },
            ...pageResponseProperties,
          }),
        },
      },
    },
    async (req) => {
      const { items, ...rest } = await page(
        suppliersQuery(db, await listedAccount(req, db, req.query.accountId)),
        req.query,
      );
      return { suppliers: items, ...rest };
    },
  );

  app.post<{ Body: { supplierId: string; jobType: JobType; priority?: number } }>(
    '/v1/jobs',
    {
      schema: {
        body: {
          type: 'object',
          required: ['supplierId', 'jobType'],
          additionalProperties: false,
          properties: {
            supplierId: { type: 'string', format: 'uuid' },
            jobType: { type: 'string', enum: JOB_TYPES },
            priority: { type: 'integer', minimum: -100, maximum: 100 },
          },
        },
        response: { 202: jobStarted },
      },
    },
    async (req, reply) => {
      const s = await findSupplier(db, req.body.supplierId);
      if (!s) throw notFound(`no supplier ${req.body.supplierId}`);
      requireAccount(req, s.account_id);
      const job = await createJob(db, {
        accountId: s.account_id,
        supplierId: s.id,
        jobType: req.body.jobType,
        priority: req.body.priority ?? PRIORITY.manual,
        maxAttempts: deps.maxAttempts,
      });
      await relay();
      return reply.status(202).send({ id: job.id, status: job.status, priority: job.priority });
    },
  );

  app.get<{ Querystring: PageQuery & { status?: string } }>(
    '/v1/jobs',
    {
      schema: {
        summary: 'Jobs, newest first, a page at a time',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: JOB_STATUSES }, ...pageQueryProperties },
        },
        response: { 200: object({ jobs: { type: 'array', items: jobSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const q = jobsNewestFirst(db, {
        status: req.query.status,
        accountId: p.scope === 'account' ? p.accountId : undefined,
      });
      const { items, ...rest } = await page(q, req.query);
      return { jobs: items, ...rest };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { schema: { summary: 'One job', params: idParams(), response: { 200: jobSchema } } },
    async (req) => {
      const j = await findJob(db, req.params.id);
      if (!j) throw notFound(`no job ${req.params.id}`);
      requireAccount(req, j.account_id);
      return j;
    },
  );

  app.post<{ Body: { accountId?: string; jobTypes?: JobType[] } }>(
    '/v1/sync/run',
    {
      schema: {
        summary: 'Run a sync cycle now (manual priority: it overtakes the hourly jobs)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            accountId: { type: 'string', format: 'uuid' },
            jobTypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: JOB_TYPES } },
          },
        },
        response: {
          202: object({
            jobs: {
              type: 'array',
              items: object({ id: { type: 'string' }, jobType: { type: 'string' }, supplierId: { type: 'string' } }),
            },
          }),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const accountId = req.body?.accountId ?? (p.scope === 'account' ? p.accountId : undefined);
      if (accountId) await requireKnownAccount(req, db, accountId);
      const jobs = await createCycle(db, {
        accountId,
        jobTypes: req.body?.jobTypes,
        priority: PRIORITY.manual,
        trigger: 'manual',
      });
      await relay();
      return reply
        .status(202)
        .send({ jobs: jobs.map((j) => ({ id: j.id, jobType: j.job_type, supplierId: j.supplier_id })) });
    },
  );

  app.post<{ Body: { accountId: string; url: string; secret: string } }>(
    '/v1/webhooks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['accountId', 'url', 'secret'],
          additionalProperties: false,
          properties: {
            accountId: { type: 'string', format: 'uuid' },
            url: { type: 'string', format: 'http-url' },
            secret: { type: 'string', minLength: 16, maxLength: 512 },
          },
        },
        response: { 201: object({ id: { type: 'string' }, url: { type: 'string' } }, ['id', 'url']) },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.body.accountId);
      refuseDestination(req.body.url, deps.destinations.webhook, 'url');
      return reply.status(201).send(await createWebhook(db, deps.box, req.body));
    },
  );

  app.get<{ Querystring: PageQuery & { accountId?: string } }>(
    '/v1/webhooks',
    {
      schema: {
        summary: 'Webhook receivers, newest first, with how their deliveries stand (never their secrets)',
        querystring: accountListQuery(),
        response: {
          200: object({
            webhooks: {
              type: 'array',
              items: object(
                {
                  id: { type: 'string' },
                  account_id: { type: 'string' },
                  url: { type: 'string' },
                  active: { type: 'boolean' },
                  created_at: dateTime,
                  pending: { type: 'integer' },
                  delivered: { type: 'integer' },
                  failed: { type: 'integer' },
                  last_error: nullable({ type: 'string' }),
                },
                ['id', 'account_id', 'url', 'active'],
              ),
            },
            ...pageResponseProperties,
          }),
        },
      },
    },
    async (req) => {
      const { items, ...rest } = await page(
        webhooksQuery(db, await listedAccount(req, db, req.query.accountId)),
        req.query,
      );
      return { webhooks: items, ...rest };
    },
  );

  app.post<{ Body: NewIntegration }>(
    '/v1/marketplace/integrations',
    {
      schema: {
        body: {
          type: 'object',
          required: ['accountId', 'marketplace', 'endpointUrl', 'listings'],
          additionalProperties: false,
          properties: {
            accountId: { type: 'string', format: 'uuid' },
            marketplace: { type: 'string', minLength: 1, maxLength: 100 },
            endpointUrl: { type: 'string', format: 'http-url' },
            listings: {
              type: 'array',
              maxItems: 10_000,
              items: {
                type: 'object',
                required: ['listingId', 'supplierId', 'supplierProductId'],
                additionalProperties: false,
                properties: {
                  listingId: { type: 'string', minLength: 1, maxLength: 200 },
                  supplierId: { type: 'string', format: 'uuid' },
                  supplierProductId: { type: 'string', minLength: 1, maxLength: 200 },
                },
              },
            },
          },
        },
        response: { 201: object({ id: { type: 'string' }, listings: { type: 'integer' } }, ['id', 'listings']) },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.body.accountId);
      refuseDestination(req.body.endpointUrl, deps.destinations.marketplace, 'endpointUrl');
      // A listing may only name this account's suppliers: another account's products must never be sent here.
      const named = [...new Set(req.body.listings.map((l) => l.supplierId))];
      const own = new Set(await suppliersOfAccountAmong(db, req.body.accountId, named));
      const foreign = req.body.listings.flatMap((l, i) =>
        own.has(l.supplierId) ? [] : [{ index: i, supplierId: l.supplierId }],
      );
      if (foreign.length)
        throw badRequest(
          `listings name suppliers that are not this account's: ${[...new Set(foreign.map((f) => f.supplierId))].join(', ')}`,
          { listings: foreign.slice(0, 50) },
        );
      const m = await createIntegration(db, req.body);
      return reply.status(201).send({ id: m.id, listings: req.body.listings.length });
    },
  );

  app.get(
    '/v1/metrics/jobs',
    {
      schema: {
        summary: 'Last 7 days: per job type, counts, success rate and durations',
        response: {
          200: object({
            windowDays: { type: 'integer' },
            jobs: { type: 'array', items: object({ job_type: { type: 'string' } }) },
          }),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { windowDays: 7, jobs: await jobStatistics(db, p.scope === 'account' ? p.accountId : undefined) };
    },
  );
}
