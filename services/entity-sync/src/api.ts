/** The entity-sync HTTP API: accounts, credentials, profiles and entity-sync triggers. */
import { requestClient } from './request-client.ts';
import { registerProfileClaimsApi } from './profile-claims-api.ts';
import { registerDspAdvertisersApi } from './dsp-advertisers-api.ts';
import { registerAttributionApi } from './attribution-api.ts';
import { advertisersOfAccount, applyAdvertiserSelection } from '@adsync/shared/accounts/dsp-advertisers';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { LwaTokenProvider } from '@adsync/shared/amazon/lwa-token';
import { endpointsFor, type Region } from '@adsync/shared/amazon/regions';
import { createApiKey } from '@adsync/shared/http/api-keys';
import { badRequest, conflict, notFound } from '@adsync/shared/http/errors';
import {
  listedAccount,
  principalOf,
  requireAccount,
  requireAdmin,
  requireKnownAccount,
} from '@adsync/shared/http/server';
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
import {
  credentialStates,
  hasCredentials,
  storeCredentials,
  type AmazonClients,
} from '@adsync/shared/amazon/account-clients';
import { discoverProfiles } from './profiles.ts';
import { PROFILE_SELECTION_SCHEMA, type ProfileSelection } from '@adsync/shared/accounts/profile-selection';
import {
  accountsQuery,
  createAccount,
  findAccount,
  getProfileSelection,
  setProfileSelection,
} from '@adsync/shared/accounts/accounts';
import {
  accountOfProfile,
  activeCountByAccount,
  applySelection,
  findProfile,
  profilesOfAccount,
} from '@adsync/shared/accounts/profiles';
import { planSync, runsOfBatch, type SyncMode } from './sync-runs.ts';
import { ENTITY_TYPES, type EntityType } from '@adsync/shared/entities/entity-store';
import {
  INGESTION_STATUSES,
  findIngestionRun,
  ingestionRunsQuery,
  lastIngestions,
  startIngestion,
} from './ingestion.ts';

export interface ApiDeps {
  db: Knex;
  ch?: ClickHouse;
  box: SecretBox;
  clients: AmazonClients;
  log: Logger;
  batchSize: number;
  exportPollMs?: number;
  amazonBaseUrl?: string;
  /** Tells this process's sync loop a batch was queued (any replica's loop would find it on its next tick). */
  wakeSyncs: () => void;
}

const uuidParam = idParams();

const accountSchema = object(
  {
    id: { type: 'string' },
    company_name: { type: 'string' },
    primary_contact_email: { type: ['string', 'null'] },
    status: { type: 'string' },
    created_at: dateTime,
    profiles: { type: 'integer', description: 'active profiles' },
    last_ingestion: nullable(
      object({
        status: { type: 'string' },
        started_at: dateTime,
        finished_at: nullable(dateTime),
      }),
    ),
    credentials: object(
      {
        state: { type: 'string', enum: ['not_connected', 'connected', 'expired', 'refused'] },
        reason: nullable({ type: 'string', description: "Login with Amazon's refusal, in its words" }),
        since: nullable({ type: 'string', format: 'date-time' }),
      },
      ['state'],
    ),
  },
  ['id', 'company_name', 'status'],
);
const profileSchema = object(
  {
    profile_id: { type: 'string' },
    account_id: { type: 'string' },
    country_code: { type: 'string' },
    currency_code: { type: 'string' },
    timezone: { type: 'string' },
    marketplace_id: nullable({ type: 'string' }),
    account_name: nullable({ type: 'string' }),
    status: { type: 'string' },
  },
  ['profile_id', 'account_id'],
);
const syncRunSchema = object(
  {
    id: { type: 'string' },
    batch_id: { type: 'string' },
    profile_id: { type: 'string' },
    entity_type: { type: 'string' },
    mode: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'skipped'] },
    fetched: { type: 'integer' },
    upserted: { type: 'integer' },
    error: {},
    started_at: nullable(dateTime),
    finished_at: nullable(dateTime),
  },
  ['id', 'entity_type', 'status'],
);
const ingestionRunSchema = object(
  {
    id: { type: 'string' },
    scope: { type: 'string', enum: ['all', 'account'] },
    account_id: nullable({ type: 'string' }),
    status: { type: 'string', enum: [...INGESTION_STATUSES] },
    attempt: { type: 'integer' },
    stages: { type: 'object', additionalProperties: true },
    error: nullable({ type: 'string' }),
    created_at: dateTime,
    started_at: nullable(dateTime),
    finished_at: nullable(dateTime),
  },
  ['id', 'status', 'stages'],
);
const startedRun = object({ runId: { type: 'string' }, status_url: { type: 'string' } }, ['runId', 'status_url']);

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { db } = deps;
  registerProfileClaimsApi(app, deps);
  registerDspAdvertisersApi(app, deps);
  registerAttributionApi(app, deps);

  app.post<{ Body: { company_name: string; primary_contact_email?: string } }>(
    '/v1/accounts',
    {
      schema: {
        summary: 'Create a client account (admin)',
        body: {
          type: 'object',
          required: ['company_name'],
          additionalProperties: false,
          properties: {
            company_name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
            primary_contact_email: { type: 'string', format: 'email', maxLength: 320 },
          },
        },
        response: { 201: accountSchema },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const row = await createAccount(db, {
        company_name: req.body.company_name,
        primary_contact_email: req.body.primary_contact_email ?? null,
      });
      return reply.status(201).send(row);
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/accounts',
    {
      schema: {
        summary: 'List the accounts this key may see, a page at a time',
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: { 200: object({ accounts: { type: 'array', items: accountSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const { items, ...rest } = await page(
        accountsQuery(db, p.scope === 'admin' ? undefined : p.accountId),
        req.query,
      );
      return { accounts: await withSummary(items as { id: string }[]), ...rest };
    },
  );

  // What an operator asks first of an account: how many profiles are live, and how its last ingestion went.
  async function withSummary<A extends { id: string }>(accounts: A[]) {
    const ids = accounts.map((a) => a.id);
    const profiles = await activeCountByAccount(db, ids);
    const last = await lastIngestions(db, ids);
    const credentials = await credentialStates(db, ids);
    return accounts.map((a) => ({
      ...a,
      profiles: profiles.get(a.id) ?? 0,
      last_ingestion: last.get(a.id) ?? null,
      credentials: credentials.get(a.id),
    }));
  }

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id',
    {
      schema: {
        summary: 'One account this key may see, with its live profiles and last ingestion',
        params: uuidParam,
        response: { 200: accountSchema },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const [account] = await withSummary((await accountsQuery(db, req.params.id)) as { id: string }[]);
      return account;
    },
  );

  app.post<{ Params: { id: string }; Body: { label?: string } }>(
    '/v1/accounts/:id/api-keys',
    {
      schema: {
        summary: 'Create an API key scoped to this account (admin); the key is shown once',
        params: uuidParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { label: { type: 'string', maxLength: 200 } },
        },
        response: {
          201: object(
            { id: { type: 'string' }, key: { type: 'string' }, prefix: { type: 'string' }, note: { type: 'string' } },
            ['id', 'key', 'prefix'],
          ),
        },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      if (!(await findAccount(db, req.params.id))) throw notFound(`no account ${req.params.id}`);
      const k = await createApiKey(db, { scope: 'account', accountId: req.params.id }, req.body?.label ?? null);
      return reply
        .status(201)
        .send({ id: k.id, key: k.key, prefix: k.prefix, note: 'store this key now; it is not shown again' });
    },
  );

  app.post<{
    Params: { id: string };
    Body: { region?: Region; client_id: string; client_secret: string; refresh_token: string; validate?: boolean };
  }>(
    '/v1/accounts/:id/credentials',
    {
      schema: {
        summary: 'Attach Amazon API credentials (sealed at rest, never returned)',
        params: uuidParam,
        body: {
          type: 'object',
          required: ['client_id', 'client_secret', 'refresh_token'],
          additionalProperties: false,
          properties: {
            region: { type: 'string', enum: ['NA', 'EU', 'FE'], default: 'NA' },
            client_id: { type: 'string', minLength: 1 },
            client_secret: { type: 'string', minLength: 1 },
            refresh_token: { type: 'string', minLength: 1 },
            validate: { type: 'boolean', default: true, description: 'exchange the refresh token once before storing' },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              account_id: { type: 'string' },
              region: { type: 'string' },
              client_id: { type: 'string' },
              validated: { type: 'boolean' },
            },
          },
        },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.params.id);
      const region = req.body.region ?? 'NA';
      if (req.body.validate !== false) {
        const tokens = new LwaTokenProvider({
          tokenUrl: endpointsFor(region, deps.amazonBaseUrl).tokenUrl,
          credentials: {
            clientId: req.body.client_id,
            clientSecret: req.body.client_secret,
            refreshToken: req.body.refresh_token,
          },
        });
        try {
          await tokens.get();
        } catch (err) {
          if (err instanceof AmazonApiError)
            throw badRequest(`Login with Amazon refused these credentials: ${err.message}`, { code: err.amazonCode });
          throw err;
        }
      }
      await storeCredentials(db, deps.box, req.params.id, {
        region,
        client_id: req.body.client_id,
        client_secret: req.body.client_secret,
        refresh_token: req.body.refresh_token,
      });
      return reply.status(201).send({
        account_id: req.params.id,
        region,
        client_id: req.body.client_id,
        validated: req.body.validate !== false,
      });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/accounts/:id/profiles/sync',
    {
      schema: {
        summary: "Discover and store the account's advertising profiles",
        params: uuidParam,
        response: {
          200: object(
            {
              account_id: { type: 'string' },
              discovered: { type: 'integer' },
              added: { type: 'integer' },
              profiles: { type: 'array', items: profileSchema },
              claimed: {
                type: 'array',
                items: { type: 'string' },
                description:
                  'profiles this login reaches that another account owns: not moved; see GET /v1/accounts/:id/profile-claims',
              },
            },
            ['account_id', 'discovered', 'added'],
          ),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const client = await requestClient(deps.clients, req.params.id);
      const { profiles, added, excluded, claimed } = await discoverProfiles(db, client, req.params.id);
      return { account_id: req.params.id, discovered: profiles.length, added, profiles, excluded, claimed };
    },
  );

  const selectionResponse = object({
    accountId: { type: 'string' },
    selection: { type: 'object', additionalProperties: true },
    included: { type: 'array', items: { type: 'string' } },
    excluded: { type: 'array', items: object({ profileId: { type: 'string' }, reason: { type: 'string' } }) },
    dspAdvertisers: object({
      included: { type: 'array', items: { type: 'string' } },
      excluded: {
        type: 'array',
        items: object({ advertiserId: { type: 'string' }, reason: { type: 'string' } }),
      },
    }),
  });

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id/profile-selection',
    {
      schema: {
        summary:
          'Which of the account’s profiles are synced (include/exclude by id or marketplace, types, access level)',
        params: uuidParam,
        response: { 200: selectionResponse },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const rows: { profile_id: string; status: string; status_reason: string | null }[] = await profilesOfAccount(
        db,
        req.params.id,
      ).select('profile_id', 'status', 'status_reason');
      const advertisers: { advertiser_id: string; status: string; status_reason: string | null }[] =
        await advertisersOfAccount(db, req.params.id).select('advertiser_id', 'status', 'status_reason');
      return {
        accountId: req.params.id,
        selection: await getProfileSelection(db, req.params.id),
        included: rows.filter((r) => r.status !== 'excluded').map((r) => r.profile_id),
        excluded: rows
          .filter((r) => r.status === 'excluded')
          .map((r) => ({ profileId: r.profile_id, reason: r.status_reason ?? '' })),
        dspAdvertisers: {
          included: advertisers.filter((a) => a.status !== 'excluded').map((a) => a.advertiser_id),
          excluded: advertisers
            .filter((a) => a.status === 'excluded')
            .map((a) => ({ advertiserId: a.advertiser_id, reason: a.status_reason ?? '' })),
        },
      };
    },
  );

  app.put<{ Params: { id: string }; Body: ProfileSelection }>(
    '/v1/accounts/:id/profile-selection',
    {
      schema: {
        summary:
          'Set which profiles are synced; applied to known profiles now, and to what Amazon lists at the next discovery',
        params: uuidParam,
        body: PROFILE_SELECTION_SCHEMA,
        response: { 200: selectionResponse },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      await setProfileSelection(db, req.params.id, req.body);
      const { included, excluded } = await applySelection(db, req.params.id, req.body);
      const dspAdvertisers = await applyAdvertiserSelection(db, req.params.id, req.body);
      return { accountId: req.params.id, selection: req.body, included, excluded, dspAdvertisers };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/accounts/:id/profiles',
    {
      schema: {
        summary: "The account's advertising profiles, a page at a time",
        params: uuidParam,
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: { 200: object({ profiles: { type: 'array', items: profileSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const { items, ...rest } = await page(profilesOfAccount(db, req.params.id), req.query);
      return { profiles: items, ...rest };
    },
  );

  const syncSchema = {
    type: 'object',
    required: ['profileId'],
    additionalProperties: false,
    properties: {
      profileId: { type: 'string', minLength: 1, maxLength: 64 },
      entity: { type: 'string', enum: ['all', ...ENTITY_TYPES], default: 'all' },
      mode: { type: 'string', enum: ['full', 'incremental'], default: 'incremental' },
    },
  } as const;
  type SyncQuery = { profileId: string; entity: 'all' | EntityType; mode: SyncMode };

  const trigger = async (
    q: SyncQuery,
    req: Parameters<typeof requireAccount>[0],
    reply: { status: (n: number) => { send: (b: unknown) => unknown } },
  ) => {
    const profile = await findProfile(db, q.profileId);
    if (!profile)
      throw notFound(`no profile ${q.profileId}; discover profiles first (POST /v1/accounts/:id/profiles/sync)`, {
        profileId: q.profileId,
      });
    requireAccount(req, profile.account_id);
    if (profile.status === 'excluded')
      throw conflict(
        `profile ${q.profileId} is excluded by its account's profile selection; change the selection first`,
        {
          profileId: q.profileId,
          reason: profile.status_reason,
        },
      );
    const entityTypes = q.entity === 'all' ? ENTITY_TYPES : [q.entity];
    // A sync already queued or running for these types answers 409 with them (SyncAlreadyRunningError).
    const plan = await planSync(db, q.profileId, entityTypes, q.mode, 'http');
    // Any replica's sync loop takes it up; this one's at once.
    deps.wakeSyncs();
    return reply.status(202).send({
      batchId: plan.batchId,
      profileId: q.profileId,
      mode: q.mode,
      runs: plan.runs,
      status_url: `/v1/sync-runs/${plan.batchId}`,
    });
  };

  const syncStarted = object(
    {
      batchId: { type: 'string' },
      profileId: { type: 'string' },
      mode: { type: 'string' },
      runs: {
        type: 'array',
        items: object({ id: { type: 'string' }, entityType: { type: 'string' }, mode: { type: 'string' } }),
      },
      status_url: { type: 'string' },
    },
    ['batchId', 'runs', 'status_url'],
  );
  app.get<{ Querystring: SyncQuery }>(
    '/v1/entities/sync',
    {
      schema: {
        summary: 'Queue an entity sync (a batch of runs the sync loop takes up); answers with the run ids',
        querystring: syncSchema,
        response: { 202: syncStarted },
      },
    },
    (req, reply) => trigger(req.query, req, reply),
  );
  app.post<{ Querystring: SyncQuery }>(
    '/v1/entities/sync',
    {
      schema: {
        summary: 'Queue an entity sync (a batch of runs the sync loop takes up); answers with the run ids',
        querystring: syncSchema,
        response: { 202: syncStarted },
      },
    },
    (req, reply) => trigger(req.query, req, reply),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/sync-runs/:id',
    {
      schema: {
        summary: 'The runs of a sync batch',
        params: uuidParam,
        response: {
          200: object(
            {
              batchId: { type: 'string' },
              done: { type: 'boolean' },
              status: { type: 'string', enum: ['running', 'failed', 'succeeded'] },
              runs: { type: 'array', items: syncRunSchema },
            },
            ['batchId', 'done', 'status', 'runs'],
          ),
        },
      },
    },
    async (req) => {
      const runs = await runsOfBatch(db, req.params.id);
      if (runs.length === 0) throw notFound(`no sync batch ${req.params.id}`);
      const owner = await accountOfProfile(db, runs[0].profile_id);
      // A batch whose profile is gone belongs to no account: only an admin may read it.
      if (owner) requireAccount(req, owner);
      else requireAdmin(req);
      const done = runs.every((r) => ['succeeded', 'failed', 'skipped'].includes(r.status));
      return {
        batchId: req.params.id,
        done,
        status: !done ? 'running' : runs.some((r) => r.status === 'failed') ? 'failed' : 'succeeded',
        runs,
      };
    },
  );
}

/**
 * POST /v1/ingestion/sync-all and /sync-account/:accountId: record a queued run and
 * answer at once; the ingestion loop (woken now) takes it up.
 */
export function registerIngestionApi(app: FastifyInstance, deps: ApiDeps & { wakeIngestion: () => void }): void {
  const { db } = deps;
  app.post(
    '/v1/ingestion/sync-all',
    {
      schema: {
        summary: 'Profiles, entities and report requests for every account (admin), in the background',
        response: { 202: startedRun },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const runId = await startIngestion(db, 'all');
      deps.wakeIngestion();
      return reply.status(202).send({ runId, status_url: `/v1/ingestion/runs/${runId}` });
    },
  );
  app.post<{ Params: { id: string } }>(
    '/v1/ingestion/sync-account/:id',
    {
      schema: {
        summary: 'Profiles, entities and report requests for one account, in the background',
        params: uuidParam,
        response: { 202: startedRun },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, db, req.params.id);
      if (!(await hasCredentials(db, req.params.id)))
        throw badRequest(
          `account ${req.params.id} has no Amazon credentials; POST /v1/accounts/${req.params.id}/credentials first`,
        );
      const runId = await startIngestion(db, 'account', req.params.id);
      deps.wakeIngestion();
      return reply.status(202).send({ runId, status_url: `/v1/ingestion/runs/${runId}` });
    },
  );
  app.get<{ Querystring: PageQuery & { accountId?: string; status?: string } }>(
    '/v1/ingestion/runs',
    {
      schema: {
        summary:
          "Ingestion runs, newest first: an account's (an account key sees its own only); all of them, every-account runs included, for an admin",
        querystring: accountListQuery({ status: { type: 'string', enum: [...INGESTION_STATUSES] } }),
        response: { 200: object({ runs: { type: 'array', items: ingestionRunSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const accountId = await listedAccount(req, db, req.query.accountId);
      const { items, ...rest } = await page(ingestionRunsQuery(db, { accountId, status: req.query.status }), req.query);
      return { runs: items, ...rest };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/v1/ingestion/runs/:id',
    {
      schema: {
        summary: 'An ingestion run and its progress per stage',
        params: uuidParam,
        response: { 200: ingestionRunSchema },
      },
    },
    async (req) => {
      const run = await findIngestionRun(db, req.params.id);
      if (!run) throw notFound(`no ingestion run ${req.params.id}`);
      if (run.account_id) requireAccount(req, run.account_id);
      else requireAdmin(req);
      return run;
    },
  );
}
