/** The consent-page connection's two routes: start (an account key) and Amazon's callback (the browser). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
export { lwaAppFrom } from './lwa-app.ts';
import { idParams } from '@adsync/shared/http/schemas';
import { conflict } from '@adsync/shared/http/errors';
import { requireKnownAccount } from '@adsync/shared/http/server';
import type { Region } from '@adsync/shared/amazon/regions';
import {
  completeConnect,
  ConnectError,
  connectedPage,
  consentCookieNameOf,
  consentPage,
  errorPage,
  openConsent,
  startConnect,
  type ConnectDeps,
  type ConsentCookie,
} from './oauth-connect.ts';

/** Set-Cookie for the consent binding: http-only, same-site Lax (sent on Amazon's redirect back), Secure over https. */
function setCookie(c: ConsentCookie): string {
  return `${c.name}=${c.value}; Path=${c.path}; Max-Age=${c.maxAgeSec}; HttpOnly; SameSite=Lax${c.secure ? '; Secure' : ''}`;
}

/** The request's cookies (RFC 6265 §5.4's name=value pairs). */
function cookiesOf(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

const htmlPages = {
  400: { description: 'not connected, with the reason', content: { 'text/html': { schema: { type: 'string' } } } },
  409: {
    description: 'the consent request was already opened or used',
    content: { 'text/html': { schema: { type: 'string' } } },
  },
};

export function registerConnectApi(
  app: FastifyInstance,
  deps: Omit<ConnectDeps, 'lwa'> & { lwa: ConnectDeps['lwa'] | null; consoleUrl?: string | undefined },
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

  const noApp = () => new ConnectError(409, 'NO_LWA_APP', 'no Login with Amazon app is configured');
  const refuse = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    if (!(err instanceof ConnectError)) throw err;
    req.log.warn({ code: err.code, reason: err.message }, 'consent link refused');
    return reply.status(err.status).type('text/html; charset=utf-8').send(errorPage(err));
  };

  app.get<{ Querystring: { state?: string } }>(
    '/v1/oauth/start',
    {
      // The consent link the advertiser opens: no API key, the sealed state is the credential.
      config: { public: true },
      schema: {
        summary: 'The consent link: a page naming the account to connect, with a button that continues to Amazon',
        description:
          'Opening the page binds nothing (a link previewer may fetch it); its button posts to /v1/oauth/start.',
        querystring: { type: 'object', properties: { state: { type: 'string' } } },
        response: {
          200: { description: 'the consent page', content: { 'text/html': { schema: { type: 'string' } } } },
          ...htmlPages,
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        if (!deps.lwa) throw noApp();
        const page = await consentPage({ ...deps, lwa: deps.lwa }, req.query);
        return reply.status(200).type('text/html; charset=utf-8').send(page);
      } catch (err) {
        return refuse(req, reply, err);
      }
    },
  );

  // The button: a form post, so its parser lives with this route only.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    scope.post<{ Body: { state?: unknown } | null }>(
      '/v1/oauth/start',
      {
        config: { public: true },
        schema: {
          summary:
            "Binds the consent to this browser (an http-only same-site cookie) and sends it to Amazon's consent page",
          description:
            'The first browser to continue gets the cookie and a PKCE challenge goes to Amazon; the callback completes ' +
            'the connection only in that browser. The same browser may continue again.',
          // No body schema: whatever a browser posts is judged by the handler, which answers a page.
          response: { 302: { description: "to Amazon's consent page", type: 'null' }, ...htmlPages },
        },
      },
      async (req, reply) => {
        reply.header('cache-control', 'no-store');
        try {
          if (!deps.lwa) throw noApp();
          const body = req.body && typeof req.body === 'object' ? req.body : {};
          const state = typeof body.state === 'string' ? body.state : undefined;
          const opened = await openConsent({ ...deps, lwa: deps.lwa }, { state }, cookiesOf(req.headers.cookie));
          return reply.header('set-cookie', setCookie(opened.cookie)).redirect(opened.amazonUrl, 302);
        } catch (err) {
          return refuse(req, reply, err);
        }
      },
    );
  });

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
        const cookies = cookiesOf(req.headers.cookie);
        const connected = await completeConnect({ ...deps, lwa: deps.lwa }, req.query, cookies);
        // Done: the binding cookie has served its purpose.
        const name = consentCookieNameOf(deps.box, req.query.state);
        if (name)
          reply.header(
            'set-cookie',
            `${name}=; Path=${new URL(deps.lwa.redirectUri).pathname.replace(/[^/]*$/, '')}; Max-Age=0; HttpOnly; SameSite=Lax${new URL(deps.lwa.redirectUri).protocol === 'https:' ? '; Secure' : ''}`,
          );
        return reply.status(200).send(connectedPage(connected, deps.consoleUrl));
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err;
        req.log.warn({ code: err.code, reason: err.message }, 'consent callback refused');
        return reply.status(err.status).send(errorPage(err));
      }
    },
  );
}
