/**
 * Amazon's front door: Login with Amazon tokens, the client-id header and the
 * profile scope. Wordings follow en-us/reference/concepts/errors.md: an unknown
 * profile is "401 No matching advertiser found for scope", a profile the
 * credentials may not manage is "401 Not authorized to access scope".
 */
import { escapeHtml } from '@adsync/shared/http/html';
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { send, type Req, type Route, route } from '../http-kit.ts';
import type { SandboxState } from '../state.ts';
import type { Access, Documented, GateResult } from './endpoint.ts';

export const SANDBOX_CLIENT_ID = 'amzn1.application-oa2-client.sandbox';
export const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';
export const SANDBOX_REFRESH_TOKEN = 'Atzr|sandbox-refresh-token';
/** An account's stored credentials for the sandbox (storeCredentials' shape). */
export const SANDBOX_ACCOUNT_CREDENTIALS = {
  region: 'NA',
  client_id: SANDBOX_CLIENT_ID,
  client_secret: SANDBOX_CLIENT_SECRET,
  refresh_token: SANDBOX_REFRESH_TOKEN,
} as const;

/**
 * The gateway in front of every Ads API operation: the bearer token, the client-id
 * header it was issued to, and the resource the model's headers name: the profile scope,
 * or (where the model takes it instead) a DSP advertiser account. A refusal
 * is written by the operation's own model (endpoint.ts), as Amazon's front door does.
 */
export function authorise(
  state: SandboxState,
  req: Req,
  access: Access,
  /** The client-id header the operation's model names (Ads API v1: Amazon-Ads-ClientId). */
  clientIdHeader = 'Amazon-Advertising-API-ClientId',
): GateResult {
  const refuse = (status: number, message: string): GateResult => ({ status, problem: { message } });
  const auth = req.headers.authorization;
  const token = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : null;
  const t = token ? state.accessTokens.get(token) : undefined;
  if (!t || t.expiresAt <= state.now().getTime())
    return refuse(401, t ? 'Access token expired' : 'Not authorized to access this resource');
  if (req.headers[clientIdHeader.toLowerCase()] !== t.clientId)
    return refuse(400, `${clientIdHeader} header is missing or does not match the access token`);
  if (access === 'none') return { profile: null, profileId: null, accountId: null };
  if (access === 'account') {
    const id = req.headers['amazon-ads-account-id'];
    if (typeof id !== 'string' || !id) return refuse(400, 'Amazon-Ads-Account-ID header is missing');
    const p = state.dataset.dspAccountIndex(id);
    if (p === null || state.faults.forbiddenProfiles.includes(id))
      return refuse(401, `Not authorized to access account ${id}`);
    return { profile: p, profileId: null, accountId: id };
  }
  const scope = req.headers['amazon-advertising-api-scope'];
  const account = req.headers['amazon-ads-accountid'];
  if (
    (typeof scope !== 'string' || !scope) &&
    access === 'scope-or-account' &&
    typeof account === 'string' &&
    account
  ) {
    // A DSP advertiser account: reached through the profile whose authorisation includes it.
    const p = state.dataset.dspAccountIndex(account);
    if (p === null || state.faults.forbiddenProfiles.includes(account))
      return refuse(401, `Not authorized to access account ${account}`);
    return { profile: p, profileId: null, accountId: account };
  }
  if (typeof scope !== 'string' || !scope)
    return refuse(
      401,
      access === 'scope-or-account'
        ? 'Amazon-Advertising-API-Scope or Amazon-Ads-AccountId header is missing'
        : 'Amazon-Advertising-API-Scope header is missing',
    );
  const p = state.dataset.profileIndex(scope);
  if (p === null) return refuse(401, `No matching advertiser found for scope ${scope}`);
  if (state.faults.forbiddenProfiles.includes(scope)) return refuse(401, `Not authorized to access scope ${scope}`);
  state.countProfileCall(scope);
  return { profile: p, profileId: scope, accountId: null };
}

export const LWA_DOCUMENTED: Documented = {
  method: 'POST',
  path: '/auth/o2/token',
  summary: 'Login with Amazon token grant',
  doc: 'en-us/guides/account-management/authorization/access-tokens.md',
  contentTypes: ['application/x-www-form-urlencoded'],
  bodyDoc: {
    type: 'object',
    properties: {
      grant_type: { type: 'string', enum: ['refresh_token', 'authorization_code'] },
      refresh_token: { type: 'string' },
      code: { type: 'string' },
      redirect_uri: { type: 'string' },
      code_verifier: { type: 'string' },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
    },
  },
};

/** Authorization codes expire after 5 minutes and work once (access-tokens.md). */
export const AUTH_CODE_TTL_MS = 5 * 60_000;
/** Scopes the consent page grants: the Ads API's, and the older one Amazon still accepts. */
const ADS_SCOPES = new Set(['advertising::campaign_management', 'cpc_advertising:campaign_management']);

const invalidGrant = (param: string) => ({
  error: 'invalid_grant',
  error_description: `The request has an invalid grant parameter : ${param}`,
});

/**
 * POST /auth/o2/token: the refresh-token and authorization-code grants
 * (en-us/guides/account-management/authorization/access-tokens.md).
 */
export function lwaRoutes(state: SandboxState): Route[] {
  return [
    route('POST', '/auth/o2/token', async (req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const grant = form.get('grant_type');
      if (grant !== 'refresh_token' && grant !== 'authorization_code')
        return send(res, 400, {
          error: 'unsupported_grant_type',
          error_description: 'The authorization grant type is not supported by the authorization server',
        });
      const clientId = form.get('client_id');
      if (clientId !== SANDBOX_CLIENT_ID || form.get('client_secret') !== SANDBOX_CLIENT_SECRET) {
        return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      let refresh: string;
      if (grant === 'authorization_code') {
        const code = state.authCodes.get(form.get('code') ?? '');
        // Used, expired, unknown or issued to another client: the same refusal, as LWA gives.
        if (
          !code ||
          code.used ||
          code.clientId !== clientId ||
          state.now().getTime() - code.issuedAt > AUTH_CODE_TTL_MS
        )
          return send(res, 400, invalidGrant('code'));
        // access-tokens.md: redirect_uri must be the one the consent request named; OAuth 2.0
        // (RFC 6749 §5.2) answers a mismatch invalid_grant, which is what LWA's error table lists.
        if (form.get('redirect_uri') !== code.redirectUri) return send(res, 400, invalidGrant('redirect_uri'));
        // RFC 7636 §4.6: a code issued with a challenge is exchanged only with its verifier.
        // …and one issued without a challenge is not exchanged with a verifier (a PKCE downgrade, RFC 9700 §2.1.1).
        if (
          code.challenge ? !pkceMatches(code.challenge, form.get('code_verifier')) : form.get('code_verifier') !== null
        )
          return send(res, 400, invalidGrant('code_verifier'));
        code.used = true;
        refresh = `Atzr|consent-${randomBytes(24).toString('base64url')}`;
      } else {
        refresh = form.get('refresh_token') ?? '';
        if (!refresh.startsWith('Atzr|') || state.revokedRefreshTokens.has(refresh))
          return send(res, 400, invalidGrant('refresh_token'));
      }
      const token = `Atza|${randomBytes(24).toString('base64url')}`;
      const ttl = state.faults.tokenTtlSec;
      state.accessTokens.set(token, { clientId, expiresAt: state.now().getTime() + ttl * 1000 });
      state.counters.tokenGrants++;
      send(res, 200, { access_token: token, refresh_token: refresh, token_type: 'bearer', expires_in: ttl });
    }),
    ...consentRoutes(state),
  ];
}

/** Whether a PKCE verifier answers a challenge (RFC 7636 §4.6). */
function pkceMatches(challenge: { value: string; method: string }, verifier: string | null): boolean {
  if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const expected = challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return expected === challenge.value;
}

function redirect(res: ServerResponse, to: URL): void {
  res.writeHead(302, { location: to.toString(), 'content-length': 0 });
  res.end();
}

/**
 * The consent page at /ap/oa (authorization-grants.md): the advertiser (here, whoever
 * submits the form) allows or cancels, and is sent to redirect_uri with `code`, `scope`
 * and `state`, or with `error=access_denied`. An unknown client or a missing
 * redirect_uri is an error page, never a redirect, as an OAuth server must.
 */
function consentRoutes(state: SandboxState): Route[] {
  const check = (q: URLSearchParams, res: ServerResponse): URL | null => {
    if (q.get('client_id') !== SANDBOX_CLIENT_ID) {
      send(res, 400, '<h1>Login with Amazon</h1><p>An unknown client_id asked for consent.</p>', 'text/html');
      return null;
    }
    let back: URL;
    try {
      back = new URL(q.get('redirect_uri') ?? '');
      if (back.protocol !== 'http:' && back.protocol !== 'https:') throw new Error('scheme');
    } catch {
      send(res, 400, '<h1>Login with Amazon</h1><p>redirect_uri is missing or not a URL.</p>', 'text/html');
      return null;
    }
    const fail = (error: string, description: string) => {
      back.searchParams.set('error', error);
      back.searchParams.set('error_description', description);
      if (q.get('state') !== null) back.searchParams.set('state', q.get('state')!);
      redirect(res, back);
      return null;
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (!ADS_SCOPES.has(q.get('scope') ?? '')) return fail('invalid_scope', 'An unknown scope was requested');
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (method !== null && !challenge) return fail('invalid_request', 'code_challenge_method without code_challenge');
    if (challenge && !/^[A-Za-z0-9._~-]{43,128}$/.test(challenge))
      return fail('invalid_request', 'code_challenge must be 43 to 128 unreserved characters');
    if (challenge && method !== null && method !== 'S256' && method !== 'plain')
      return fail('invalid_request', 'code_challenge_method must be S256 or plain');
    return back;
  };
  return [
    route('GET', '/ap/oa', (req, res) => {
      if (!check(req.query, res)) return;
      const hidden = [...req.query]
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join('');
      send(
        res,
        200,
        `<!doctype html><html><head><title>Amazon Ads consent</title></head><body>
<h1>Allow adsync to manage your Amazon Ads campaigns?</h1>
<form method="post" action="/ap/oa">${hidden}
<button name="consent" value="allow">Allow</button>
<button name="consent" value="deny">Cancel</button>
</form></body></html>`,
        'text/html; charset=utf-8',
      );
    }),
    route('POST', '/ap/oa', (req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const back = check(form, res);
      if (!back) return;
      const st = form.get('state');
      if (form.get('consent') !== 'allow') {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'The user denied the request.');
      } else {
        const code = `AN${randomBytes(15).toString('base64url')}`;
        const challenge = form.get('code_challenge');
        state.authCodes.set(code, {
          clientId: SANDBOX_CLIENT_ID,
          redirectUri: form.get('redirect_uri')!,
          issuedAt: state.now().getTime(),
          used: false,
          // RFC 7636 §4.3: without a method the challenge is plain.
          challenge: challenge ? { value: challenge, method: form.get('code_challenge_method') ?? 'plain' } : null,
        });
        back.searchParams.set('code', code);
        back.searchParams.set('scope', form.get('scope')!);
      }
      if (st !== null) back.searchParams.set('state', st);
      redirect(res, back);
    }),
  ];
}
