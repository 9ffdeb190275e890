/**
 * Connecting an account through Amazon's consent page, the module that owns
 * `oauth_states`. POST /v1/accounts/:id/connect starts a consent request: a `state`
 * sealed with the secret box (so it cannot be forged or read) that names a one-time
 * row; GET /v1/oauth/callback claims that row exactly once, exchanges the code for a
 * refresh token with the same redirect_uri, seals it and discovers the profiles.
 * Whatever goes wrong (a forged, expired or replayed state, a denied consent, a code
 * Amazon refuses) answers 4xx with the reason and stores no credentials.
 */
import { escapeHtml } from '@adsync/shared/http/html';
import { randomBytes } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import type { Logger } from '@adsync/shared/logger';
import type { Region } from '@adsync/shared/amazon/regions';
import { consentRequestUrl, exchangeAuthorizationCode } from '@adsync/shared/amazon/lwa-authorization';
import { storeCredentials, type AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { discoverProfiles } from './profiles.ts';

export interface LwaApp {
  clientId: string;
  clientSecret: string;
  /** Where Amazon sends the advertiser back: this service's /v1/oauth/callback, as allowed in the LWA app. */
  redirectUri: string;
  stateTtlMs: number;
}

export interface ConnectDeps {
  db: Knex;
  box: SecretBox;
  clients: AmazonClients;
  log: Logger;
  lwa: LwaApp;
  amazonBaseUrl?: string;
  now?: () => Date;
}

/** A callback that cannot connect: its HTTP status and the reason shown to the person in the browser. */
export class ConnectError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ConnectError';
    this.status = status;
    this.code = code;
  }
}

interface SealedState {
  n: string;
  a: string;
  e: number;
}

export async function startConnect(
  deps: ConnectDeps,
  accountId: string,
  region: Region,
): Promise<{ consentUrl: string; expiresAt: string; redirectUri: string }> {
  const now = (deps.now ?? (() => new Date()))();
  const nonce = randomBytes(18).toString('base64url');
  const expiresAt = new Date(now.getTime() + deps.lwa.stateTtlMs);
  await deps.db('oauth_states').insert({
    nonce,
    account_id: accountId,
    region,
    redirect_uri: deps.lwa.redirectUri,
    expires_at: expiresAt,
  });
  const state = deps.box.seal(JSON.stringify({ n: nonce, a: accountId, e: expiresAt.getTime() } satisfies SealedState));
  return {
    consentUrl: consentRequestUrl({
      region,
      clientId: deps.lwa.clientId,
      redirectUri: deps.lwa.redirectUri,
      state,
      baseUrlOverride: deps.amazonBaseUrl || undefined,
    }),
    expiresAt: expiresAt.toISOString(),
    redirectUri: deps.lwa.redirectUri,
  };
}

export interface Connected {
  accountId: string;
  companyName: string;
  region: Region;
  profiles: { profileId: string; countryCode: string; name: string | null; type: string | null }[];
  excluded: { profileId: string; reason: string }[];
}

export async function completeConnect(
  deps: ConnectDeps,
  q: { state?: string; code?: string; error?: string; error_description?: string },
): Promise<Connected> {
  const now = (deps.now ?? (() => new Date()))();
  if (!q.state) throw new ConnectError(400, 'STATE_MISSING', 'the callback carries no state; start again from adsync');
  let claim: SealedState;
  try {
    claim = JSON.parse(deps.box.open(q.state)) as SealedState;
  } catch {
    throw new ConnectError(400, 'STATE_FORGED', 'the state was not issued by this adsync (forged or damaged)');
  }
  if (typeof claim.n !== 'string' || typeof claim.a !== 'string' || typeof claim.e !== 'number')
    throw new ConnectError(400, 'STATE_FORGED', 'the state was not issued by this adsync (forged or damaged)');
  if (claim.e <= now.getTime())
    throw new ConnectError(
      400,
      'STATE_EXPIRED',
      `the consent request expired at ${new Date(claim.e).toISOString()}; start the connection again`,
    );
  // Single use: exactly one callback claims the row, whatever it ends in.
  const [row] = await deps
    .db('oauth_states')
    .where({ nonce: claim.n, account_id: claim.a })
    .whereNull('used_at')
    .update({ used_at: now })
    .returning(['account_id', 'region', 'redirect_uri']);
  if (!row)
    throw new ConnectError(
      409,
      'STATE_USED',
      'this consent request was already used; start the connection again for a new one',
    );
  const finish = (outcome: string, detail: string | null) =>
    deps.db('oauth_states').where({ nonce: claim.n }).update({ outcome, outcome_detail: detail });

  if (q.error) {
    const detail = `${q.error}${q.error_description ? `: ${q.error_description}` : ''}`;
    await finish('denied', detail);
    throw new ConnectError(
      400,
      'CONSENT_DENIED',
      `Amazon did not grant access (${detail}); nothing was stored. Start again to retry.`,
    );
  }
  if (!q.code) {
    await finish('failed', 'no code');
    throw new ConnectError(400, 'CODE_MISSING', 'the callback carries neither a code nor an error');
  }
  const region = row.region as Region;
  let refreshToken: string;
  try {
    ({ refreshToken } = await exchangeAuthorizationCode({
      region,
      clientId: deps.lwa.clientId,
      clientSecret: deps.lwa.clientSecret,
      code: q.code,
      redirectUri: row.redirect_uri,
      baseUrlOverride: deps.amazonBaseUrl || undefined,
    }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await finish('code_refused', message);
    if (err instanceof AmazonApiError && err.kind === 'auth')
      throw new ConnectError(
        400,
        'CODE_REFUSED',
        `${message}. An authorization code works once and for 5 minutes; start the connection again.`,
      );
    throw new ConnectError(502, 'LWA_UNAVAILABLE', `${message}; nothing was stored, try again shortly`);
  }
  await storeCredentials(deps.db, deps.box, row.account_id, {
    region,
    client_id: deps.lwa.clientId,
    client_secret: deps.lwa.clientSecret,
    refresh_token: refreshToken,
  });
  await finish('connected', null);
  deps.log.info({ accountId: row.account_id, region }, 'account connected through the consent page');
  const account = await deps.db('accounts').where({ id: row.account_id }).first('company_name');
  // The credentials are stored; a discovery that fails now is retried by any later sync.
  try {
    const client = await deps.clients.forAccount(row.account_id);
    const { profiles, excluded } = await discoverProfiles(deps.db, client, row.account_id);
    return {
      accountId: row.account_id,
      companyName: account?.company_name ?? '',
      region,
      profiles: profiles.map((p) => ({
        profileId: p.profile_id,
        countryCode: p.country_code,
        name: p.account_name ?? null,
        type: p.account_type ?? null,
      })),
      excluded,
    };
  } catch (err) {
    deps.log.warn({ accountId: row.account_id, err }, 'connected, but profile discovery failed');
    return { accountId: row.account_id, companyName: account?.company_name ?? '', region, profiles: [], excluded: [] };
  }
}

/** The small page the advertiser sees after consenting. */
export function connectedPage(c: Connected): string {
  const items = c.profiles
    .map(
      (p) =>
        `<li>${escapeHtml(p.profileId)} — ${escapeHtml(p.countryCode)}${p.name ? ` — ${escapeHtml(p.name)}` : ''}${p.type ? ` (${escapeHtml(p.type)})` : ''}</li>`,
    )
    .join('');
  const excluded = c.excluded.length
    ? `<p>Left out by the account's profile selection: ${c.excluded.map((e) => escapeHtml(e.profileId)).join(', ')}.</p>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>adsync: connected</title></head><body>
<h1>Connected ${escapeHtml(c.companyName)} (${c.region})</h1>
<p>adsync can now read this advertiser's Amazon Ads data. ${c.profiles.length} profile(s) will be synced:</p>
<ul>${items}</ul>${excluded}
<p>You can close this page.</p></body></html>`;
}

export function errorPage(e: ConnectError): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>adsync: not connected</title></head><body>
<h1>Not connected</h1><p>${escapeHtml(e.message)}</p><p>Code: ${escapeHtml(e.code)}</p></body></html>`;
}
