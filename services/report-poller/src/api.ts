/** The reports API: manual poll trigger, the monitoring view, completeness gaps. */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { badRequest, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAdmin } from '@adsync/shared/http/server';
import { nullable, object, pageOfList, pageQueryProperties, pageResponseProperties } from '@adsync/shared/http/schemas';
import { daysBetween } from '@adsync/shared/calendar';

/** The longest window one gaps query may span: a year and a month, more than Amazon keeps reports for. */
export const MAX_GAPS_WINDOW_DAYS = 400;
import { monitoringView } from '@adsync/shared/reports/pending-reports';
import { findGaps } from './completeness.ts';
import type { Loop } from '@adsync/shared/runtime/loop';
import { accountOfProfile, profilesOfAccount } from '@adsync/shared/accounts/profiles';
import {
  accountAdvertisers,
  accountOfAdvertiser,
  advertiserIdsOfAccount,
} from '@adsync/shared/accounts/dsp-advertisers';

export function registerReportsApi(app: FastifyInstance, deps: { db: Knex; poller: Loop }): void {
  app.post(
    '/v1/reports/poll',
    {
      schema: {
        summary: 'Run a poll tick now, in the background (admin: the tick polls every account)',
        response: { 202: object({ accepted: { type: 'boolean' }, lastTickAt: nullable({ type: 'string' }) }) },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      deps.poller.wake();
      return reply.status(202).send({ accepted: true, lastTickAt: deps.poller.health().lastSuccessAt });
    },
  );

  app.get(
    '/v1/reports/monitor',
    {
      schema: {
        summary: 'Pending reports by type and status: count, average polls, latest created',
        response: {
          200: object({
            reports: {
              type: 'array',
              items: object({
                report_type: { type: 'string' },
                status: { type: 'string' },
                count: { type: 'integer' },
                avg_polls: nullable({ type: 'number' }),
              }),
            },
          }),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { reports: await monitoringView(deps.db, p.scope === 'admin' ? undefined : p.accountId) };
    },
  );

  app.get<{
    Querystring: {
      from?: string;
      to?: string;
      profileId?: string;
      dspAccountId?: string;
      reportType?: string;
      includeInProgress?: boolean;
      limit: number;
      offset: number;
    };
  }>(
    '/v1/reports/gaps',
    {
      schema: {
        summary: 'Days without a loaded report, and why',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', format: 'date' },
            to: { type: 'string', format: 'date' },
            profileId: { type: 'string', minLength: 1, maxLength: 64 },
            dspAccountId: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: 'a DSP advertiser reached only through a manager account (its reports are its own)',
            },
            reportType: { type: 'string', enum: REPORT_TYPE_IDS },
            includeInProgress: { type: 'boolean', default: false },
            ...pageQueryProperties,
          },
        },
        response: {
          200: object(
            {
              from: { type: 'string' },
              to: { type: 'string' },
              complete: { type: 'boolean' },
              total: { type: 'integer' },
              gaps: {
                type: 'array',
                items: object(
                  {
                    profileId: { type: 'string', description: "'' when a DSP advertiser account owns the report" },
                    dspAccountId: { type: 'string' },
                    reportType: { type: 'string' },
                    day: { type: 'string' },
                    kind: { type: 'string' },
                    reason: { type: 'string' },
                  },
                  ['profileId', 'reportType', 'day', 'kind', 'reason'],
                ),
              },
              ...pageResponseProperties,
            },
            ['from', 'to', 'complete', 'gaps'],
          ),
        },
      },
    },
    async (req) => {
      const today = new Date().toISOString().slice(0, 10);
      const to = req.query.to ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const from =
        req.query.from ?? new Date(Date.parse(`${today}T00:00:00Z`) - 42 * 86_400_000).toISOString().slice(0, 10);
      if (from > to) throw badRequest('from must not be after to', { from, to });
      if (daysBetween(from, to) + 1 > MAX_GAPS_WINDOW_DAYS)
        throw badRequest(`from..to may span at most ${MAX_GAPS_WINDOW_DAYS} days; ask for the window in parts`, {
          from,
          to,
          days: daysBetween(from, to) + 1,
        });
      const p = principalOf(req);
      let profileIds = req.query.profileId ? [req.query.profileId] : undefined;
      let dspAccountIds = req.query.dspAccountId ? [req.query.dspAccountId] : undefined;
      if (req.query.profileId) {
        const owner = await accountOfProfile(deps.db, req.query.profileId);
        // Another account's profile is, to this key, no profile at all.
        if (!owner || (p.scope !== 'admin' && owner !== p.accountId))
          throw notFound(`no profile ${req.query.profileId}`);
      }
      if (req.query.dspAccountId) {
        const owner = await accountOfAdvertiser(deps.db, req.query.dspAccountId);
        if (!owner || (p.scope !== 'admin' && owner !== p.accountId))
          throw notFound(`no DSP advertiser ${req.query.dspAccountId}`);
        if (!(await accountAdvertisers(deps.db, { advertiserIds: dspAccountIds, withInaccessible: true })).length)
          throw badRequest(
            `DSP advertiser ${req.query.dspAccountId} has no reports of its own: it is excluded, or a DSP profile reaches it (ask with that profileId)`,
          );
      }
      if (!profileIds && !dspAccountIds && p.scope !== 'admin') {
        profileIds = await profilesOfAccount(deps.db, p.accountId).pluck('profile_id');
        dspAccountIds = await advertiserIdsOfAccount(deps.db, p.accountId);
        if (profileIds.length === 0 && dspAccountIds.length === 0) {
          const { items, ...rest } = pageOfList([], req.query);
          return { from, to, complete: true, ...rest, gaps: items };
        }
      }
      const gaps = await findGaps(deps.db, {
        from,
        to,
        // Unnamed: the default types and the others the owner's schedule asks (REPORT_TYPES).
        reportTypes: req.query.reportType ? [req.query.reportType] : undefined,
        profileIds,
        dspAccountIds,
        includeInProgress: req.query.includeInProgress,
      });
      const { items, ...rest } = pageOfList(gaps, req.query);
      return { from, to, complete: gaps.filter((g) => g.kind !== 'in_progress').length === 0, ...rest, gaps: items };
    },
  );
}
