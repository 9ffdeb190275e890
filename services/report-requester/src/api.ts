/** POST /v1/reports/request: plans and requests reports in the background; answers with the run id. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { runReports } from '@adsync/shared/reports/pending-reports';
import { notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount } from '@adsync/shared/http/server';
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
            profileId: { type: 'string' },
            accountId: { type: 'string', format: 'uuid' },
            reportTypes: { type: 'array', minItems: 1, items: { type: 'string', enum: REPORT_TYPE_IDS } },
            backfillDays: { type: 'integer', minimum: 1, maximum: 95 },
          },
        },
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
      } else if (accountId) requireAccount(req, accountId);
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

  app.get<{ Params: { runId: string } }>(
    '/v1/reports/runs/:runId',
    { schema: { params: { type: 'object', properties: { runId: { type: 'string', format: 'uuid' } } } } },
    async (req) => {
      const p = principalOf(req);
      return {
        runId: req.params.runId,
        reports: await runReports(deps.db, req.params.runId, p.scope === 'account' ? p.accountId : undefined),
      };
    },
  );
}
