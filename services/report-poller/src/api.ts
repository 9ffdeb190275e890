/** The reports API: manual poll trigger, the monitoring view, completeness gaps. */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { badRequest } from '@adsync/shared/http/errors';
import { principalOf } from '@adsync/shared/http/server';
import { monitoringView } from './poll-tick.ts';
import { findGaps } from './completeness.ts';
import type { Poller } from './poller.ts';

export function registerReportsApi(app: FastifyInstance, deps: { db: Knex; poller: Poller }): void {
  app.post('/v1/reports/poll', { schema: { summary: 'Run a poll tick now, in the background' } }, async (_req, reply) => {
    deps.poller.wake();
    return reply.status(202).send({ accepted: true, lastTickAt: deps.poller.lastTickAt()?.toISOString() ?? null });
  });

  app.get('/v1/reports/monitor', { schema: { summary: 'Pending reports by type and status: count, average polls, latest created' } }, async (req) => {
    const p = principalOf(req);
    if (p.scope !== 'admin') {
      const rows = await deps.db('pending_amazon_reports as r').join('profiles as p', 'p.profile_id', 'r.profile_id').where('p.account_id', p.accountId)
        .groupBy('r.report_type', 'r.status').orderBy(['r.report_type', 'r.status'])
        .select('r.report_type', 'r.status', deps.db.raw('count(*)::int as count'), deps.db.raw('round(avg(r.poll_count)::numeric, 2)::float as avg_polls'), deps.db.raw('max(r.created_at) as latest_created'));
      return { reports: rows };
    }
    return { reports: await monitoringView(deps.db) };
  });

  app.get<{ Querystring: { from?: string; to?: string; profileId?: string; reportType?: string; includeInProgress?: boolean } }>('/v1/reports/gaps', {
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
  }, async (req) => {
    const today = new Date().toISOString().slice(0, 10);
    const to = req.query.to ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const from = req.query.from ?? new Date(Date.parse(`${today}T00:00:00Z`) - 42 * 86_400_000).toISOString().slice(0, 10);
    if (from > to) throw badRequest('from must not be after to', { from, to });
    const p = principalOf(req);
    let profileIds = req.query.profileId ? [req.query.profileId] : undefined;
    if (p.scope !== 'admin') {
      const own: string[] = await deps.db('profiles').where({ account_id: p.accountId }).pluck('profile_id');
      profileIds = (profileIds ?? own).filter((id) => own.includes(id));
      if (profileIds.length === 0) return { from, to, complete: true, gaps: [] };
    }
    const gaps = await findGaps(deps.db, { from, to, reportTypes: req.query.reportType ? [req.query.reportType] : REPORT_TYPE_IDS, profileIds, includeInProgress: req.query.includeInProgress });
    return { from, to, complete: gaps.filter((g) => g.kind !== 'in_progress').length === 0, gaps };
  });
}
