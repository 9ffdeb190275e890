/**
 * A profile's Amazon Attribution as the last ingestion run found it: whether Amazon serves it (and
 * why not), the days pulled, its advertisers and the tag of each publisher, which an account
 * manager puts on the off-Amazon ads (how-to.md: a macro tag as it is, a template tag with the
 * campaign, ad group and creative ids filled in).
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import { notFound } from '@adsync/shared/http/errors';
import { requireAccount } from '@adsync/shared/http/server';
import { object } from '@adsync/shared/http/schemas';
import { accountOfProfile } from '@adsync/shared/accounts/profiles';
import { attributionOverview } from './attribution-store.ts';
import { profileParam } from './profile-claims-api.ts';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

export function registerAttributionApi(app: FastifyInstance, deps: { db: Knex }): void {
  const { db } = deps;
  app.get<{ Params: { profileId: string } }>(
    '/v1/profiles/:profileId/attribution',
    {
      schema: {
        summary: "The profile's Amazon Attribution: whether Amazon serves it, the days pulled, advertisers and tags",
        params: profileParam,
        response: {
          200: object(
            {
              profileId: { type: 'string' },
              state: { type: 'string', enum: ['not_checked', 'enabled', 'not_eligible', 'failed'] },
              reason: { type: ['string', 'null'] },
              pulledThrough: { type: ['string', 'null'] },
              pulledAt: { type: ['string', 'null'] },
              checkedAt: { type: ['string', 'null'] },
              advertisers: {
                type: 'array',
                // Each advertiser's own last day pulled (one new to the profile: null until its backfill loads).
                items: object(
                  {
                    advertiserId: { type: 'string' },
                    name: { type: 'string' },
                    pulledThrough: { type: ['string', 'null'] },
                  },
                  ['advertiserId', 'name', 'pulledThrough'],
                ),
              },
              tags: {
                type: 'array',
                items: object(
                  {
                    advertiserId: { type: 'string' },
                    publisherId: { type: 'string' },
                    publisher: { type: ['string', 'null'] },
                    macro: { type: 'boolean' },
                    tag: { type: 'string' },
                  },
                  ['advertiserId', 'publisherId', 'publisher', 'macro', 'tag'],
                ),
              },
            },
            ['profileId', 'state', 'reason', 'pulledThrough', 'pulledAt', 'checkedAt', 'advertisers', 'tags'],
          ),
        },
      },
    },
    async (req) => {
      const owner = await accountOfProfile(db, req.params.profileId);
      if (!owner) throw notFound(`no profile ${req.params.profileId}`, { profileId: req.params.profileId });
      requireAccount(req, owner);
      const { profile, advertisers, tags } = await attributionOverview(db, req.params.profileId);
      return {
        profileId: req.params.profileId,
        // Not yet looked at by an ingestion run.
        state: profile?.state ?? 'not_checked',
        reason: profile?.reason ?? null,
        pulledThrough: profile?.pulled_through ?? null,
        pulledAt: iso(profile?.pulled_at),
        checkedAt: iso(profile?.checked_at),
        advertisers: advertisers.map((a) => ({
          advertiserId: a.advertiser_id,
          name: a.name,
          pulledThrough: a.pulled_through,
        })),
        tags: tags.map((t) => ({
          advertiserId: t.advertiser_id,
          publisherId: t.publisher_id,
          publisher: t.publisher,
          macro: t.macro,
          tag: t.tag,
        })),
      };
    },
  );
}
