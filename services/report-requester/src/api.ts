/** POST /v1/reports/request: plans and requests reports in the background; answers with the run id. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { isDspReportType, REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { IN_FLIGHT_STATUSES, runReports, runStatusCounts } from '@adsync/shared/reports/pending-reports';
import { badRequest, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount, requireKnownAccount } from '@adsync/shared/http/server';
import {
  idParams,
  nullable,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
  type PageQuery,
} from '@adsync/shared/http/schemas';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { localToday, planWindow, windowProblem, type Tier } from '@adsync/shared/reports/report-plan';
import { activeProfiles } from '@adsync/shared/accounts/profiles';
import { accountOfProfile } from '@adsync/shared/accounts/profiles';
import { accountAdvertisers, accountOfAdvertiser } from '@adsync/shared/accounts/dsp-advertisers';

const DSP_ACCOUNT_DOC =
  'a DSP advertiser reached only through a manager account (access "account"): its DSP reports, asked with Amazon-Ads-AccountId';

export interface RequesterApiDeps {
  db: Knex;
  clients: AmazonClients;
  log: Logger;
  reportTypes: string[];
  tiers: Tier[];
  concurrency: number;
  /** The format DSP reports are asked in. */
  dspFormat?: 'GZIP_JSON' | 'CSV';
  /** Runs work a request started in the background; shutdown waits for it. */
  background: (work: Promise<unknown>) => void;
  /** Relays the outbox now, so report.requested reaches the poller without waiting a tick. */
  relay: () => Promise<void>;
}

/** Which account a request covers, after checking the key may act on the profile or account it names. */
async function scopeOf(
  req: FastifyRequest,
  db: Knex,
  body: { profileId?: string; accountId?: string; dspAccountId?: string },
): Promise<string | undefined> {
  const p = principalOf(req);
  // Each id named is checked against the key first, so naming another account's says nothing more.
  let owner: string | undefined;
  if (body.dspAccountId) {
    owner = await accountOfAdvertiser(db, body.dspAccountId);
    if (!owner) throw notFound(`no DSP advertiser ${body.dspAccountId}`);
    requireAccount(req, owner);
    if (body.accountId && body.accountId !== owner)
      throw badRequest(`DSP advertiser ${body.dspAccountId} does not belong to account ${body.accountId}`);
  }
  if (body.profileId) {
    const profileOwner = await accountOfProfile(db, body.profileId);
    if (!profileOwner) throw notFound(`no profile ${body.profileId}`);
    requireAccount(req, profileOwner);
    if (body.accountId && body.accountId !== profileOwner)
      throw badRequest(`profile ${body.profileId} does not belong to account ${body.accountId}`);
  }
  if (body.profileId && body.dspAccountId) throw badRequest('name a profileId or a dspAccountId, not both');
  if (body.dspAccountId) return owner;
  if (body.profileId) return body.accountId;
  if (body.accountId) {
    await requireKnownAccount(req, db, body.accountId);
    return body.accountId;
  }
  return p.scope === 'account' ? p.accountId : undefined;
}

/** A dspAccountId must name an advertiser with reports of its own, and the types must include DSP ones. */
async function requireAdvertiserAccount(db: Knex, advertiserId: string, reportTypes: string[]): Promise<void> {
  if (!(await accountAdvertisers(db, { advertiserIds: [advertiserId] })).length)
    throw badRequest(
      `DSP advertiser ${advertiserId} is not active or is reached through a DSP profile (ask for that profile's reports); only an advertiser reached through a manager account alone has reports of its own`,
    );
  if (!reportTypes.some(isDspReportType))
    throw badRequest(`DSP advertiser ${advertiserId} has DSP reports only; none of reportTypes is one`);
}

/** What both request routes take: whose reports (one profile, one advertiser account, or an account's) and which types. */
interface OwnerBody {
  profileId?: string;
  dspAccountId?: string;
  accountId?: string;
  reportTypes?: string[];
}

export function registerRequesterApi(app: FastifyInstance, deps: RequesterApiDeps): void {
  app.post<{ Body: OwnerBody & { backfillDays?: number } }>(
    '/v1/reports/request',
    {
      schema: {
        summary: 'Plan and request reports (scheduled tiers, or a backfill) in the background',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            profileId: { type: 'string', minLength: 1, maxLength: 64 },
            dspAccountId: { type: 'string', minLength: 1, maxLength: 64, description: DSP_ACCOUNT_DOC },
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
      const accountId = await scopeOf(req, deps.db, body);
      if (body.dspAccountId)
        await requireAdvertiserAccount(deps.db, body.dspAccountId, body.reportTypes ?? deps.reportTypes);
      const runId = randomUUID();
      deps.background(
        requestReports(
          { db: deps.db, clients: deps.clients, log: deps.log },
          {
            runId,
            profileIds: body.profileId ? [body.profileId] : body.dspAccountId ? [] : undefined,
            dspAccountIds: body.dspAccountId ? [body.dspAccountId] : body.profileId ? [] : undefined,
            accountId,
            reportTypes: body.reportTypes ?? deps.reportTypes,
            tiers: deps.tiers,
            backfillDays: body.backfillDays,
            concurrency: deps.concurrency,
            dspFormat: deps.dspFormat,
          },
        ).then(() => deps.relay()),
      );
      return reply.status(202).send({ runId, status_url: `/v1/reports/runs/${runId}` });
    },
  );

  app.post<{ Body: OwnerBody & { from: string; to: string } }>(
    '/v1/reports/backfill',
    {
      schema: {
        summary: "Backfill a historical window: every day from..to, inside each report type's retention",
        description:
          'Plans the window per profile and report type in windows Amazon accepts, asks once per window (a window ' +
          'already in flight is not asked again) and answers at once; follow status_url for progress. A window ' +
          "outside a type's retention, or not yet ended in the profile's time zone, is refused with the limit.",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            profileId: { type: 'string', minLength: 1, maxLength: 64 },
            dspAccountId: { type: 'string', minLength: 1, maxLength: 64, description: DSP_ACCOUNT_DOC },
            accountId: { type: 'string', format: 'uuid' },
            reportTypes: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: REPORT_TYPE_IDS },
            },
            from: { type: 'string', format: 'date' },
            to: { type: 'string', format: 'date' },
          },
        },
        response: {
          202: object(
            {
              runId: { type: 'string' },
              status_url: { type: 'string' },
              profiles: { type: 'integer' },
              advertiserAccounts: {
                type: 'integer',
                description: 'DSP advertisers reached only through a manager account, asked with Amazon-Ads-AccountId',
              },
              planned: {
                type: 'integer',
                description: 'reports planned (owners × windows); some may already be in flight',
              },
            },
            ['runId', 'status_url', 'profiles', 'planned'],
          ),
        },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const accountId = await scopeOf(req, deps.db, body);
      const reportTypes = body.reportTypes ?? deps.reportTypes;
      const profiles = body.dspAccountId
        ? []
        : await activeProfiles(deps.db, { accountId, profileIds: body.profileId ? [body.profileId] : undefined });
      const advertisers = body.profileId
        ? []
        : await accountAdvertisers(deps.db, {
            accountId,
            advertiserIds: body.dspAccountId ? [body.dspAccountId] : undefined,
          });
      if (profiles.length === 0 && advertisers.length === 0)
        throw badRequest(
          body.profileId
            ? `profile ${body.profileId} is not active (paused, excluded or inaccessible)`
            : body.dspAccountId
              ? `DSP advertiser ${body.dspAccountId} is not active (excluded, inaccessible, or reached through a DSP profile: backfill that profile)`
              : 'no active profiles to backfill; discover profiles first',
        );
      const now = new Date();
      for (const p of profiles) {
        const problem = windowProblem(body.from, body.to, reportTypes, localToday(p.timezone, now), now);
        if (problem) throw badRequest(`cannot backfill profile ${p.profile_id}: ${problem}`);
      }
      // An advertiser account's reports are DSP reports only.
      const dspTypes = reportTypes.filter(isDspReportType);
      if (body.dspAccountId) await requireAdvertiserAccount(deps.db, body.dspAccountId, reportTypes);
      for (const a of advertisers) {
        const problem =
          dspTypes.length && windowProblem(body.from, body.to, dspTypes, localToday(a.timezone, now), now);
        if (problem) throw badRequest(`cannot backfill DSP advertiser ${a.advertiser_id}: ${problem}`);
      }
      const runId = randomUUID();
      deps.background(
        requestReports(
          { db: deps.db, clients: deps.clients, log: deps.log },
          {
            runId,
            profileIds: profiles.map((p) => p.profile_id),
            dspAccountIds: advertisers.map((a) => a.advertiser_id),
            reportTypes,
            tiers: deps.tiers,
            window: { from: body.from, to: body.to },
            concurrency: deps.concurrency,
            dspFormat: deps.dspFormat,
          },
        ).then(() => deps.relay()),
      );
      return reply.status(202).send({
        runId,
        status_url: `/v1/reports/runs/${runId}`,
        profiles: profiles.length,
        advertiserAccounts: advertisers.length,
        planned:
          profiles.length * planWindow(body.from, body.to, reportTypes).length +
          advertisers.length * (dspTypes.length ? planWindow(body.from, body.to, dspTypes).length : 0),
      });
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
            progress: {
              type: 'object',
              description: 'reports of the run by status (every page shows the whole run)',
              properties: {
                total: { type: 'integer' },
                loaded: { type: 'integer' },
                in_flight: { type: 'integer' },
                failed: { type: 'integer' },
                by_status: { type: 'object', additionalProperties: { type: 'integer' } },
              },
            },
            reports: {
              type: 'array',
              items: object({
                id: { type: 'string' },
                profile_id: nullable({ type: 'string', description: 'null when a DSP advertiser account owns it' }),
                dsp_account_id: nullable({ type: 'string' }),
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
      const byStatus = Object.fromEntries(
        (await runStatusCounts(deps.db, req.params.runId, p.scope === 'account' ? p.accountId : undefined)).map((c) => [
          c.status,
          c.n,
        ]),
      );
      const total = Object.values(byStatus).reduce((a, n) => a + n, 0);
      const loaded = byStatus.loaded ?? 0;
      const failed = byStatus.failed ?? 0;
      return {
        runId: req.params.runId,
        progress: {
          total,
          loaded,
          failed,
          in_flight: IN_FLIGHT_STATUSES.reduce((a, st) => a + (byStatus[st] ?? 0), 0),
          by_status: byStatus,
        },
        reports: items,
        ...rest,
      };
    },
  );
}
