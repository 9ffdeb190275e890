/**
 * Profiles several accounts reach (an agency and a brand sharing access): each has one owner,
 * and the others' claims wait here for a decision. An account sees its own claims and how many
 * others reach the profiles it owns, never who; an admin sees everything. The owner (or an
 * admin) may hand a profile to an account that claims it; a claimant may decline it.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import { conflict, notFound } from '@adsync/shared/http/errors';
import { principalOf, requireAccount, requireAdmin, requireKnownAccount } from '@adsync/shared/http/server';
import { object } from '@adsync/shared/http/schemas';
import { accountOfProfile, dismissClaim, profileClaims, transferProfile } from '@adsync/shared/accounts/profiles';

const uuidParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;
/** A profile id in a path (Amazon's are numeric). */
export const profileParam = {
  type: 'object',
  required: ['profileId'],
  additionalProperties: false,
  properties: { profileId: { type: 'string', pattern: '^[0-9]{1,20}$' } },
} as const;
const claimSchema = object(
  {
    profileId: { type: 'string' },
    status: { type: 'string' },
    firstSeenAt: { type: 'string' },
    lastSeenAt: { type: 'string' },
  },
  ['profileId', 'status'],
);

export function registerProfileClaimsApi(app: FastifyInstance, deps: { db: Knex; log: Logger }): void {
  const { db } = deps;

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id/profile-claims',
    {
      schema: {
        summary:
          "Profiles the account's login reaches that another account owns, and how many other accounts reach the ones it owns",
        params: uuidParam,
        response: {
          200: object({
            accountId: { type: 'string' },
            claimed: { type: 'array', items: claimSchema },
            contested: {
              type: 'array',
              items: object({ profileId: { type: 'string' }, claimants: { type: 'integer' } }),
            },
          }),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.params.id);
      const mine = await profileClaims(db, { claimant: req.params.id });
      const onMine = await profileClaims(db, { owner: req.params.id, status: 'pending' });
      const counts = new Map<string, number>();
      for (const c of onMine) counts.set(c.profile_id, (counts.get(c.profile_id) ?? 0) + 1);
      return {
        accountId: req.params.id,
        claimed: mine.map((c) => ({
          profileId: c.profile_id,
          status: c.status,
          firstSeenAt: new Date(c.first_seen_at).toISOString(),
          lastSeenAt: new Date(c.last_seen_at).toISOString(),
        })),
        contested: [...counts].map(([profileId, claimants]) => ({ profileId, claimants })),
      };
    },
  );

  app.get<{ Querystring: { status?: 'pending' | 'dismissed' } }>(
    '/v1/profile-claims',
    {
      schema: {
        summary: 'Every claim on a profile another account owns, with both accounts (admin)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: ['pending', 'dismissed'] } },
        },
        response: {
          200: object({
            claims: {
              type: 'array',
              items: object({
                profileId: { type: 'string' },
                claimantAccountId: { type: 'string' },
                ownerAccountId: { type: 'string' },
                status: { type: 'string' },
                lastSeenAt: { type: 'string' },
              }),
            },
          }),
        },
      },
    },
    async (req) => {
      requireAdmin(req);
      const claims = await profileClaims(db, { status: req.query.status });
      return {
        claims: claims.map((c) => ({
          profileId: c.profile_id,
          claimantAccountId: c.account_id,
          ownerAccountId: c.owner_account_id,
          status: c.status,
          lastSeenAt: new Date(c.last_seen_at).toISOString(),
        })),
      };
    },
  );

  app.post<{ Params: { profileId: string }; Body: { toAccountId: string } }>(
    '/v1/profiles/:profileId/transfer',
    {
      schema: {
        summary:
          "Hand a profile to an account whose login reaches it (its owner or an admin); its data follows, and the former owner's access becomes a dismissed claim",
        params: profileParam,
        body: {
          type: 'object',
          required: ['toAccountId'],
          additionalProperties: false,
          properties: { toAccountId: { type: 'string', format: 'uuid' } },
        },
        response: { 200: object({ profileId: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }) },
      },
    },
    async (req) => {
      const owner = await accountOfProfile(db, req.params.profileId);
      if (!owner) throw notFound(`no profile ${req.params.profileId}`);
      // Only its owner (or an admin) gives a profile away; a claimant cannot take it.
      requireAccount(req, owner);
      const p = principalOf(req);
      const moved = await transferProfile(db, req.params.profileId, req.body.toAccountId, {
        expectedOwner: owner,
        anyClaim: p.scope === 'admin',
        resolution: `transferred by ${p.scope === 'admin' ? 'an admin' : 'its owner'}`,
      });
      if ('refused' in moved) throw conflict(moved.refused);
      deps.log.info({ profileId: req.params.profileId, ...moved, by: p.scope }, 'profile transferred');
      return { profileId: req.params.profileId, ...moved };
    },
  );

  app.post<{ Params: { profileId: string }; Body: { accountId: string } }>(
    '/v1/profiles/:profileId/claims/dismiss',
    {
      schema: {
        summary: "Decline a profile another account owns: the account's later discoveries no longer raise it",
        params: profileParam,
        body: {
          type: 'object',
          required: ['accountId'],
          additionalProperties: false,
          properties: { accountId: { type: 'string', format: 'uuid' } },
        },
        response: {
          200: object({ profileId: { type: 'string' }, accountId: { type: 'string' }, status: { type: 'string' } }),
        },
      },
    },
    async (req) => {
      await requireKnownAccount(req, db, req.body.accountId);
      if (!(await dismissClaim(db, req.params.profileId, req.body.accountId, 'dismissed by the claimant')))
        throw notFound(`account ${req.body.accountId} has no claim on profile ${req.params.profileId}`);
      return { profileId: req.params.profileId, accountId: req.body.accountId, status: 'dismissed' };
    },
  );
}
