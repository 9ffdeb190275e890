/** POST /v1/reports/request: plans and requests reports in the background; answers with the run id. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount } from '@adsync/shared/http/server';
import { requestReports } from './request-reports.ts';
import type { Tier } from './report-plan.ts';

export interface RequesterApiDeps {
  db: Knex;
  bus: EventBus;
  clients: AmazonClients;
  log: Logger;
  reportTypes: string[];
  tiers: Tier[];
  concurrency: number;
  inflight: Set<Promise<unknown>>;
}

export function registerRequesterApi(app: FastifyInstance, deps: RequesterApiDeps): void {
  app.post<{ Body: { profileId?: string; accountId?: string; reportTypes?: string[]; backfillDays?: number } }>('/v1/reports/request', {
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
  }, async (req, reply) => {
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
    const work = requestReports({ db: deps.db, clients: deps.clients, log: deps.log }, {
      runId, profileIds: body.profileId ? [body.profileId] : undefined, accountId, reportTypes: body.reportTypes ?? deps.reportTypes, tiers: deps.tiers, backfillDays: body.backfillDays, concurrency: deps.concurrency,
    })
      .then(() => relayOutbox(deps.db, deps.bus))
      .catch((err) => deps.log.error({ err, runId }, 'report request run failed'));
    deps.inflight.add(work);
    void work.finally(() => deps.inflight.delete(work));
    return reply.status(202).send({ runId, status_url: `/v1/reports/runs/${runId}` });
  });

  app.get<{ Params: { runId: string } }>('/v1/reports/runs/:runId', { schema: { params: { type: 'object', properties: { runId: { type: 'string', format: 'uuid' } } } } }, async (req) => {
    const p = principalOf(req);
    let q = deps.db('pending_amazon_reports as r').where('r.run_id', req.params.runId);
    if (p.scope === 'account') q = q.join('profiles as p', 'p.profile_id', 'r.profile_id').where('p.account_id', p.accountId);
    const rows = await q.select('r.id', 'r.profile_id', 'r.report_type', 'r.start_date', 'r.end_date', 'r.tier', 'r.status', 'r.amazon_report_id', 'r.poll_count', 'r.row_count', 'r.failure_reason');
    return { runId: req.params.runId, reports: rows };
  });
}
