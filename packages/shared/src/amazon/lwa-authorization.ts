/**
 * Login with Amazon's authorization-code grant, the way an advertiser connects an
 * account: a consent page on the region's host, then the code it hands back is
 * exchanged once for a refresh token (en-us/guides/account-management/authorization/
 * authorization-grants.md and access-tokens.md: a code works once, for 5 minutes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { LwaError } from './errors.ts';
import { endpointsFor, type Region } from './regions.ts';
import { retry } from '../runtime/retry.ts';
import { postTokenGrant } from './lwa-token.ts';

/**
 * The sandbox's Login with Amazon app: what the demo connects with when
 * AMAZON_ADS_BASE_URL points at the sandbox. Not a secret; the sandbox publishes it.
 */
export const SANDBOX_LWA_APP = {
  clientId: 'amzn1.application-oa2-client.sandbox',
  clientSecret: 'sandbox-client-secret',
} as const;

/** The scope for the Amazon Ads API (authorization-grants.md). */
export const ADS_SCOPE = 'advertising::campaign_management';

/**
 * A PKCE pair (RFC 7636): the verifier stays with us, its S256 challenge goes in the consent
 * request, and only the verifier's holder can exchange the code (authorization-grants.md
 * lists code_challenge and code_challenge_method; LWA recommends them).
 */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The URL an advertiser opens to consent, for the region's consent host. */
export function consentRequestUrl(o: {
  region: Region;
  clientId: string;
  redirectUri: string;
  state: string;
  /** The S256 PKCE challenge of the verifier the code exchange will send. */
  codeChallenge?: string;
  baseUrlOverride?: string;
}): string {
  const url = new URL(endpointsFor(o.region, o.baseUrlOverride).consentUrl);
  url.searchParams.set('client_id', o.clientId);
  url.searchParams.set('scope', ADS_SCOPE);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', o.redirectUri);
  url.searchParams.set('state', o.state);
  if (o.codeChallenge) {
    url.searchParams.set('code_challenge', o.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.toString();
}

export interface CodeGrant {
  refreshToken: string;
  accessToken: string;
  expiresInSec: number;
}

/**
 * grant_type=authorization_code with the same redirect_uri the consent request named.
 * 429 and 5xx are retried (a code is only spent by an answer that carries tokens);
 * a refused code (used, expired, another redirect_uri) is not.
 */
export async function exchangeAuthorizationCode(o: {
  region: Region;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  /** The PKCE verifier whose challenge the consent request carried. */
  codeVerifier?: string;
  baseUrlOverride?: string;
  sleep?: (ms: number) => Promise<void>;
}): Promise<CodeGrant> {
  const tokenUrl = endpointsFor(o.region, o.baseUrlOverride).tokenUrl;
  return retry(
    async () => {
      const json = await postTokenGrant(tokenUrl, {
        grant_type: 'authorization_code',
        code: o.code,
        redirect_uri: o.redirectUri,
        client_id: o.clientId,
        client_secret: o.clientSecret,
        ...(o.codeVerifier ? { code_verifier: o.codeVerifier } : {}),
      });
      if (typeof json.refresh_token !== 'string')
        throw new LwaError(
          502,
          { error: 'no_refresh_token', error_description: 'the answer carried no refresh_token' },
          null,
          'authorization_code',
        );
      return {
        refreshToken: json.refresh_token,
        accessToken: json.access_token,
        expiresInSec: Number(json.expires_in ?? 3600),
      };
    },
    { maxAttempts: 4, backoff: { baseMs: 250, maxMs: 5_000 }, ...(o.sleep ? { sleep: o.sleep } : {}) },
  );
}
