/** POST /v1/reports/request: plans and requests reports in the background; answers with the run id. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { runReports } from '@adsync/shared/reports/pending-reports';
import { badRequest, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount, requireKnownAccount } from '@adsync/shared/http/server';
import {
  idParams,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
  type PageQuery,
} from '@adsync/shared/http/schemas';
import { requestReports } from '@adsync/shared/reports/request-reports';
import type { Tier } from '@adsync/shared/reports/report-plan';

export interface RequesterApiDeps {
  db: Knex;
  clients: AmazonClients;
  log: Logger;
  reportTypes: string[];
  tiers: Tier[];
  concurrency: number;
  /** Runs work a request started in the background; shutdown waits for it. */
  background: (work: Promise<unknown>) => void;
  /** Relays the outbox now, so report.requested reaches the poller without waiting a tick. */
  relay: () => Promise<void>;
}

export function registerRequesterApi(app: FastifyInstance, deps: RequesterApiDeps): void {
  app.post<{ Body: { profileId?: string; accountId?: string; reportTypes?: string[]; backfillDays?: number } }>(
    '/v1/reports/request',
    {
      schema: {
        summary: 'Plan and request reports (scheduled tiers, or a backfill) in the background',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            profileId: { type: 'string', minLength: 1, maxLength: 64 },
            accountId: { type: 'string', format: 'uuid' },
            reportTypes: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: REPORT_TYPE_IDS },
            },
            backfillDays: { type: 'integer', minimum: 1, maximum: 95 },
          },
        },
        response: { 202: object({ runId: { type: 'string' }, status_url: { type: 'string' } }, ['runId']) },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const p = principalOf(req);
      let accountId = body.accountId;
      if (body.profileId) {
        const prof = await deps.db('profiles').where({ profile_id: body.profileId }).first('account_id');
        if (!prof) throw notFound(`no profile ${body.profileId}`);
        requireAccount(req, prof.account_id);
        if (accountId && accountId !== prof.account_id)
          throw badRequest(`profile ${body.profileId} does not belong to account ${accountId}`);
      } else if (accountId) await requireKnownAccount(req, deps.db, accountId);
      else if (p.scope === 'account') accountId = p.accountId;
      const runId = randomUUID();
      deps.background(
        requestReports(
          { db: deps.db, clients: deps.clients, log: deps.log },
          {
            runId,
            profileIds: body.profileId ? [body.profileId] : undefined,
            accountId,
            reportTypes: body.reportTypes ?? deps.reportTypes,
            tiers: deps.tiers,
            backfillDays: body.backfillDays,
            concurrency: deps.concurrency,
          },
        ).then(() => deps.relay()),
      );
      return reply.status(202).send({ runId, status_url: `/v1/reports/runs/${runId}` });
    },
  );

  app.get<{ Params: { runId: string }; Querystring: PageQuery }>(
    '/v1/reports/runs/:runId',
    {
      schema: {
        summary: 'The reports a request run asked for, a page at a time',
        params: idParams('runId'),
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: {
          200: object({
            runId: { type: 'string' },
            reports: {
              type: 'array',
              items: object({
                id: { type: 'string' },
                profile_id: { type: 'string' },
                report_type: { type: 'string' },
                status: { type: 'string' },
              }),
            },
            ...pageResponseProperties,
          }),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const { items, ...rest } = await page(
        runReports(deps.db, req.params.runId, p.scope === 'account' ? p.accountId : undefined),
        req.query,
      );
      // A run with nothing this key may see is, to this key, no run at all.
      if (items.length === 0 && req.query.offset === 0) throw notFound(`no report run ${req.params.runId}`);
      return { runId: req.params.runId, reports: items, ...rest };
    },
  );
}
