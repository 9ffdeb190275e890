/** The reports API: manual poll trigger, the monitoring view, completeness gaps. */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { badRequest } from '@adsync/shared/http/errors';
import { principalOf, requireAdmin } from '@adsync/shared/http/server';
import { monitoringView } from '@adsync/shared/reports/pending-reports';
import { findGaps } from './completeness.ts';
import type { Loop } from '@adsync/shared/runtime/loop';

export function registerReportsApi(app: FastifyInstance, deps: { db: Knex; poller: Loop }): void {
  app.post(
    '/v1/reports/poll',
    { schema: { summary: 'Run a poll tick now, in the background (admin: the tick polls every account)' } },
    async (req, reply) => {
      requireAdmin(req);
      deps.poller.wake();
      return reply.status(202).send({ accepted: true, lastTickAt: deps.poller.health().lastSuccessAt });
    },
  );

  app.get(
    '/v1/reports/monitor',
    { schema: { summary: 'Pending reports by type and status: count, average polls, latest created' } },
    async (req) => {
      const p = principalOf(req);
      return { reports: await monitoringView(deps.db, p.scope === 'admin' ? undefined : p.accountId) };
    },
  );

  app.get<{
    Querystring: { from?: string; to?: string; profileId?: string; reportType?: string; includeInProgress?: boolean };
  }>(
    '/v1/reports/gaps',
    {
      schema: {
        summary: 'Days without a loaded report, and why',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            profileId: { type: 'string' },
            reportType: { type: 'string', enum: REPORT_TYPE_IDS },
            includeInProgress: { type: 'boolean', default: false },
          },
        },
      },
    },
    async (req) => {
      const today = new Date().toISOString().slice(0, 10);
      const to = req.query.to ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const from =
        req.query.from ?? new Date(Date.parse(`${today}T00:00:00Z`) - 42 * 86_400_000).toISOString().slice(0, 10);
      if (from > to) throw badRequest('from must not be after to', { from, to });
      const p = principalOf(req);
      let profileIds = req.query.profileId ? [req.query.profileId] : undefined;
      if (p.scope !== 'admin') {
        const own: string[] = await deps.db('profiles').where({ account_id: p.accountId }).pluck('profile_id');
        profileIds = (profileIds ?? own).filter((id) => own.includes(id));
        if (profileIds.length === 0) return { from, to, complete: true, gaps: [] };
      }
      const gaps = await findGaps(deps.db, {
        from,
        to,
        reportTypes: req.query.reportType ? [req.query.reportType] : REPORT_TYPE_IDS,
        profileIds,
        includeInProgress: req.query.includeInProgress,
      });
      return { from, to, complete: gaps.filter((g) => g.kind !== 'in_progress').length === 0, gaps };
    },
  );
}
