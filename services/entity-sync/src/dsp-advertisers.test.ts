// DSP advertiser discovery against the sandbox, which plays GET /dsp/advertisers and
// GET /managerAccounts to Amazon's DspAdvertisers and ManagerAccounts models (conformance:
// packages/sandbox/src/model-conformance.test.ts). In the sandbox every profile's login reaches
// one DSP advertiser: a DSP (agency) profile's is listed under that profile's scope, every
// other one's is linked to the login's manager account.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { createHttpServer } from '@adsync/shared/http/server';
import { createApiKey, ensureAdminKey } from '@adsync/shared/http/api-keys';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { registerApi } from './api.ts';
import { advertiserRows, discoverDspAdvertisers } from './dsp-advertisers.ts';
import { syncDspEntities } from './dsp-entities.ts';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import {
  accountAdvertisers,
  learnAdvertiserTimezone,
  upsertDiscoveredAdvertisers,
} from '@adsync/shared/accounts/dsp-advertisers';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';

const ADMIN = 'adsk_dsp_advertisers_admin_key_01234';
let pg: FreshPostgres;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let accountId: string;
let otherAccountId: string;

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  await ensureAdminKey(pg.db, ADMIN);
  // Ten profiles: the fifth and tenth are agency profiles, the fifth a DSP entity's and the tenth
  // Amazon Attribution's (subType AMAZON_ATTRIBUTION), which reaches no DSP advertiser.
  sandbox = await startSandbox({ seed: 31, scale: { profiles: 10, campaignsPerProfile: 1 } });
  const box = createSecretBox(randomBytes(32));
  const log = testLogger('dsp-advertisers');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'agency' }).returning('id');
  [{ id: otherAccountId }] = await pg.db('accounts').insert({ company_name: 'brand' }).returning('id');
  for (const id of [accountId, otherAccountId]) await storeCredentials(pg.db, box, id, SANDBOX_ACCOUNT_CREDENTIALS);
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  registerApi(app, { db: pg.db, box, clients, log, batchSize: 200, wakeSyncs: () => undefined });
  await app.ready();
});

after(async () => {
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

const call = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, key = ADMIN) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${key}` } });

const dataset = () => sandbox.state.dataset;
const dspProfiles = () =>
  dataset()
    .profiles()
    .filter((p) => p.accountInfo.type === 'agency' && p.accountInfo.subType !== 'AMAZON_ATTRIBUTION');
const attribution = () =>
  dataset()
    .profiles()
    .find((p) => p.accountInfo.subType === 'AMAZON_ATTRIBUTION')!;
/** The profiles whose login reaches a DSP advertiser: all but Amazon Attribution's. */
const reaching = () =>
  dataset()
    .profiles()
    .filter((p) => p.accountInfo.subType !== 'AMAZON_ATTRIBUTION');
const advertiserOf = (p: number) => dataset().dspAdvertisers(p)[0]!;

interface Listed {
  advertiser_id: string;
  access: string;
  via_profile_id: string | null;
  currency_code: string | null;
  timezone: string | null;
  status: string;
  status_reason: string | null;
  account_id: string;
}
async function listed(id = accountId): Promise<Map<string, Listed>> {
  const res = await call('GET', `/v1/accounts/${id}/dsp-advertisers?limit=100`);
  assert.equal(res.statusCode, 200, res.body);
  return new Map((res.json().advertisers as Listed[]).map((a) => [a.advertiser_id, a]));
}

test('one row per advertiser: the DSP profile route wins, the manager account is kept beside it', () => {
  const rows = advertiserRows(
    [
      {
        profileId: '11',
        advertisers: [{ advertiserId: '7', name: 'Seven', currency: 'EUR', timezone: 'Europe/Paris', country: 'DE' }],
      },
      { profileId: '12', advertisers: [{ advertiserId: '7', name: 'Seven again', currency: 'USD' }] },
    ],
    [
      { managerAccountId: 'm1', advertiserId: '7', name: 'Seven (linked)', marketplaceId: 'A1PA6795UKMFR9' },
      { managerAccountId: 'm1', advertiserId: '8', name: 'Eight', marketplaceId: 'ATVPDKIKX0DER' },
    ],
  );
  assert.deepEqual(
    rows.sort((a, b) => a.advertiser_id.localeCompare(b.advertiser_id)),
    [
      {
        advertiser_id: '7',
        name: 'Seven',
        currency_code: 'EUR',
        country_code: 'DE',
        timezone: 'Europe/Paris',
        url: null,
        marketplace_id: 'A1PA6795UKMFR9',
        via_profile_id: '11',
        manager_account_id: 'm1',
      },
      {
        advertiser_id: '8',
        name: 'Eight',
        currency_code: null,
        country_code: null,
        timezone: null,
        url: null,
        marketplace_id: 'ATVPDKIKX0DER',
        via_profile_id: null,
        manager_account_id: 'm1',
      },
    ],
  );
});

test('discovery finds each advertiser by the route that reaches it, and the selection decides which are used', async () => {
  // The DSP profiles are found by profile discovery first.
  const profiles = await call('POST', `/v1/accounts/${accountId}/profiles/sync`);
  assert.equal(profiles.statusCode, 200, profiles.body);
  const res = await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.discovered, 9, 'one advertiser per sandbox profile but Amazon Attribution’s');
  assert.equal(body.added, 9);
  assert.deepEqual(body.unreachable, []);

  const all = await listed();
  assert.equal(all.size, 9);
  assert.ok(
    !all.has(advertiserOf(attribution().index).advertiserId),
    'an Attribution profile is not asked for DSP advertisers',
  );
  for (const p of reaching()) {
    const a = all.get(advertiserOf(p.index).advertiserId)!;
    assert.ok(a, `the advertiser of profile ${p.profileId} is stored`);
    assert.equal(a.status, 'active');
    if (p.accountInfo.type === 'agency') {
      // Under the DSP profile's scope, with the currency and timezone reports are read in.
      assert.equal(a.access, 'profile');
      assert.equal(a.via_profile_id, p.profileId);
      assert.equal(a.currency_code, p.currencyCode);
      assert.equal(a.timezone, p.timezone);
    } else {
      assert.equal(a.access, 'account', 'a manager-linked advertiser is reached with Amazon-Ads-AccountId');
      assert.equal(a.via_profile_id, null);
    }
  }
  assert.equal(dspProfiles().length, 1);

  // Excluded by id: recorded with the reason; taken back: active again.
  const left = advertiserOf(0).advertiserId;
  const put = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, { excludeDspAdvertiserIds: [left] });
  assert.equal(put.statusCode, 200, put.body);
  assert.deepEqual(put.json().dspAdvertisers.excluded, [{ advertiserId: left, reason: 'in excludeDspAdvertiserIds' }]);
  const afterExclude = (await listed()).get(left)!;
  assert.equal(afterExclude.status, 'excluded');
  assert.match(afterExclude.status_reason!, /excludeDspAdvertiserIds/);
  // A rediscovery keeps the selection.
  const again = await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
  assert.equal(again.json().added, 0);
  assert.equal(again.json().discovered, 8);
  assert.equal((await listed()).get(left)!.status, 'excluded');
  const selection = await call('GET', `/v1/accounts/${accountId}/profile-selection`);
  assert.deepEqual(selection.json().dspAdvertisers.excluded, [
    { advertiserId: left, reason: 'excluded by the selection: in excludeDspAdvertiserIds' },
  ]);
  const back = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, {});
  assert.equal(back.statusCode, 200, back.body);
  assert.equal((await listed()).get(left)!.status, 'active');

  // A selection naming something that is not an advertiser id is refused, saying why.
  const bad = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, { includeDspAdvertiserIds: ['abc'] });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /includeDspAdvertiserIds/);
});

test('another account whose login reaches the same advertisers claims them but never moves them', async () => {
  const res = await call('POST', `/v1/accounts/${otherAccountId}/dsp-advertisers/sync`);
  assert.equal(res.statusCode, 200, res.body);
  // Its login reaches the manager-linked ones (it has no DSP profiles of its own).
  assert.equal(res.json().discovered, 0);
  assert.equal(res.json().claimed.length, 8);
  assert.equal((await listed(otherAccountId)).size, 0);
  for (const a of (await listed()).values()) assert.equal(a.account_id, accountId);

  // An account key reads its own account only.
  const otherKey = (await createApiKey(pg.db, { scope: 'account', accountId: otherAccountId })).key;
  const theirs = await call('GET', `/v1/accounts/${accountId}/dsp-advertisers`, undefined, otherKey);
  assert.equal(theirs.statusCode, 403);
  const discover = await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`, undefined, otherKey);
  assert.equal(discover.statusCode, 403);
  const own = await call('GET', `/v1/accounts/${otherAccountId}/dsp-advertisers`, undefined, otherKey);
  assert.equal(own.statusCode, 200);
});

test('a DSP profile Amazon refuses leaves its advertisers inaccessible with the reason; they return when it answers', async () => {
  const refused = dspProfiles()[0]!;
  const linked = dataset().profiles()[0]!;
  sandbox.state.faults.forbiddenProfiles = [refused.profileId];
  try {
    const res = await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().unreachable.length, 1);
    assert.match(res.json().unreachable[0].route, new RegExp(`profile ${refused.profileId}`));
    assert.match(res.json().unreachable[0].reason, /401/);
    const all = await listed();
    const gone = all.get(advertiserOf(refused.index).advertiserId)!;
    assert.equal(gone.status, 'inaccessible');
    assert.match(gone.status_reason!, /Not authorized to access scope/);
    assert.equal(
      all.get(advertiserOf(linked.index).advertiserId)!.status,
      'active',
      'the manager-linked ones still answer',
    );
  } finally {
    sandbox.state.faults.forbiddenProfiles = [];
  }
  await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
  assert.equal((await listed()).get(advertiserOf(refused.index).advertiserId)!.status, 'active');
});

test('the sandbox refuses GET /dsp/advertisers under a profile that is not a DSP one, as the model answers', async () => {
  const seller = dataset()
    .profiles()
    .find((p) => p.accountInfo.type === 'seller')!;
  const client = await clients.forAccount(accountId);
  await assert.rejects(
    client.call({ method: 'GET', path: '/dsp/advertisers', profileId: seller.profileId, what: 'list DSP advertisers' }),
    (err: Error & { status?: number }) => err.status === 403 && /not a DSP \(agency\) profile/.test(err.message),
  );
  // Nor under Amazon Attribution's agency profile (the model's scope header says so).
  await assert.rejects(
    client.call({
      method: 'GET',
      path: '/dsp/advertisers',
      profileId: attribution().profileId,
      what: 'list DSP advertisers',
    }),
    (err: Error & { status?: number }) => err.status === 403,
  );
  // A malformed advertiserIdFilter is the model's 422 example, with the parameter named.
  const agency = dspProfiles()[0]!;
  await assert.rejects(
    client.call({
      method: 'GET',
      path: '/dsp/advertisers',
      profileId: agency.profileId,
      query: { advertiserIdFilter: '12,x' },
      what: 'list DSP advertisers',
    }),
    (err: Error & { status?: number; body?: { errors?: { errorType: string; field: string }[] } }) =>
      err.status === 422 &&
      err.body?.errors?.[0]?.errorType === 'DSP_INVALID_QUERY_PARAM' &&
      err.body.errors[0].field === 'advertiserIdFilter',
  );
});

test('a route that fails after retries is reported and the other route’s advertisers are still found', async () => {
  const real = await clients.forAccount(accountId);
  // Amazon failing GET /managerAccounts (a 500 after the client's retries); the DSP profiles answer.
  const failing = {
    call: (req: Parameters<AmazonAdsClient['call']>[0]) =>
      req.path === '/managerAccounts'
        ? Promise.reject(
            new AmazonApiError('server', 'list manager accounts answered 500', { status: 500, hint: 'try later' }),
          )
        : real.call(req),
  } as unknown as AmazonAdsClient;
  const found = await discoverDspAdvertisers(pg.db, failing, accountId);
  assert.deepEqual(
    found.unreachable.map((u) => u.route),
    ['GET /managerAccounts'],
  );
  assert.match(found.unreachable[0]!.reason, /500/);
  assert.deepEqual(
    found.advertisers.map((a) => a.via_profile_id).sort(),
    dspProfiles()
      .map((p) => p.profileId)
      .sort(),
    'the DSP profiles’ advertisers are found',
  );
  // The manager-linked ones were not listed this time: they stay as they were.
  assert.equal((await listed()).get(advertiserOf(0).advertiserId)!.status, 'active');

  // A refused token is the account's problem: the discovery fails and says so.
  const tokenRefused = {
    call: () =>
      Promise.reject(new AmazonApiError('auth', 'the access token was refused', { status: 401, hint: 're-authorise' })),
  } as unknown as AmazonAdsClient;
  await assert.rejects(discoverDspAdvertisers(pg.db, tokenRefused, accountId), /access token was refused/);
});

test('an advertiser a DSP profile reaches stays that profile’s when only the manager account lists it, so its reports never change owner', async () => {
  // An advertiser both routes list (managed service under an agency entity): a discovery whose profile
  // route failed, or whose profile is paused, lists it from the manager account alone.
  const via = dspProfiles()[0]!.profileId;
  const both = {
    advertiser_id: '777000111',
    name: 'Both routes',
    currency_code: 'USD',
    country_code: 'US',
    timezone: 'America/New_York',
    url: 'www.example.com',
    marketplace_id: null,
    via_profile_id: via,
    manager_account_id: null,
  };
  await upsertDiscoveredAdvertisers(pg.db, accountId, [both]);
  await upsertDiscoveredAdvertisers(pg.db, accountId, [
    {
      ...both,
      currency_code: null,
      country_code: null,
      timezone: null,
      url: null,
      marketplace_id: 'ATVPDKIKX0DER',
      via_profile_id: null,
      manager_account_id: 'amzn1.ads1.ma1.both',
    },
  ]);
  const row = await pg.db('dsp_advertisers').where({ advertiser_id: both.advertiser_id }).first();
  assert.deepEqual(
    [row.via_profile_id, row.currency_code, row.timezone, row.marketplace_id, row.manager_account_id],
    [via, 'USD', 'America/New_York', 'ATVPDKIKX0DER', 'amzn1.ads1.ma1.both'],
  );
  await pg.db('dsp_advertisers').where({ advertiser_id: both.advertiser_id }).delete();
});

test('a time zone Amazon states for an advertiser its listing gave none is kept once; a known one stays, an unknown zone is refused', async () => {
  const row = {
    advertiser_id: '777000222',
    name: 'Linked',
    currency_code: null,
    country_code: null,
    timezone: null,
    url: null,
    marketplace_id: 'ATVPDKIKX0DER',
    via_profile_id: null,
    manager_account_id: 'amzn1.ads1.ma1.tz',
  };
  await upsertDiscoveredAdvertisers(pg.db, accountId, [row]);
  assert.equal(await learnAdvertiserTimezone(pg.db, row.advertiser_id, 'Not/A_Zone'), false);
  assert.equal(await learnAdvertiserTimezone(pg.db, row.advertiser_id, 'America/New_York'), true);
  assert.equal(await learnAdvertiserTimezone(pg.db, row.advertiser_id, 'Europe/Paris'), false, 'a known zone stays');
  // The next manager-account listing (no zone) does not blank it either.
  await upsertDiscoveredAdvertisers(pg.db, accountId, [row]);
  const [kept] = await accountAdvertisers(pg.db, { advertiserIds: [row.advertiser_id] });
  assert.equal(kept!.timezone, 'America/New_York', 'its own zone, not its marketplace’s (Los Angeles)');
  await pg.db('dsp_advertisers').where({ advertiser_id: row.advertiser_id }).delete();
});

test('advertisers reached through a DSP profile that is no longer active are inaccessible, with why', async () => {
  const agency = dspProfiles()[0]!;
  await pg.db('profiles').where({ profile_id: agency.profileId }).update({ status: 'excluded' });
  try {
    const res = await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
    assert.equal(res.statusCode, 200, res.body);
    const a = (await listed()).get(advertiserOf(agency.index).advertiserId)!;
    assert.equal(a.status, 'inaccessible');
    assert.match(a.status_reason!, new RegExp(`DSP profile ${agency.profileId}, which is not active`));
  } finally {
    await pg.db('profiles').where({ profile_id: agency.profileId }).update({ status: 'active' });
  }
  await call('POST', `/v1/accounts/${accountId}/dsp-advertisers/sync`);
  assert.equal((await listed()).get(advertiserOf(agency.index).advertiserId)!.status, 'active');
});

test('DSP entities sync from Ads API v1: every campaign, ad group, ad and target, exactly, and each kind replaced whole', async () => {
  const res = await call('POST', `/v1/accounts/${accountId}/dsp-entities/sync`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as {
    advertisers: number;
    synced: { advertiserId: string; kind: string; stored: number; removed: number }[];
    failed: unknown[];
  };
  assert.deepEqual(body.failed, []);
  assert.equal(body.advertisers, 9);
  // The sandbox's advertisers: two orders (campaigns) of two line items (ad groups) of two
  // creatives (ads) each, one audience target per line item.
  const expected = { campaigns: new Set<string>(), adGroups: new Set<string>(), ads: new Set<string>(), targets: 0 };
  for (const p of reaching())
    for (const o of advertiserOf(p.index).orders) {
      expected.campaigns.add(o.orderId);
      for (const li of o.lineItems) {
        expected.adGroups.add(li.lineItemId);
        expected.targets++;
        for (const c of li.creatives) expected.ads.add(c.creativeId);
      }
    }
  const stored = (kind: string) => body.synced.filter((x) => x.kind === kind).reduce((n, x) => n + x.stored, 0);
  assert.equal(stored('campaigns'), expected.campaigns.size);
  assert.equal(stored('adGroups'), expected.adGroups.size);
  assert.equal(stored('ads'), expected.ads.size);
  assert.equal(stored('targets'), expected.targets);

  const list = async (kind: string) => {
    const r = await call('GET', `/v1/accounts/${accountId}/dsp-entities?kind=${kind}&limit=1000`);
    assert.equal(r.statusCode, 200, r.body);
    return r.json().entities as {
      entity_id: string;
      campaign_id: string | null;
      state: string;
      data: Record<string, unknown>;
    }[];
  };
  assert.deepEqual(new Set((await list('campaigns')).map((e) => e.entity_id)), expected.campaigns);
  assert.deepEqual(new Set((await list('adGroups')).map((e) => e.entity_id)), expected.adGroups);
  const ads = await list('ads');
  assert.deepEqual(new Set(ads.map((e) => e.entity_id)), expected.ads);
  assert.ok(
    ads.every((a) => a.campaign_id && expected.campaigns.has(a.campaign_id)),
    'each ad names its campaign',
  );
  assert.ok(
    ads.every((a) => a.data.adProduct === 'AMAZON_DSP' && a.data.creative),
    'the model’s whole object is kept',
  );
  const bad = await call('GET', `/v1/accounts/${accountId}/dsp-entities?kind=lineItems`);
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /kind must be one of "campaigns", "adGroups", "ads", "targets"/);

  // Page by page (3 a page) the same; a campaign Amazon no longer lists is gone.
  const first = advertiserOf(0).advertiserId;
  await pg.db('dsp_entities').insert({
    advertiser_id: first,
    kind: 'campaigns',
    entity_id: '999',
    name: 'removed in Amazon',
    data: JSON.stringify({ campaignId: '999' }),
  });
  const paged = await syncDspEntities(pg.db, await clients.forAccount(accountId), accountId, 3);
  assert.deepEqual(paged.failed, []);
  assert.equal(
    paged.synced.reduce((n, x) => n + x.stored, 0),
    body.synced.reduce((n, x) => n + x.stored, 0),
  );
  assert.deepEqual(
    paged.synced.filter((x) => x.removed > 0),
    [{ advertiserId: first, kind: 'campaigns', stored: 2, removed: 1 }],
  );
  assert.deepEqual(new Set((await list('campaigns')).map((e) => e.entity_id)), expected.campaigns);
  // The kinds that span pages of three come out the same, entity for entity.
  assert.deepEqual(new Set((await list('adGroups')).map((e) => e.entity_id)), expected.adGroups);
  assert.deepEqual(new Set((await list('ads')).map((e) => e.entity_id)), expected.ads);
  assert.equal((await list('targets')).length, expected.targets);

  // Another account's key reads or syncs none of it; its own list holds none of this account's.
  const otherKey = (await createApiKey(pg.db, { scope: 'account', accountId: otherAccountId })).key;
  for (const [method, url] of [
    ['GET', `/v1/accounts/${accountId}/dsp-entities?kind=campaigns`],
    ['POST', `/v1/accounts/${accountId}/dsp-entities/sync`],
  ] as const)
    assert.equal((await call(method, url, undefined, otherKey)).statusCode, 403, `${method} ${url}`);
  const theirs = await call('GET', `/v1/accounts/${otherAccountId}/dsp-entities?kind=campaigns`, undefined, otherKey);
  assert.equal(theirs.statusCode, 200);
  assert.deepEqual(theirs.json().entities, []);
});

test('an advertiser Amazon refuses is reported with the reason; the others still sync', async () => {
  // One the login does not reach (Amazon answers 401 for its Amazon-Ads-AccountId).
  await pg.db('dsp_advertisers').insert({ advertiser_id: '123456789', account_id: accountId, name: 'unreachable' });
  try {
    const sync = await syncDspEntities(pg.db, await clients.forAccount(accountId), accountId);
    assert.deepEqual(
      sync.failed.map((f) => f.advertiserId),
      ['123456789'],
    );
    assert.match(sync.failed[0]!.reason, /401.*Not authorized to access account 123456789/);
    assert.equal(new Set(sync.synced.map((x) => x.advertiserId)).size, 9);
    // Refused: not used again until a discovery lists it.
    const refused = (await listed()).get('123456789')!;
    assert.equal(refused.status, 'inaccessible');
    assert.match(refused.status_reason!, /Not authorized to access account 123456789/);
    const again = await syncDspEntities(pg.db, await clients.forAccount(accountId), accountId);
    assert.deepEqual(again.failed, []);
    assert.equal(again.advertisers, 9);
  } finally {
    await pg.db('dsp_advertisers').where({ advertiser_id: '123456789' }).delete();
  }
});
