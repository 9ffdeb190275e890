/**
 * The Marketing Stream API: subscribe profiles (and DSP advertisers reached only through a manager
 * account) to datasets delivering to our queue, list, read and archive.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { badRequest, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount } from '@adsync/shared/http/server';
import {
  idParams,
  nullable,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
} from '@adsync/shared/http/schemas';
import { accountOfProfile } from '@adsync/shared/accounts/profiles';
import { accountOfAdvertiser } from '@adsync/shared/accounts/dsp-advertisers';
import { DSP_STREAM_DATASETS, STREAM_DATASETS } from './records.ts';
import { ENTITY_STREAM_DATASETS } from './entity-records.ts';
import {
  archive,
  findSubscription,
  refresh,
  subscribe,
  subscribeAdvertiserAccount,
  subscriptionsQuery,
  defaultDatasets,
  type SubscriptionRow,
} from './subscriptions.ts';

const PROFILE_ID = { type: 'string', pattern: '^[0-9]{1,20}$' } as const;
const DSP_ACCOUNT_ID = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'a DSP advertiser reached only through a manager account: its adsp-* datasets, kept without a profile',
} as const;

const subscriptionSchema = object(
  {
    id: { type: 'string' },
    profileId: nullable({ type: 'string', description: 'null: a DSP advertiser account subscribed itself' }),
    dspAdvertiserId: nullable({ type: 'string' }),
    dataSetId: { type: 'string' },
    destinationArn: { type: 'string' },
    subscriptionId: nullable({ type: 'string' }),
    status: { type: 'string' },
    statusReason: nullable({ type: 'string' }),
    confirmedAt: nullable({ type: 'string' }),
    createdAt: { type: 'string' },
  },
  ['id', 'profileId', 'dataSetId', 'status'],
);

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const view = (s: SubscriptionRow) => ({
  id: s.id,
  profileId: s.profile_id,
  dspAdvertiserId: s.dsp_advertiser_id,
  dataSetId: s.dataset_id,
  destinationArn: s.destination_arn,
  subscriptionId: s.subscription_id,
  status: s.status,
  statusReason: s.status_reason,
  confirmedAt: iso(s.confirmed_at),
  createdAt: iso(s.created_at)!,
});

async function ownProfile(db: Knex, req: FastifyRequest, profileId: string) {
  const account = await accountOfProfile(db, profileId);
  if (!account) throw notFound(`no profile ${profileId} (sync the account's profiles first)`);
  requireAccount(req, account);
}

async function ownAdvertiser(db: Knex, req: FastifyRequest, advertiserId: string) {
  const account = await accountOfAdvertiser(db, advertiserId);
  if (!account) throw notFound(`no DSP advertiser ${advertiserId} (discover the account's DSP advertisers first)`);
  requireAccount(req, account);
}

export function registerStreamApi(
  app: FastifyInstance,
  deps: { db: Knex; clients: AmazonClients; destinationArn: () => string },
): void {
  const { db, clients } = deps;
  const own = async (req: FastifyRequest, id: string): Promise<SubscriptionRow> => {
    const s = await findSubscription(db, id);
    if (!s) throw notFound(`no stream subscription ${id}`);
    if (s.profile_id === null) await ownAdvertiser(db, req, s.dsp_advertiser_id!);
    else await ownProfile(db, req, s.profile_id);
    return s;
  };

  app.post<{ Body: { profileId?: string; dspAccountId?: string; dataSets?: string[]; notes?: string } }>(
    '/v1/streams/subscriptions',
    {
      schema: {
        summary:
          "Subscribe a profile (or a DSP advertiser reached only through a manager account) to Marketing Stream datasets, delivered to adsync's queue (confirmation is automatic)",
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            profileId: PROFILE_ID,
            dspAccountId: DSP_ACCOUNT_ID,
            dataSets: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...STREAM_DATASETS, ...ENTITY_STREAM_DATASETS] },
              description:
                "default: every sponsored-ads dataset adsync loads (hourly traffic, conversions and budget usage; the campaigns, adgroups, ads and targets snapshots applied to the entity tables), and DSP's (adsp-*) for each selected DSP advertiser a DSP profile reaches",
            },
            notes: { type: 'string', maxLength: 128 },
          },
        },
        response: { 201: object({ items: { type: 'array', items: subscriptionSchema } }, ['items']) },
      },
    },
    async (req, reply) => {
      const { profileId, dspAccountId } = req.body;
      if (profileId) await ownProfile(db, req, profileId);
      if (dspAccountId) await ownAdvertiser(db, req, dspAccountId);
      if (!profileId === !dspAccountId) throw badRequest('name a profileId or a dspAccountId (one of them)');
      const rows = dspAccountId
        ? await subscribeAdvertiserAccount(
            db,
            clients,
            dspAccountId,
            req.body.dataSets ?? [...DSP_STREAM_DATASETS],
            deps.destinationArn(),
            req.body.notes,
          )
        : await subscribe(
            db,
            clients,
            profileId!,
            req.body.dataSets ?? (await defaultDatasets(db, profileId!)),
            deps.destinationArn(),
            req.body.notes,
          );
      return reply.status(201).send({ items: rows.map(view) });
    },
  );

  app.get<{ Querystring: { profileId?: string; dspAccountId?: string; limit: number; offset: number } }>(
    '/v1/streams/subscriptions',
    {
      schema: {
        summary: 'Stream subscriptions with their status',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { profileId: PROFILE_ID, dspAccountId: DSP_ACCOUNT_ID, ...pageQueryProperties },
        },
        response: { 200: object({ items: { type: 'array', items: subscriptionSchema }, ...pageResponseProperties }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      if (req.query.profileId) await ownProfile(db, req, req.query.profileId);
      if (req.query.dspAccountId) await ownAdvertiser(db, req, req.query.dspAccountId);
      const result = await page<SubscriptionRow>(
        subscriptionsQuery(db, {
          accountId: p.scope === 'account' ? p.accountId : undefined,
          profileId: req.query.profileId,
          dspAccountId: req.query.dspAccountId,
        }),
        req.query,
      );
      return { ...result, items: result.items.map(view) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/streams/subscriptions/:id',
    {
      schema: {
        summary: 'A subscription, its status read from Amazon now',
        params: idParams(),
        response: { 200: subscriptionSchema },
      },
    },
    async (req) => view(await refresh(db, clients, await own(req, req.params.id))),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/streams/subscriptions/:id',
    {
      schema: {
        summary: 'Archive a subscription at Amazon (Amazon keeps no deleted subscriptions; only ACTIVE ones archive)',
        params: idParams(),
        response: { 200: subscriptionSchema },
      },
    },
    async (req) => view(await archive(db, clients, await own(req, req.params.id))),
  );
}
