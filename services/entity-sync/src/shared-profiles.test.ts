// The agency and the brand: both connect adsync with Amazon logins that reach the same
// profiles. The first to discover a profile owns it; the other's discovery records a claim and
// moves nothing, until the owner (or an admin) hands the profile over or the claimant declines.
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
import { backgroundWork, freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { registerApi } from './api.ts';

const ADMIN = 'adsk_shared_profiles_admin_key_01234';
let pg: FreshPostgres;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let brand: string;
let agency: string;
let brandKey: string;
let agencyKey: string;
let profiles: string[];
const work = backgroundWork();

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  await ensureAdminKey(pg.db, ADMIN);
  sandbox = await startSandbox({ seed: 71, scale: { profiles: 3, campaignsPerProfile: 1 } });
  profiles = sandbox.state.dataset.profiles().map((p) => p.profileId);
  const box = createSecretBox(randomBytes(32));
  const log = testLogger('shared-profiles');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: brand }, { id: agency }] = await pg
    .db('accounts')
    .insert([{ company_name: 'Brand' }, { company_name: 'Agency' }])
    .returning('id');
  for (const id of [brand, agency]) await storeCredentials(pg.db, box, id, SANDBOX_ACCOUNT_CREDENTIALS);
  brandKey = (await createApiKey(pg.db, { scope: 'account', accountId: brand })).key;
  agencyKey = (await createApiKey(pg.db, { scope: 'account', accountId: agency })).key;
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  const deps = {
    db: pg.db,
    box,
    clients,
    log,
    batchSize: 200,
    exportPollMs: 20,
    amazonBaseUrl: sandbox.url,
    wakeSyncs: () => undefined,
  };
  registerApi(app, deps);
  await app.ready();
});

after(async () => {
  await work.settle();
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

const call = (key: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${key}` } });
const owned = async (account: string, key = ADMIN) =>
  ((await call(key, 'GET', `/v1/accounts/${account}/profiles`)).json().profiles as { profile_id: string }[])
    .map((p) => p.profile_id)
    .sort();
const claims = async (account: string, key = ADMIN) =>
  (await call(key, 'GET', `/v1/accounts/${account}/profile-claims`)).json();

test('the second account to reach a profile records a claim; the profile, its owner and their lists stay as they were', async () => {
  const first = await call(brandKey, 'POST', `/v1/accounts/${brand}/profiles/sync`);
  assert.equal(first.statusCode, 200, first.body);
  assert.deepEqual(await owned(brand), [...profiles].sort());
  const second = await call(agencyKey, 'POST', `/v1/accounts/${agency}/profiles/sync`);
  assert.equal(second.statusCode, 200, second.body);
  assert.deepEqual(second.json().claimed.sort(), [...profiles].sort(), 'every shared profile is claimed');
  assert.equal(second.json().added, 0);
  assert.deepEqual(await owned(brand, brandKey), [...profiles].sort(), "the brand's profiles did not move");
  assert.deepEqual(await owned(agency, agencyKey), [], 'the agency owns none of them');
  const agencyView = await claims(agency, agencyKey);
  assert.deepEqual(
    agencyView.claimed.map((c: { profileId: string; status: string }) => [c.profileId, c.status]).sort(),
    [...profiles].sort().map((p) => [p, 'pending']),
  );
  const brandView = await claims(brand, brandKey);
  assert.deepEqual(
    brandView.contested.map((c: { profileId: string; claimants: number }) => [c.profileId, c.claimants]).sort(),
    [...profiles].sort().map((p) => [p, 1]),
  );
  assert.doesNotMatch(JSON.stringify(brandView), new RegExp(agency), 'an account never learns who else claims');
  // Each key still reaches only its own account.
  assert.equal((await call(agencyKey, 'GET', `/v1/accounts/${brand}/profiles`)).statusCode, 403);
  assert.equal((await call(agencyKey, 'GET', `/v1/accounts/${brand}/profile-claims`)).statusCode, 403);
  assert.equal((await call(agencyKey, 'GET', '/v1/profile-claims')).statusCode, 403, 'all claims: admin only');
  const all = (await call(ADMIN, 'GET', '/v1/profile-claims?status=pending')).json().claims;
  assert.equal(all.length, profiles.length);
  assert.ok(
    all.every(
      (c: { ownerAccountId: string; claimantAccountId: string }) =>
        c.ownerAccountId === brand && c.claimantAccountId === agency,
    ),
  );
  // Discovering again raises nothing new and moves nothing.
  await call(agencyKey, 'POST', `/v1/accounts/${agency}/profiles/sync`);
  assert.deepEqual(await owned(brand), [...profiles].sort());
});

test('only the owner (or an admin) hands a profile over, only to an account that reaches it; the former owner does not take it back', async () => {
  const [p0, p1] = [...profiles].sort() as [string, string];
  const taken = await call(agencyKey, 'POST', `/v1/profiles/${p0}/transfer`, { toAccountId: agency });
  assert.equal(taken.statusCode, 403, 'a claimant cannot take a profile');
  const [{ id: stranger }] = await pg.db('accounts').insert({ company_name: 'Stranger' }).returning('id');
  const nowhere = await call(brandKey, 'POST', `/v1/profiles/${p0}/transfer`, { toAccountId: stranger });
  assert.equal(nowhere.statusCode, 409);
  assert.match(nowhere.json().message, /has not reached profile/);
  const given = await call(brandKey, 'POST', `/v1/profiles/${p0}/transfer`, { toAccountId: agency });
  assert.equal(given.statusCode, 200, given.body);
  assert.deepEqual(given.json(), { profileId: p0, from: brand, to: agency });
  assert.deepEqual(await owned(agency, agencyKey), [p0]);
  assert.ok(!(await owned(brand, brandKey)).includes(p0));
  // The brand's login still reaches it: its next discovery keeps it the agency's, and raises no new claim.
  const again = await call(brandKey, 'POST', `/v1/accounts/${brand}/profiles/sync`);
  assert.ok(again.json().claimed.includes(p0));
  assert.deepEqual(await owned(agency, agencyKey), [p0]);
  const brandClaims = (await claims(brand, brandKey)).claimed;
  assert.deepEqual(
    brandClaims.filter((c: { profileId: string }) => c.profileId === p0).map((c: { status: string }) => c.status),
    ['dismissed'],
  );
  assert.deepEqual((await claims(agency, agencyKey)).contested, [], 'nobody is waiting on the agency’s profile');
  // The agency declines another: it stays declined after its next discovery.
  const declined = await call(agencyKey, 'POST', `/v1/profiles/${p1}/claims/dismiss`, { accountId: agency });
  assert.equal(declined.statusCode, 200, declined.body);
  await call(agencyKey, 'POST', `/v1/accounts/${agency}/profiles/sync`);
  const statuses = Object.fromEntries(
    (await claims(agency, agencyKey)).claimed.map((c: { profileId: string; status: string }) => [
      c.profileId,
      c.status,
    ]),
  );
  assert.equal(statuses[p1], 'dismissed');
  assert.equal(statuses[p0], undefined, 'no claim on a profile it owns');
  // An admin may move a profile too.
  const byAdmin = await call(ADMIN, 'POST', `/v1/profiles/${p0}/transfer`, { toAccountId: brand });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);
  assert.ok((await owned(brand)).includes(p0));
});

test('races: two discoveries of one new profile leave one owner and one claim; two transfers at once move it once', async () => {
  const { upsertDiscovered, transferProfile } = await import('@adsync/shared/accounts/profiles');
  const fresh = {
    profile_id: '777000000001',
    country_code: 'US',
    currency_code: 'USD',
    timezone: 'America/Los_Angeles',
    marketplace_id: 'ATVPDKIKX0DER',
    amazon_account_id: 'ENTITYRACE',
    account_type: 'seller',
    account_sub_type: null,
    account_name: 'Race',
  };
  const [x, y] = await Promise.all([upsertDiscovered(pg.db, brand, [fresh]), upsertDiscovered(pg.db, agency, [fresh])]);
  assert.equal(x.added + y.added, 1, 'one of them added it');
  assert.deepEqual([...x.claimed, ...y.claimed], [fresh.profile_id], 'the other claimed it');
  const owner = (await pg.db('profiles').where({ profile_id: fresh.profile_id }).first()).account_id as string;
  const claimant = owner === brand ? agency : brand;
  const claims = await pg.db('profile_claims').where({ profile_id: fresh.profile_id }).pluck('account_id');
  assert.deepEqual(claims, [claimant]);
  // The owner declines nothing on the claimant's behalf: a declined claim cannot be given to by the owner.
  await pg.db('profile_claims').where({ profile_id: fresh.profile_id }).update({ status: 'dismissed' });
  const declined = await transferProfile(pg.db, fresh.profile_id, claimant, {
    expectedOwner: owner,
    anyClaim: false,
    resolution: 'test',
  });
  assert.match((declined as { refused: string }).refused, /declined profile/);
  await pg.db('profile_claims').where({ profile_id: fresh.profile_id }).update({ status: 'pending' });
  // Two transfers authorised against the same owner: the second finds the owner changed.
  const [{ id: third }] = await pg.db('accounts').insert({ company_name: 'Third' }).returning('id');
  await upsertDiscovered(pg.db, third, [fresh]);
  const outcomes = await Promise.all(
    [claimant, third].map((to) =>
      transferProfile(pg.db, fresh.profile_id, to, { expectedOwner: owner, anyClaim: false, resolution: 'race' }),
    ),
  );
  assert.equal(outcomes.filter((o) => 'to' in o).length, 1, 'moved once');
  assert.match((outcomes.find((o) => 'refused' in o) as { refused: string }).refused, /changed owner meanwhile/);
});
