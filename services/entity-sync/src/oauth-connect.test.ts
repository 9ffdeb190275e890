// Connecting an account through Amazon's consent page, end to end against the sandbox,
// which plays the consent page and the authorization-code grant as Amazon documents them
// (en-us/guides/account-management/authorization/authorization-grants.md: consent hosts,
// scope advertising::campaign_management, state; access-tokens.md: grant_type=
// authorization_code with the same redirect_uri, a code works once and for 5 minutes).
// Every refused case answers 4xx with the reason and stores no credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, type Sandbox } from '@adsync/sandbox';
import { createHttpServer } from '@adsync/shared/http/server';
import { createApiKey, ensureAdminKey } from '@adsync/shared/http/api-keys';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { SANDBOX_LWA_APP } from '@adsync/shared/amazon/lwa-authorization';
import { REGIONS } from '@adsync/shared/amazon/regions';
import { freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { registerConnectApi } from './connect-api.ts';
import { connectedPage, consoleAccountUrl } from './oauth-connect.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_oauth_connect_admin_key_0123456';
const REDIRECT = 'http://adsync.example/v1/oauth/callback';
let pg: FreshPostgres;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let accountId: string;
let box: ReturnType<typeof createSecretBox>;
let clock = Date.now();

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  await ensureAdminKey(pg.db, ADMIN);
  sandbox = await startSandbox({ seed: 61, scale: { profiles: 2, campaignsPerProfile: 1 } });
  box = createSecretBox(randomBytes(32));
  const log = testLogger('connect');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'Connect & Co' }).returning('id');
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  registerConnectApi(app, {
    db: pg.db,
    box,
    clients,
    log,
    amazonBaseUrl: sandbox.url,
    now: () => new Date(clock),
    lwa: { ...SANDBOX_LWA_APP, redirectUri: REDIRECT, stateTtlMs: 10 * 60_000 },
  });
  await app.ready();
});
after(async () => {
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

const admin = { authorization: `Bearer ${ADMIN}` };

async function start(region = 'NA', id = accountId, headers: Record<string, string> = admin) {
  return app.inject({ method: 'POST', url: `/v1/accounts/${id}/connect`, headers, payload: { region } });
}

/** A browser: keeps the cookies adsync sets (by name), as a real one would for adsync's origin. */
class Browser {
  readonly cookies = new Map<string, string>();
  get header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(setCookie: string | string[] | undefined) {
    for (const c of [setCookie ?? []].flat()) {
      const [pair, ...attrs] = c.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (attrs.some((a) => a.trim() === 'Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Opens adsync's consent link in a browser and presses its button: adsync sets its cookie and sends it on to Amazon. */
async function open(consentUrl: string, browser: Browser) {
  const link = new URL(consentUrl);
  assert.equal(link.origin + link.pathname, new URL('start', REDIRECT).toString(), 'the link is adsync’s');
  const cookie = () => (browser.cookies.size ? { cookie: browser.header } : {});
  const page = await app.inject({ method: 'GET', url: link.pathname + link.search, headers: cookie() });
  if (page.statusCode !== 200) return page;
  assert.equal(page.headers['set-cookie'], undefined, 'showing the page binds nothing');
  const state = /name="state" value="([^"]+)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
  const res = await app.inject({
    method: 'POST',
    url: link.pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...cookie() },
    payload: new URLSearchParams({ state }).toString(),
  });
  browser.take(res.headers['set-cookie']);
  return res;
}

/** The advertiser's browser: opens the consent link and presses Allow or Cancel; returns where Amazon sends it. */
async function consent(consentUrl: string, decision: 'allow' | 'deny', browser = new Browser()): Promise<URL> {
  const opened = await open(consentUrl, browser);
  assert.equal(opened.statusCode, 302, opened.body);
  const page = await fetch(opened.headers.location as string);
  assert.equal(page.status, 200);
  const html = await page.text();
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    ([, k, v]) =>
      [k!, v!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'")] as [string, string],
  );
  const form = new URLSearchParams([...fields, ['consent', decision]]);
  const res = await fetch(new URL('/ap/oa', sandbox.url), { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(res.status, 302, 'the consent page redirects back');
  const back = new URL(res.headers.get('location')!);
  browsers.set(back.searchParams.get('state') ?? '', browser);
  return back;
}

/** Which browser each consent happened in, so its callback arrives from the same one. */
const browsers = new Map<string, Browser>();

async function callback(back: URL, browser = browsers.get(back.searchParams.get('state') ?? '') ?? new Browser()) {
  assert.equal(back.origin + back.pathname, REDIRECT, 'Amazon sends the browser to our redirect_uri');
  const res = await app.inject({
    method: 'GET',
    url: `/v1/oauth/callback${back.search}`,
    headers: browser.cookies.size ? { cookie: browser.header } : {},
  });
  browser.take(res.headers['set-cookie']);
  return res;
}

const credentials = () => pg.db('amazon_credentials').where({ account_id: accountId }).first();

test("the consent link is adsync's; it sends the browser to Amazon's consent page for the region, with the ads scope, a sealed state and a PKCE challenge, and binds it with an http-only same-site cookie", async () => {
  for (const region of ['NA', 'EU', 'FE'] as const) {
    const res = await start(region);
    assert.equal(res.statusCode, 201, res.body);
    const browser = new Browser();
    const opened = await open(res.json().consent_url, browser);
    assert.equal(opened.statusCode, 302);
    const url = new URL(opened.headers.location as string);
    assert.match(
      String(opened.headers['set-cookie']),
      /^adsync_consent_[0-9a-f]{16}=[\w-]{32}; Path=\/v1\/oauth\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge')!, /^[\w-]{43}$/);
    // Against the sandbox every region's consent page is the sandbox's; the path and query are Amazon's.
    assert.equal(url.pathname, '/ap/oa');
    assert.equal(url.searchParams.get('client_id'), SANDBOX_LWA_APP.clientId);
    assert.equal(url.searchParams.get('scope'), 'advertising::campaign_management');
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('redirect_uri'), REDIRECT);
    const state = url.searchParams.get('state')!;
    assert.equal(state, new URL(res.json().consent_url).searchParams.get('state'));
    assert.ok(state.length > 40 && !state.includes(accountId), 'the state does not show the account id');
    assert.ok(new Date(res.json().expires_at).getTime() > clock);
  }
  assert.equal(REGIONS.NA.consentUrl, 'https://www.amazon.com/ap/oa');
  assert.equal(REGIONS.EU.consentUrl, 'https://eu.account.amazon.com/ap/oa');
  assert.equal(REGIONS.FE.consentUrl, 'https://apac.account.amazon.com/ap/oa');
});

test('allowing consent stores the sealed refresh token and discovers the profiles; the page says what was connected', async () => {
  assert.equal(await credentials(), undefined, 'nothing stored before');
  const back = await consent((await start()).json().consent_url, 'allow');
  assert.equal(back.searchParams.get('scope'), 'advertising::campaign_management');
  const res = await callback(back);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.headers['content-type'] as string, /text\/html/);
  assert.match(res.body, /Connected Connect &amp; Co \(NA\)/);
  for (const p of sandbox.state.dataset.profiles()) assert.match(res.body, new RegExp(p.profileId));
  const row = await credentials();
  assert.ok(row, 'credentials stored');
  assert.equal(row.client_id, SANDBOX_LWA_APP.clientId);
  assert.doesNotMatch(row.refresh_token_sealed, /Atzr/, 'sealed at rest');
  assert.match(box.open(row.refresh_token_sealed), /^Atzr\|consent-/, 'the refresh token Amazon granted for this code');
  const profiles = await pg.db('profiles').where({ account_id: accountId }).pluck('profile_id');
  assert.equal(profiles.length, sandbox.state.dataset.profiles().length);
  // The stored token works: the account's client gets an access token with it.
  assert.match(await (await clients.forAccount(accountId)).tokens.get(), /^Atza\|/);
});

test('a replayed state, a forged state, an expired state, a used code and a denied consent store nothing and say why', async () => {
  const before = await credentials();
  const unchanged = async (what: string) => {
    const now = await credentials();
    assert.equal(now.refresh_token_sealed, before.refresh_token_sealed, `${what}: credentials untouched`);
    assert.equal(String(now.updated_at), String(before.updated_at), `${what}: not rewritten`);
  };

  // Replayed: the same callback twice. (The first connects again with a new code.)
  const back = await consent((await start()).json().consent_url, 'allow');
  assert.equal((await callback(back)).statusCode, 200);
  const afterFirst = await credentials();
  const replay = await callback(back);
  assert.equal(replay.statusCode, 409);
  assert.match(replay.body, /already used/);
  assert.equal((await credentials()).refresh_token_sealed, afterFirst.refresh_token_sealed);
  before.refresh_token_sealed = afterFirst.refresh_token_sealed;
  before.updated_at = afterFirst.updated_at;

  // Forged: a state this adsync did not seal, and one altered by a character.
  const fresh = await consent((await start()).json().consent_url, 'allow');
  for (const forged of [
    'v1.abc.def.ghi.jkl',
    fresh.searchParams.get('state')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
  ]) {
    const u = new URL(fresh);
    u.searchParams.set('state', forged);
    const res = await callback(u);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /not issued by this adsync/);
  }
  const missing = await app.inject({ method: 'GET', url: '/v1/oauth/callback?code=abc' });
  assert.equal(missing.statusCode, 400);
  assert.match(missing.body, /no state/);
  await unchanged('forged');

  // Expired: the advertiser came back after the link's 10 minutes.
  const late = await consent((await start()).json().consent_url, 'allow');
  clock += 11 * 60_000;
  try {
    const res = await callback(late);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /expired at .*start the connection again/);
  } finally {
    clock -= 11 * 60_000;
  }
  await unchanged('expired');

  // A used code: a second consent request handed the code the first one already spent.
  const spent = await consent((await start()).json().consent_url, 'allow');
  assert.equal((await callback(spent)).statusCode, 200);
  before.refresh_token_sealed = (await credentials()).refresh_token_sealed;
  before.updated_at = (await credentials()).updated_at;
  const other = await consent((await start()).json().consent_url, 'allow');
  other.searchParams.set('code', spent.searchParams.get('code')!);
  const used = await callback(other);
  assert.equal(used.statusCode, 400);
  assert.match(used.body, /invalid_grant.*works once and for 5 minutes/);
  await unchanged('used code');

  // A code older than 5 minutes (Amazon's clock), though our state is still good.
  const slow = await consent((await start()).json().consent_url, 'allow');
  sandbox.state.clockOffsetMs += 6 * 60_000;
  try {
    const res = await callback(slow);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /invalid_grant/);
  } finally {
    sandbox.state.clockOffsetMs -= 6 * 60_000;
  }
  await unchanged('expired code');

  // Denied: the advertiser pressed Cancel.
  const denied = await consent((await start()).json().consent_url, 'deny');
  assert.equal(denied.searchParams.get('error'), 'access_denied');
  const res = await callback(denied);
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /did not grant access \(access_denied: The user denied the request.\); nothing was stored/);
  await unchanged('denied');

  const outcomes = await pg.db('oauth_states').whereNotNull('outcome').pluck('outcome');
  for (const o of ['connected', 'denied', 'code_refused']) assert.ok(outcomes.includes(o), `${o} recorded`);
});

test("the sandbox plays Amazon's side: an unknown client or a missing redirect_uri is an error page, a wrong redirect_uri is refused at the token endpoint", async () => {
  const unknown = await fetch(
    `${sandbox.url}/ap/oa?client_id=nobody&scope=advertising::campaign_management&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    { redirect: 'manual' },
  );
  assert.equal(unknown.status, 400);
  const noRedirect = await fetch(
    `${sandbox.url}/ap/oa?client_id=${SANDBOX_LWA_APP.clientId}&scope=advertising::campaign_management&response_type=code`,
    { redirect: 'manual' },
  );
  assert.equal(noRedirect.status, 400);
  const badScope = await fetch(
    `${sandbox.url}/ap/oa?client_id=${SANDBOX_LWA_APP.clientId}&scope=profile&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s1`,
    { redirect: 'manual' },
  );
  assert.equal(badScope.status, 302);
  const to = new URL(badScope.headers.get('location')!);
  assert.equal(to.searchParams.get('error'), 'invalid_scope');
  assert.equal(to.searchParams.get('state'), 's1');

  const back = await consent((await start()).json().consent_url, 'allow');
  const nonce = (JSON.parse(box.open(back.searchParams.get('state')!)) as { n: string }).n;
  const { code_verifier_sealed } = await pg.db('oauth_states').where({ nonce }).first();
  const verifier = box.open(code_verifier_sealed);
  const token = (redirectUri: string, codeVerifier = verifier) =>
    fetch(`${sandbox.url}/auth/o2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: redirectUri,
        client_id: SANDBOX_LWA_APP.clientId,
        client_secret: SANDBOX_LWA_APP.clientSecret,
        ...(codeVerifier ? { code_verifier: codeVerifier } : {}),
      }),
    });
  const wrong = await token('http://elsewhere.example/cb');
  assert.equal(wrong.status, 400);
  assert.deepEqual(await wrong.json(), {
    error: 'invalid_grant',
    error_description: 'The request has an invalid grant parameter : redirect_uri',
  });
  // RFC 7636 §4.6: the code was issued with a challenge; without its verifier, or with another, it is refused.
  for (const v of ['', 'x'.repeat(43)]) {
    const pkce = await token(REDIRECT, v);
    assert.equal(pkce.status, 400);
    assert.deepEqual(await pkce.json(), {
      error: 'invalid_grant',
      error_description: 'The request has an invalid grant parameter : code_verifier',
    });
  }
  // A code issued without a challenge does not take a verifier either: no downgrade (RFC 9700 §2.1.1).
  const plainPage = await fetch(
    `${sandbox.url}/ap/oa?client_id=${SANDBOX_LWA_APP.clientId}&scope=advertising::campaign_management&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s2`,
  );
  assert.equal(plainPage.status, 200);
  const plain = await fetch(`${sandbox.url}/ap/oa`, {
    method: 'POST',
    body: new URLSearchParams({
      client_id: SANDBOX_LWA_APP.clientId,
      scope: 'advertising::campaign_management',
      response_type: 'code',
      redirect_uri: REDIRECT,
      state: 's2',
      consent: 'allow',
    }),
    redirect: 'manual',
  });
  const plainCode = new URL(plain.headers.get('location')!).searchParams.get('code')!;
  const downgrade = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: plainCode,
      redirect_uri: REDIRECT,
      client_id: SANDBOX_LWA_APP.clientId,
      client_secret: SANDBOX_LWA_APP.clientSecret,
      code_verifier: verifier,
    }),
  });
  assert.equal(downgrade.status, 400);
  const right = await token(REDIRECT);
  assert.equal(right.status, 200);
  assert.match(((await right.json()) as { refresh_token: string }).refresh_token, /^Atzr\|/);
  const again = await token(REDIRECT);
  assert.equal(again.status, 400, 'a code works once');
});

test('an account key starts a connection for its own account only; the callback needs no key', async () => {
  const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'Other' }).returning('id');
  const key = (await createApiKey(pg.db, { scope: 'account', accountId })).key;
  const mine = await start('NA', accountId, { authorization: `Bearer ${key}` });
  assert.equal(mine.statusCode, 201);
  const theirs = await start('NA', other, { authorization: `Bearer ${key}` });
  assert.equal(theirs.statusCode, 403);
  assert.equal(await pg.db('oauth_states').where({ account_id: other }).first(), undefined, 'no state for B');
  const bad = await app.inject({
    method: 'POST',
    url: `/v1/accounts/${accountId}/connect`,
    headers: admin,
    payload: { region: 'XX' },
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /region must be one of "NA", "EU", "FE"/);
});

test("consent injection: a code from someone else's consent, or a callback in another browser, connects nothing", async () => {
  const [{ id: victim }] = await pg.db('accounts').insert({ company_name: 'Victim' }).returning('id');
  const stored = () => pg.db('amazon_credentials').where({ account_id: victim }).first();
  // The victim's account manager opens the victim's consent link in their browser.
  const victimBrowser = new Browser();
  const victimLink = (await start('NA', victim)).json().consent_url;
  const victimState = new URL(victimLink).searchParams.get('state')!;
  assert.equal((await open(victimLink, victimBrowser)).statusCode, 302);
  // The attacker completes a consent of their own (their Amazon login) and keeps its code.
  const attackerBrowser = new Browser();
  const own = await consent((await start()).json().consent_url, 'allow', attackerBrowser);
  const attackerCode = own.searchParams.get('code')!;

  // 1. The attacker's code with the victim's state, from the attacker's browser: not the browser that opened it.
  const injected = new URL(REDIRECT);
  injected.search = new URLSearchParams({
    code: attackerCode,
    state: victimState,
    scope: 'advertising::campaign_management',
  }).toString();
  const fromAttacker = await callback(injected, attackerBrowser);
  assert.equal(fromAttacker.statusCode, 400);
  assert.match(fromAttacker.body, /started in another browser[^]*nothing was stored/);
  assert.equal(await stored(), undefined);

  // 2. The same URL opened in the victim's own browser (a forged link): the code was issued for
  // another consent request, and without that request's PKCE verifier Amazon refuses it.
  const fromVictim = await callback(injected, victimBrowser);
  assert.equal(fromVictim.statusCode, 400);
  assert.match(fromVictim.body, /invalid_grant[^]*code_verifier[^]*start the connection again/);
  assert.equal(await stored(), undefined, 'nothing stored for the victim');

  // 3. A consent link continued in a second browser is refused; the first may continue again.
  // Merely fetching the page (a link previewer, a mail scanner) spends nothing.
  const link = (await start('NA', victim)).json().consent_url;
  const preview = await app.inject({ method: 'GET', url: new URL(link).pathname + new URL(link).search });
  assert.equal(preview.statusCode, 200);
  assert.match(preview.body, /Connect Victim to adsync/);
  const first = new Browser();
  const firstOpen = await open(link, first);
  assert.equal(firstOpen.statusCode, 302);
  const second = await open(link, new Browser());
  assert.equal(second.statusCode, 409);
  assert.match(second.body, /already continued in another browser/);
  const again = await open(link, first);
  assert.equal(again.statusCode, 302, 'the same browser may continue again');
  assert.equal(
    new URL(again.headers.location as string).searchParams.get('code_challenge'),
    new URL(firstOpen.headers.location as string).searchParams.get('code_challenge'),
    'with the same PKCE challenge',
  );
  // And the victim's own, honest consent still works in the browser that opened it.
  const honest = await consent((await start('NA', victim)).json().consent_url, 'allow', victimBrowser);
  const held = victimBrowser.cookies.size;
  assert.equal((await callback(honest, victimBrowser)).statusCode, 200);
  assert.ok(await stored(), 'connected, in the right browser');
  assert.equal(victimBrowser.cookies.size, held - 1, 'its binding cookie is cleared once used');
});

test("with a console configured, the connected page forwards to the account's page there, and only there", () => {
  const c = {
    accountId: 'b7c1d0e2-0000-4000-8000-000000000001',
    companyName: 'Acme <Brands>',
    region: 'NA' as const,
    profiles: [{ profileId: '1', countryCode: 'US', name: null, type: 'seller' }],
    excluded: [],
    claimed: [],
    dspAdvertisers: [],
  };
  const to = 'http://127.0.0.1:8088/#/accounts/b7c1d0e2-0000-4000-8000-000000000001?connected=1';
  assert.equal(consoleAccountUrl('http://127.0.0.1:8088', c.accountId), to);
  const page = connectedPage(c, 'http://127.0.0.1:8088');
  assert.ok(page.includes(`<meta http-equiv="refresh" content="0; url=${to}">`), page);
  assert.ok(page.includes(`<a href="${to}">Back to the adsync console</a>`));
  assert.ok(page.includes('Acme &lt;Brands&gt;'), 'names are escaped');
  // Profiles another account holds are said here only: the page stays, with the link.
  const held = connectedPage({ ...c, claimed: ['2'] }, 'http://127.0.0.1:8088');
  assert.ok(
    !held.includes('http-equiv') && held.includes('Back to the adsync console') && held.includes('not moved: 2'),
  );
  // Without one, the page says to close it and forwards nowhere.
  const alone = connectedPage(c);
  assert.ok(!alone.includes('http-equiv') && alone.includes('You can close this page.'));
});
