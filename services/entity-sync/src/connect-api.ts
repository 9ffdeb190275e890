/** The consent-page connection's two routes: start (an account key) and Amazon's callback (the browser). */
import type { FastifyInstance } from 'fastify';
export { lwaAppFrom } from './lwa-app.ts';
import { idParams } from '@adsync/shared/http/schemas';
import { conflict } from '@adsync/shared/http/errors';
import { requireKnownAccount } from '@adsync/shared/http/server';
import type { Region } from '@adsync/shared/amazon/regions';
import {
  completeConnect,
  ConnectError,
  connectedPage,
  errorPage,
  startConnect,
  type ConnectDeps,
} from './oauth-connect.ts';

export function registerConnectApi(
  app: FastifyInstance,
  deps: Omit<ConnectDeps, 'lwa'> & { lwa: ConnectDeps['lwa'] | null },
): void {
  app.post<{ Params: { id: string }; Body: { region?: Region } }>(
    '/v1/accounts/:id/connect',
    {
      schema: {
        summary: "Start connecting the account through Amazon's consent page; answers the URL to open",
        description:
          'The advertiser opens consentUrl, signs in to Amazon and allows access; Amazon sends the browser to ' +
          '/v1/oauth/callback, which stores the sealed refresh token and discovers the profiles. The URL works once, ' +
          'until expiresAt.',
        params: idParams(),
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { region: { type: 'string', enum: ['NA', 'EU', 'FE'], default: 'NA' } },
        },
        response: {
          201: {
            type: 'object',
            required: ['account_id', 'region', 'consent_url', 'expires_at', 'redirect_uri'],
            properties: {
              account_id: { type: 'string' },
              region: { type: 'string' },
              consent_url: { type: 'string' },
              expires_at: { type: 'string' },
              redirect_uri: { type: 'string' },
            },
          },
        },
      },
    },
    async (req, reply) => {
      await requireKnownAccount(req, deps.db, req.params.id);
      if (!deps.lwa)
        throw conflict(
          'no Login with Amazon app is configured: set LWA_CLIENT_ID, LWA_CLIENT_SECRET and OAUTH_REDIRECT_URI (an Allowed Return URL of the app)',
        );
      const region = req.body?.region ?? 'NA';
      const started = await startConnect({ ...deps, lwa: deps.lwa }, req.params.id, region);
      return reply.status(201).send({
        account_id: req.params.id,
        region,
        consent_url: started.consentUrl,
        expires_at: started.expiresAt,
        redirect_uri: started.redirectUri,
      });
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/v1/oauth/callback',
    {
      // Amazon sends the advertiser's browser here: no API key, the sealed state is the credential.
      config: { public: true },
      schema: {
        summary: "Amazon's consent page sends the browser back here; answers a small HTML page",
        // No length limits here: whatever arrives is judged by the handler, which answers the browser a page.
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string' },
            code: { type: 'string' },
            scope: { type: 'string' },
            error: { type: 'string' },
            error_description: { type: 'string' },
          },
        },
        response: {
          200: { description: 'connected', content: { 'text/html': { schema: { type: 'string' } } } },
          400: {
            description: 'not connected, with the reason',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          409: {
            description: 'the consent request was already used',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          502: {
            description: 'Login with Amazon is unavailable',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
      if (!deps.lwa)
        return reply
          .status(409)
          .send(errorPage(new ConnectError(409, 'NO_LWA_APP', 'no Login with Amazon app is configured')));
      try {
        const connected = await completeConnect({ ...deps, lwa: deps.lwa }, req.query);
        return reply.status(200).send(connectedPage(connected));
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err;
        req.log.warn({ code: err.code, reason: err.message }, 'consent callback refused');
        return reply.status(err.status).send(errorPage(err));
      }
    },
  );
}
