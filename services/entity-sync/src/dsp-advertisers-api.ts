/**
 * An account's Amazon DSP advertisers: discover them (GET /dsp/advertisers under its DSP
 * profiles, GET /managerAccounts) and list them with their state; sync and list their entities
 * (Ads API v1: campaigns, ad groups, ads, targets). Which are used is the
 * account's selection (PUT /v1/accounts/:id/profile-selection, includeDspAdvertiserIds and
 * excludeDspAdvertiserIds). An account key sees only its own account.
 */
import { requestClient } from './request-client.ts';
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { requireKnownAccount } from '@adsync/shared/http/server';
import {
  idParams,
  nullable,
  object,
  page,
  pageQueryProperties,
  pageResponseProperties,
  type PageQuery,
} from '@adsync/shared/http/schemas';
import {
  advertiserIdsOfAccount,
  advertisersOfAccount,
  type StoredDspAdvertiser,
} from '@adsync/shared/accounts/dsp-advertisers';
import { discoverDspAdvertisers } from './dsp-advertisers.ts';
import { syncDspEntities } from './dsp-entities.ts';
import { dspEntitiesOf } from '@adsync/shared/entities/dsp-entity-store';
import { DSP_ENTITY_KINDS, type DspEntityKind } from '@adsync/shared/amazon/dsp-entities';

const advertiserSchema = object(
  {
    advertiser_id: { type: 'string' },
    account_id: { type: 'string' },
    name: { type: 'string' },
    currency_code: nullable({ type: 'string' }),
    country_code: nullable({ type: 'string' }),
    timezone: nullable({ type: 'string' }),
    marketplace_id: nullable({ type: 'string' }),
    via_profile_id: nullable({ type: 'string', description: 'the DSP profile whose scope reaches it' }),
    manager_account_id: nullable({ type: 'string' }),
    access: {
      type: 'string',
      enum: ['profile', 'account'],
      description: 'profile: reached under its DSP profile’s scope; account: with Amazon-Ads-AccountId',
    },
    status: { type: 'string', enum: ['active', 'excluded', 'inaccessible'] },
    status_reason: nullable({ type: 'string' }),
  },
  ['advertiser_id', 'account_id', 'status', 'access'],
);

const withAccess = <T extends { via_profile_id: string | null }>(a: T) => ({
  ...a,
  access: a.via_profile_id ? 'profile' : 'account',
});

export function registerDspAdvertisersApi(app: FastifyInstance, deps: { db: Knex; clients: AmazonClients }): void {
  const { db } = deps;

  app.post<{ Params: { id: string } }>(
    '/v1/accounts/:id/dsp-advertisers/sync',
    {
      schema: {
        summary:
          "Discover the Amazon DSP advertisers the account's login reaches (under its DSP profiles and through manager accounts)",
        params: idParams(),
        response: {
          200: object(
            {
              account_id: { type: 'string' },
              discovered: { type: 'integer' },
              added: { type: 'integer' },
              advertisers: { type: 'array', items: advertiserSchema },
              excluded: {
                type: 'array',
                items: object({ advertiserId: { type: 'string' }, reason: { type: 'string' } }),
              },
              claimed: {
                type: 'array',
                items: { type: 'string' },
                description: 'advertisers this login reaches that another account owns: not moved',
              },
              unreachable: {
                type: 'array',
                items: object({ route: { type: 'string' }, reason: { type: 'string' } }),
                description: 'routes Amazon refused or that failed, with the reason; the rest were discovered',
              },
              warnings: {
                type: 'array',
                items: { type: 'string' },
                description: 'lists that may be longer than Amazon answered',
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
      const found = await discoverDspAdvertisers(db, client, req.params.id);
      const stored: StoredDspAdvertiser[] = await advertisersOfAccount(db, req.params.id).whereIn(
        'advertiser_id',
        found.advertisers.map((a) => a.advertiser_id),
      );
      return {
        account_id: req.params.id,
        discovered: found.advertisers.length,
        added: found.added,
        advertisers: stored.map(withAccess),
        excluded: found.excluded,
        claimed: found.claimed,
        unreachable: found.unreachable,
        warnings: found.warnings,
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/accounts/:id/dsp-advertisers',
    {
      schema: {
        summary: "The account's Amazon DSP advertisers with their state, a page at a time",
        params: idParams(),
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: {
          200: object({ advertisers: { type: 'array', items: advertiserSchema }, ...pageResponseProperties }),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const { items, ...rest } = await page<StoredDspAdvertiser>(advertisersOfAccount(db, req.params.id), req.query);
      return { advertisers: items.map(withAccess), ...rest };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/accounts/:id/dsp-entities/sync',
    {
      schema: {
        summary:
          "Sync the campaigns, ad groups, ads and targets of the account's active DSP advertisers (Ads API v1); each kind is replaced whole",
        params: idParams(),
        response: {
          200: object(
            {
              account_id: { type: 'string' },
              advertisers: { type: 'integer' },
              synced: {
                type: 'array',
                items: object({
                  advertiserId: { type: 'string' },
                  kind: { type: 'string' },
                  stored: { type: 'integer' },
                  removed: { type: 'integer' },
                }),
              },
              failed: {
                type: 'array',
                items: object({ advertiserId: { type: 'string' }, reason: { type: 'string' } }),
                description: 'advertisers Amazon refused or that failed, with the reason; the others synced',
              },
            },
            ['account_id', 'advertisers', 'synced', 'failed'],
          ),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const client = await requestClient(deps.clients, req.params.id);
      return { account_id: req.params.id, ...(await syncDspEntities(db, client, req.params.id)) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery & { kind: DspEntityKind } }>(
    '/v1/accounts/:id/dsp-entities',
    {
      schema: {
        summary: "The account's DSP entities of one kind (campaigns, adGroups, ads or targets), a page at a time",
        params: idParams(),
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          properties: { kind: { type: 'string', enum: [...DSP_ENTITY_KINDS] }, ...pageQueryProperties },
        },
        response: {
          200: object({
            entities: {
              type: 'array',
              items: object({
                advertiser_id: { type: 'string' },
                kind: { type: 'string' },
                entity_id: { type: 'string' },
                campaign_id: nullable({ type: 'string' }),
                ad_group_id: nullable({ type: 'string' }),
                name: nullable({ type: 'string' }),
                state: nullable({ type: 'string' }),
                data: { type: 'object', additionalProperties: true },
              }),
            },
            ...pageResponseProperties,
          }),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const advertisers = await advertiserIdsOfAccount(db, req.params.id);
      const { items, ...rest } = await page(dspEntitiesOf(db, advertisers, req.query.kind), req.query);
      return { entities: items, ...rest };
    },
  );
}
