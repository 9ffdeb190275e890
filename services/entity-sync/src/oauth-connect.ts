/**
 * Connecting an account through Amazon's consent page, the module that owns
 * `oauth_states`. POST /v1/accounts/:id/connect starts a consent request: a `state`
 * sealed with the secret box (so it cannot be forged or read) that names a one-time
 * row, and a consent link to this service. GET /v1/oauth/start shows what will be
 * connected; its button (POST) binds the request to the browser that presses it first (a
 * random nonce in an http-only, same-site cookie; its hash in the row) and sends it on to
 * Amazon with a PKCE challenge (S256, its verifier sealed in the row). GET /v1/oauth/callback acts only for that browser: it
 * claims the row exactly once, exchanges the code with the same redirect_uri and the
 * verifier, seals the refresh token and discovers the profiles. A code from anyone
 * else's consent, a callback in another browser, a forged, expired or replayed state,
 * a denied consent, a code Amazon refuses: each answers 4xx with the reason, and stores
 * no credentials.
 */
import { escapeHtml } from '@adsync/shared/http/html';
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import type { Logger } from '@adsync/shared/logger';
import type { Region } from '@adsync/shared/amazon/regions';
import {
  consentRequestUrl,
  exchangeAuthorizationCode,
  pkceChallenge,
  pkcePair,
} from '@adsync/shared/amazon/lwa-authorization';
import { storeCredentials, type AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { discoverProfiles } from './profiles.ts';
import { discoverDspAdvertisers } from './dsp-advertisers.ts';
import { findAccount } from '@adsync/shared/accounts/accounts';
import { AppError } from '@adsync/shared/runtime/errors';

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
export class ConnectError extends AppError {
  /** The status of the page the browser is shown (the consent flow answers HTML, not the JSON error body). */
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message, { retriable: false });
    this.name = 'ConnectError';
    this.status = status;
  }
}

interface SealedState {
  n: string;
  a: string;
  e: number;
}

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** The cookie that binds one consent request to its browser (one per request, so several can run side by side). */
export const consentCookieName = (nonce: string) => `adsync_consent_${sha256(nonce).slice(0, 16)}`;

/** The binding cookie's name for a sealed state (null when the state is not ours). */
export function consentCookieNameOf(box: SecretBox, state: string | undefined): string | null {
  try {
    const n = (JSON.parse(box.open(state ?? '')) as Partial<SealedState>).n;
    return typeof n === 'string' ? consentCookieName(n) : null;
  } catch {
    return null;
  }
}

/** The consent link: this service's /v1/oauth/start beside its callback, so the browser meets us first. */
export const consentLinkOf = (redirectUri: string, state: string) => {
  const url = new URL('start', redirectUri);
  url.search = new URLSearchParams({ state }).toString();
  return url.toString();
};

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
    consentUrl: consentLinkOf(deps.lwa.redirectUri, state),
    expiresAt: expiresAt.toISOString(),
    redirectUri: deps.lwa.redirectUri,
  };
}

/** Opens a sealed state: its claim, or the refusal (forged, damaged or expired). */
function openState(deps: ConnectDeps, state: string | undefined, now: Date): SealedState {
  if (!state) throw new ConnectError(400, 'STATE_MISSING', 'the request carries no state; start again from adsync');
  let claim: SealedState;
  try {
    claim = JSON.parse(deps.box.open(state)) as SealedState;
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
  return claim;
}

export interface ConsentCookie {
  name: string;
  value: string;
  /** Path the browser sends it to: the directory of the callback. */
  path: string;
  maxAgeSec: number;
  secure: boolean;
}

/**
 * GET /v1/oauth/start: the page the consent link shows, naming the account it connects, with
 * one button. Opening it binds nothing, so a link previewer or mail scanner that fetches it
 * does not spend it.
 */
export async function consentPage(deps: ConnectDeps, q: { state?: string }): Promise<string> {
  const now = (deps.now ?? (() => new Date()))();
  const claim = openState(deps, q.state, now);
  const state = await deps.db('oauth_states').where({ nonce: claim.n, account_id: claim.a }).first('used_at', 'region');
  const account = state && (await findAccount(deps.db, claim.a));
  const row = account && { ...state, company_name: account.company_name };
  if (!row || row.used_at)
    throw new ConnectError(409, 'STATE_USED', 'this consent request was already used; start the connection again');
  return `<!doctype html><html><head><meta charset="utf-8"><title>adsync: connect Amazon Ads</title></head><body>
<h1>Connect ${escapeHtml(row.company_name)} to adsync</h1>
<p>You will sign in to Amazon (${escapeHtml(row.region)}) and allow adsync to read this advertiser's Amazon Ads data for <strong>${escapeHtml(row.company_name)}</strong>. If that is not what you expect, close this page.</p>
<form method="post" action="start"><input type="hidden" name="state" value="${escapeHtml(q.state!)}">
<button type="submit">Continue to Amazon</button></form></body></html>`;
}

/**
 * POST /v1/oauth/start: the first browser to continue is the one the consent belongs to (the
 * same browser may continue again). Answers Amazon's consent URL (with the PKCE challenge)
 * and the cookie to set.
 */
export async function openConsent(
  deps: ConnectDeps,
  q: { state?: string },
  cookies: Record<string, string> = {},
): Promise<{ amazonUrl: string; cookie: ConsentCookie }> {
  const now = (deps.now ?? (() => new Date()))();
  const claim = openState(deps, q.state, now);
  let browser = randomBytes(24).toString('base64url');
  let pkce = pkcePair();
  let [row] = await deps
    .db('oauth_states')
    .where({ nonce: claim.n, account_id: claim.a })
    .whereNull('used_at')
    .whereNull('browser_hash')
    .update({ browser_hash: sha256(browser), code_verifier_sealed: deps.box.seal(pkce.verifier), opened_at: now })
    .returning(['region', 'redirect_uri']);
  if (!row) {
    // The browser that opened it, continuing again (a second click, a reload): the same binding.
    const held = cookies[consentCookieName(claim.n)];
    const again = held
      ? await deps
          .db('oauth_states')
          .where({ nonce: claim.n, account_id: claim.a, browser_hash: sha256(held) })
          .whereNull('used_at')
          .first('region', 'redirect_uri', 'code_verifier_sealed')
      : undefined;
    if (!again)
      throw new ConnectError(
        409,
        'CONSENT_ALREADY_OPENED',
        'this consent link was already continued in another browser, or used; start the connection again for a new one',
      );
    browser = held!;
    const verifier = deps.box.open(again.code_verifier_sealed);
    pkce = { verifier, challenge: pkceChallenge(verifier) };
    row = again;
  }
  const redirect = new URL(row.redirect_uri as string);
  return {
    amazonUrl: consentRequestUrl({
      region: row.region as Region,
      clientId: deps.lwa.clientId,
      redirectUri: row.redirect_uri,
      state: q.state!,
      codeChallenge: pkce.challenge,
      baseUrlOverride: deps.amazonBaseUrl || undefined,
    }),
    cookie: {
      name: consentCookieName(claim.n),
      value: browser,
      path: redirect.pathname.replace(/[^/]*$/, ''),
      maxAgeSec: Math.max(1, Math.ceil((claim.e - now.getTime()) / 1000)),
      secure: redirect.protocol === 'https:',
    },
  };
}

export interface Connected {
  accountId: string;
  companyName: string;
  region: Region;
  profiles: { profileId: string; countryCode: string; name: string | null; type: string | null }[];
  excluded: { profileId: string; reason: string }[];
  /** Profiles this login reaches that another account owns: not moved (profile-claims-api.ts). */
  claimed: string[];
  /** The Amazon DSP advertisers found (dsp-advertisers.ts). */
  dspAdvertisers: { advertiserId: string; name: string }[];
}

/**
 * GET /v1/oauth/callback: `cookies` are the browser's. Only the browser that opened the
 * consent link may complete it; in any other, nothing is claimed or stored.
 */
export async function completeConnect(
  deps: ConnectDeps,
  q: { state?: string; code?: string; error?: string; error_description?: string },
  cookies: Record<string, string> = {},
): Promise<Connected> {
  const now = (deps.now ?? (() => new Date()))();
  const claim = openState(deps, q.state, now);
  const cookie = cookies[consentCookieName(claim.n)];
  // Single use, and only in the browser that opened the link: exactly one callback claims the row.
  const [row] = await deps
    .db('oauth_states')
    .where({ nonce: claim.n, account_id: claim.a, browser_hash: cookie ? sha256(cookie) : null })
    .whereNotNull('browser_hash')
    .whereNull('used_at')
    .update({ used_at: now })
    .returning(['account_id', 'region', 'redirect_uri', 'code_verifier_sealed']);
  if (!row) {
    const seen = await deps
      .db('oauth_states')
      .where({ nonce: claim.n, account_id: claim.a })
      .first('browser_hash', 'used_at');
    if (!seen || seen.used_at)
      throw new ConnectError(
        409,
        'STATE_USED',
        'this consent request was already used; start the connection again for a new one',
      );
    throw new ConnectError(
      400,
      'CONSENT_OTHER_BROWSER',
      seen.browser_hash
        ? 'this consent was started in another browser, or its cookie is gone; nothing was stored. Open the consent link and sign in to Amazon in the same browser.'
        : 'this consent link was never opened through adsync; nothing was stored. Open the consent link adsync gave you.',
    );
  }
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
      codeVerifier: deps.box.open(row.code_verifier_sealed),
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
  const account = await findAccount(deps.db, row.account_id);
  // The credentials are stored; a discovery that fails now is retried by any later sync.
  try {
    const client = await deps.clients.forAccount(row.account_id);
    const { profiles, excluded, claimed } = await discoverProfiles(deps.db, client, row.account_id);
    // After the profiles: DSP advertisers are found under the DSP profiles just stored. Their
    // failure leaves the profiles shown; any later discovery finds the advertisers.
    const dsp = await discoverDspAdvertisers(deps.db, client, row.account_id).catch((err: unknown) => {
      deps.log.warn({ accountId: row.account_id, err }, 'connected, but DSP advertiser discovery failed');
      return { advertisers: [] };
    });
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
      claimed,
      dspAdvertisers: dsp.advertisers.map((a) => ({ advertiserId: a.advertiser_id, name: a.name })),
    };
  } catch (err) {
    deps.log.warn({ accountId: row.account_id, err }, 'connected, but profile discovery failed');
    return {
      accountId: row.account_id,
      companyName: account?.company_name ?? '',
      region,
      profiles: [],
      excluded: [],
      claimed: [],
      dspAdvertisers: [],
    };
  }
}

/** The small page the advertiser sees after consenting. */
/** The account's page in the console (its URL from configuration, the id from the sealed state). Pure. */
export function consoleAccountUrl(consoleUrl: string, accountId: string): string {
  const u = new URL(consoleUrl);
  u.hash = `/accounts/${encodeURIComponent(accountId)}?connected=1`;
  return u.toString();
}

export function connectedPage(c: Connected, consoleUrl?: string): string {
  const items = c.profiles
    .map(
      (p) =>
        `<li>${escapeHtml(p.profileId)} — ${escapeHtml(p.countryCode)}${p.name ? ` — ${escapeHtml(p.name)}` : ''}${p.type ? ` (${escapeHtml(p.type)})` : ''}</li>`,
    )
    .join('');
  const excluded = c.excluded.length
    ? `<p>Left out by the account's profile selection: ${c.excluded.map((e) => escapeHtml(e.profileId)).join(', ')}.</p>`
    : '';
  const claimed = c.claimed.length
    ? `<p>Already held by another adsync account, so not moved: ${c.claimed.map((id) => escapeHtml(id)).join(', ')}. Its owner or an adsync admin can transfer them.</p>`
    : '';
  const dsp = c.dspAdvertisers.length
    ? `<p>Amazon DSP advertiser(s):</p><ul>${c.dspAdvertisers.map((a) => `<li>${escapeHtml(a.advertiserId)}${a.name ? ` — ${escapeHtml(a.name)}` : ''}</li>`).join('')}</ul>`
    : '';
  // Back to the console when one is configured: as a link, and at once unless this page says
  // something the console's does not (profiles left out or held by another account).
  const back = consoleUrl ? escapeHtml(consoleAccountUrl(consoleUrl, c.accountId)) : null;
  const forward =
    back && !c.excluded.length && !c.claimed.length ? `<meta http-equiv="refresh" content="0; url=${back}">` : '';
  const closing = back ? `<p><a href="${back}">Back to the adsync console</a></p>` : '<p>You can close this page.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">${forward}<title>adsync: connected</title></head><body>
<h1>Connected ${escapeHtml(c.companyName)} (${c.region})</h1>
<p>adsync can now read this advertiser's Amazon Ads data. ${c.profiles.length} profile(s) will be synced:</p>
<ul>${items}</ul>${dsp}${excluded}${claimed}
${closing}</body></html>`;
}

export function errorPage(e: ConnectError): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>adsync: not connected</title></head><body>
<h1>Not connected</h1><p>${escapeHtml(e.message)}</p><p>Code: ${escapeHtml(e.code)}</p></body></html>`;
}
