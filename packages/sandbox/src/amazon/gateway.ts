/**
 * Amazon's front door: Login with Amazon tokens, the client-id header and the
 * profile scope. Wordings follow en-us/reference/concepts/errors.md: an unknown
 * profile is "401 No matching advertiser found for scope", a profile the
 * credentials may not manage is "401 Not authorized to access scope".
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { send, type Req, type Route, route } from '../http-kit.ts';
import type { SandboxState } from '../state.ts';
import { sendError, type Authorised, type Documented } from './endpoint.ts';

export const SANDBOX_CLIENT_ID = 'amzn1.application-oa2-client.sandbox';
export const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';
export const SANDBOX_REFRESH_TOKEN = 'Atzr|sandbox-refresh-token';

export function authorise(state: SandboxState, req: Req, res: ServerResponse, needScope: boolean): Authorised | false {
  const auth = req.headers.authorization;
  const token = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : null;
  const t = token ? state.accessTokens.get(token) : undefined;
  if (!t || t.expiresAt <= state.now().getTime()) {
    sendError(res, 'legacy', 401, t ? 'Access token expired' : 'Not authorized to access this resource');
    return false;
  }
  if (req.headers['amazon-advertising-api-clientid'] !== t.clientId) {
    sendError(
      res,
      'legacy',
      400,
      'Amazon-Advertising-API-ClientId header is missing or does not match the access token',
    );
    return false;
  }
  if (!needScope) return { profile: null, profileId: null };
  const scope = req.headers['amazon-advertising-api-scope'];
  if (typeof scope !== 'string' || !scope) {
    sendError(res, 'legacy', 401, 'Amazon-Advertising-API-Scope header is missing');
    return false;
  }
  const p = state.dataset.profileIndex(scope);
  if (p === null) {
    sendError(res, 'legacy', 401, `No matching advertiser found for scope ${scope}`);
    return false;
  }
  if (state.faults.forbiddenProfiles.includes(scope)) {
    sendError(res, 'legacy', 401, `Not authorized to access scope ${scope}`);
    return false;
  }
  state.countProfileCall(scope);
  return { profile: p, profileId: scope };
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
      grant_type: { type: 'string' },
      refresh_token: { type: 'string' },
      code: { type: 'string' },
      redirect_uri: { type: 'string' },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
    },
  },
};

/** POST /auth/o2/token, refresh-token grant (en-us/guides/account-management/authorization/access-tokens.md). */
export function lwaRoutes(state: SandboxState): Route[] {
  return [
    route('POST', '/auth/o2/token', async (req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const grant = form.get('grant_type');
      if (grant !== 'refresh_token')
        return send(res, 400, {
          error: 'unsupported_grant_type',
          error_description: 'The authorization grant type is not supported by the authorization server',
        });
      const clientId = form.get('client_id');
      if (clientId !== SANDBOX_CLIENT_ID || form.get('client_secret') !== SANDBOX_CLIENT_SECRET) {
        return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      const refresh = form.get('refresh_token') ?? '';
      if (!refresh.startsWith('Atzr|') || state.revokedRefreshTokens.has(refresh)) {
        return send(res, 400, {
          error: 'invalid_grant',
          error_description: 'The request has an invalid grant parameter : refresh_token',
        });
      }
      const token = `Atza|${randomBytes(24).toString('base64url')}`;
      const ttl = state.faults.tokenTtlSec;
      state.accessTokens.set(token, { clientId, expiresAt: state.now().getTime() + ttl * 1000 });
      state.counters.tokenGrants++;
      send(res, 200, { access_token: token, refresh_token: refresh, token_type: 'bearer', expires_in: ttl });
    }),
  ];
}
