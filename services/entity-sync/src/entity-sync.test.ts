import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startSandbox, type Sandbox } from '@adsync/sandbox';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey, createApiKey } from '@adsync/shared/http/api-keys';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import {
  freshClickHouse,
  freshPostgres,
  testLogger,
  eventually,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { testSyncLoop } from './testing.ts';
import { ENTITY_TABLES } from '@adsync/chaos/expected';
import { migrateClickHouse } from '@adsync/shared/db/migrations';
import { randomBytes } from 'node:crypto';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { registerApi } from './api.ts';
import { ENTITY_TYPES } from '@adsync/shared/entities/entity-store';
import { syncProfiles } from './sync-profiles.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_entity_sync_test_admin_key';
const scale = {
  profiles: 2,
  campaignsPerProfile: 12,
  adGroupsPerCampaign: 3,
  adsPerAdGroup: 2,
  keywordsPerAdGroup: 4,
  productTargetsPerAdGroup: 2,
  sbCampaignsPerProfile: 3,
  sdCampaignsPerProfile: 4,
};
let pg: FreshPostgres;
let ch: FreshClickHouse;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let accountId: string;
let syncs: ReturnType<typeof testSyncLoop>;
const box = createSecretBox(randomBytes(32));

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  ch = await freshClickHouse();
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  sandbox = await startSandbox({ seed: 3, scale });
  const log = testLogger('entity-sync');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  syncs = testSyncLoop({ db: pg.db, ch: ch.ch, clients, log, batchSize: 50, exportPollMs: 50 });
  registerApi(app, {
    db: pg.db,
    ch: ch.ch,
    box,
    clients,
    log,
    batchSize: 50,
    exportPollMs: 50,
    amazonBaseUrl: sandbox.url,
    wakeSyncs: syncs.wakeSyncs,
  });
  await app.ready();
});

after(async () => {
  await syncs?.stop();
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown, key = ADMIN) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${key}` } });

async function waitForBatch(batchId: string) {
  return eventually(
    async () => {
      const res = await call('GET', `/v1/sync-runs/${batchId}`);
      const b = res.json();
      return b.done ? b : undefined;
    },
    { what: `sync batch ${batchId}`, timeoutMs: 60_000 },
  );
}

const generated = (profileIndex: number) => sandbox.state.dataset.expectedEntityIds(profileIndex);

async function snapshot(profileId: string) {
  const out: Record<string, Map<string, Record<string, unknown>>> = {};
  for (const [kind, [table, idCol]] of Object.entries(ENTITY_TABLES)) {
    const rows = await pg.db(table).where({ profile_id: profileId });
    out[kind] = new Map(rows.map((r: Record<string, unknown>) => [String(r[idCol]), r]));
  }
  return out;
}
const withoutSyncedAt = (r: Record<string, unknown>) => JSON.stringify({ ...r, synced_at: undefined });

test('accounts and credentials: secrets are validated, sealed at rest and never returned', async () => {
  const created = await call('POST', '/v1/accounts', {
    company_name: 'Acme Agency',
    primary_contact_email: 'ops@acme.test',
  });
  assert.equal(created.statusCode, 201);
  accountId = created.json().id;
  // One account by its id, as the list shows it; an unknown id is a 404 naming it.
  const one = await call('GET', `/v1/accounts/${accountId}`);
  assert.equal(one.statusCode, 200);
  assert.deepEqual([one.json().company_name, one.json().profiles, one.json().last_ingestion], ['Acme Agency', 0, null]);
  const ghost = '00000000-0000-4000-8000-000000000000';
  const none = await call('GET', `/v1/accounts/${ghost}`);
  assert.equal(none.statusCode, 404);
  assert.equal(none.json().message, `no account ${ghost}`);
  const refused = await call('POST', `/v1/accounts/${accountId}/credentials`, {
    client_id: SANDBOX_CLIENT_ID,
    client_secret: 'wrong',
    refresh_token: SANDBOX_REFRESH_TOKEN,
  });
  assert.equal(refused.statusCode, 400);
  assert.match(refused.json().message, /client id or client secret is wrong/);
  const stored = await call('POST', `/v1/accounts/${accountId}/credentials`, {
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    refresh_token: SANDBOX_REFRESH_TOKEN,
  });
  assert.equal(stored.statusCode, 201);
  assert.doesNotMatch(stored.body, /sandbox-client-secret|Atzr/);
  const row = await pg.db('amazon_credentials').where({ account_id: accountId }).first();
  assert.doesNotMatch(JSON.stringify(row), /sandbox-client-secret|Atzr\|/);
  assert.equal(box.open(row.refresh_token_sealed), SANDBOX_REFRESH_TOKEN);
});

test('profiles are discovered with marketplace, currency and time zone', async () => {
  const res = await call('POST', `/v1/accounts/${accountId}/profiles/sync`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().discovered, 2);
  const profiles = await pg.db('profiles').where({ account_id: accountId }).orderBy('profile_id');
  assert.deepEqual(
    profiles.map((p) => [p.country_code, p.currency_code, p.timezone]),
    [
      ['US', 'USD', 'America/Los_Angeles'],
      // Amazon's Profiles model names the United Kingdom UK (not ISO's GB); stored as Amazon sends it.
      ['UK', 'GBP', 'Europe/London'],
    ],
  );
});

test('bad input: unknown entity or mode is a 400 listing allowed values; unknown profile 404; other account 403', async () => {
  const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const badEntity = await call('GET', `/v1/entities/sync?profileId=${profileId}&entity=keywords`);
  assert.equal(badEntity.statusCode, 400);
  assert.match(
    badEntity.json().message,
    /entity must be one of "all", "portfolios", "campaigns", "ad_groups", "ads", "targets", "negative_targets", "creatives", "budget_rules"/,
  );
  const badMode = await call('POST', `/v1/entities/sync?profileId=${profileId}&mode=sometimes`);
  assert.equal(badMode.statusCode, 400);
  assert.match(badMode.json().message, /mode must be one of "full", "incremental"/);
  const missing = await call('GET', '/v1/entities/sync');
  assert.equal(missing.statusCode, 400);
  assert.match(missing.json().message, /profileId/);
  const unknown = await call('GET', '/v1/entities/sync?profileId=999');
  assert.equal(unknown.statusCode, 404);
  const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'Other' }).returning('id');
  const otherKey = (await createApiKey(pg.db, { scope: 'account', accountId: other })).key;
  const forbidden = await call('GET', `/v1/entities/sync?profileId=${profileId}`, undefined, otherKey);
  assert.equal(forbidden.statusCode, 403);
  const credsForbidden = await call(
    'POST',
    `/v1/accounts/${accountId}/credentials`,
    { client_id: 'x', client_secret: 'y', refresh_token: 'z' },
    otherKey,
  );
  assert.equal(credsForbidden.statusCode, 403);
});

test('a full sync stores exactly the generated entities, archived ones included', async () => {
  for (const [p, profile] of sandbox.state.dataset.profiles().entries()) {
    const res = await call('POST', `/v1/entities/sync?profileId=${profile.profileId}&entity=all&mode=full`);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().runs.length, ENTITY_TYPES.length, 'one run per entity level');
    const batch = await waitForBatch(res.json().batchId);
    assert.equal(batch.status, 'succeeded', JSON.stringify(batch.runs.map((r: { error: unknown }) => r.error)));
    assert.ok(
      batch.runs.every((r: { amazon_request_ids: string[] }) => r.amazon_request_ids.length > 0),
      'request ids recorded',
    );
    // Portfolios and budget rules run alongside the chain of the rest (sync-runner.ts, ALONGSIDE):
    // budget rules, last in ENTITY_TYPES, start long before the chain's last type is done.
    const when = new Map(
      (
        await pg
          .db('sync_runs')
          .where({ batch_id: res.json().batchId })
          .select('entity_type', 'started_at', 'finished_at')
      ).map((r) => [r.entity_type, r]),
    );
    assert.ok(
      when.get('budget_rules').started_at < when.get('creatives').finished_at,
      'budget rules were synced while the chain ran, not after it',
    );
    // Full syncs read every ad product through the Exports API (en-us/guides/exports/get-started.md:
    // adProductFilter takes SPONSORED_PRODUCTS, SPONSORED_BRANDS and SPONSORED_DISPLAY).
    const exports = [...sandbox.state.exports.values()].filter((e) => e.profileIndex === p);
    for (const type of ['campaigns', 'adGroups', 'ads', 'targets'] as const) {
      const ofType = exports.filter((e) => e.type === type);
      assert.ok(ofType.length > 0, `a ${type} export for profile ${p}`);
      for (const e of ofType)
        assert.deepEqual(
          [...e.filters.adProductFilter].sort(),
          ['SPONSORED_BRANDS', 'SPONSORED_DISPLAY', 'SPONSORED_PRODUCTS'],
          `the ${type} export asks for SB and SD too`,
        );
    }
    assert.ok(
      exports.some((e) => e.type === 'targets' && e.filters.negativeFilter?.includes(true)),
      'negative targets are exported too',
    );
    const snap = await snapshot(profile.profileId);
    const want = generated(p);
    for (const kind of Object.keys(ENTITY_TABLES))
      assert.deepEqual([...snap[kind]!.keys()].sort(), want[kind as keyof typeof want], `${kind} of profile ${p}`);
    const archived = await pg
      .db('entity_campaigns')
      .where({ profile_id: profile.profileId, state: 'ARCHIVED' })
      .count<{ count: string }[]>('* as count');
    assert.ok(Number(archived[0]!.count) > 0, 'archived campaigns are kept (the export is asked for every state)');
    const orphans = await pg
      .db('entity_ads')
      .where({ profile_id: profile.profileId })
      .whereNull('campaign_id')
      .count<{ count: string }[]>('* as count');
    assert.equal(Number(orphans[0]!.count), 0, 'exported ads get their campaign from their ad group');
  }
  const kw = await pg.db('entity_targets').where({ target_type: 'KEYWORD' }).first();
  assert.equal(kw.expression.text, kw.expression_text);
  // Entity context is mirrored to ClickHouse for dashboard labels and filters.
  const rs = await ch.ch.client.query({
    query: `SELECT entity_level, count() AS c FROM entity_context FINAL GROUP BY entity_level ORDER BY entity_level`,
    format: 'JSONEachRow',
  });
  const counts = Object.fromEntries(
    (await rs.json<{ entity_level: string; c: string }>()).map((r) => [r.entity_level, Number(r.c)]),
  );
  const pgCount = async (t: string) => Number((await pg.db(t).count<{ c: string }[]>('* as c'))[0]!.c);
  assert.deepEqual(counts, {
    ad: await pgCount('entity_ads'),
    ad_group: await pgCount('entity_ad_groups'),
    campaign: await pgCount('entity_campaigns'),
    target: await pgCount('entity_targets'),
  });
  const label = await ch.ch.client.query({
    query: `SELECT keyword_text FROM entity_context FINAL WHERE entity_level = 'target' AND entity_id = '${kw.target_id}'`,
    format: 'JSONEachRow',
  });
  assert.equal((await label.json<{ keyword_text: string }>())[0]!.keyword_text, kw.expression_text);
});

test('a re-run changes nothing but synced_at', async () => {
  const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const before = await snapshot(profileId);
  const res = await call('POST', `/v1/entities/sync?profileId=${profileId}&mode=full`);
  await waitForBatch(res.json().batchId);
  const afterSnap = await snapshot(profileId);
  for (const kind of Object.keys(ENTITY_TABLES)) {
    for (const [id, row] of before[kind]!) {
      const now = afterSnap[kind]!.get(id)!;
      assert.equal(withoutSyncedAt(now), withoutSyncedAt(row), `${kind} ${id} unchanged`);
      assert.ok(new Date(now.synced_at as string) > new Date(row.synced_at as string), `${kind} ${id} synced_at moved`);
    }
  }
});

test('an incremental run after 1% of entities change updates exactly those, with the new values', async () => {
  const profiles = sandbox.state.dataset.profiles();
  const before = await Promise.all(profiles.map((p) => snapshot(p.profileId)));
  sandbox.state.clockOffsetMs += 60_000;
  const changed = sandbox.state.dataset.mutate(0.01, sandbox.state.now());
  assert.ok(changed.length >= 3, `enough changes to mean something: ${changed.length}`);
  // Scale is small, so 1% may miss a kind; the SB and SD lists must be read incrementally too.
  const extra = sandbox.state.dataset.mutate(0.2, sandbox.state.now(), 2, (kind) => /^s[bd]_/.test(kind));
  assert.ok(new Set(extra.map((c) => c.kind)).size >= 3, `SB and SD changes: ${extra.map((c) => c.kind)}`);
  changed.push(...extra);
  const summary = await syncProfiles(
    { db: pg.db, clients, log: testLogger(), batchSize: 50, concurrency: 2 },
    { entity: 'all', mode: 'incremental', trigger: 'test' },
  );
  assert.equal(summary.failed, 0);
  const kindTable: Record<string, keyof typeof ENTITY_TABLES> = {
    campaign: 'campaigns',
    sb_campaign: 'campaigns',
    sb_ad_group: 'ad_groups',
    sb_keyword: 'targets',
    sd_campaign: 'campaigns',
    sd_target: 'targets',
    ad_group: 'ad_groups',
    ad: 'ads',
    keyword: 'targets',
    product_target: 'targets',
  };
  for (const [p, profile] of profiles.entries()) {
    const afterSnap = await snapshot(profile.profileId);
    const expected = new Set(
      changed.filter((c) => c.profileId === profile.profileId).map((c) => `${kindTable[c.kind]}:${c.id}`),
    );
    const actual = new Set<string>();
    for (const kind of Object.keys(ENTITY_TABLES)) {
      for (const [id, row] of before[p]![kind]!)
        if (withoutSyncedAt(afterSnap[kind]!.get(id)!) !== withoutSyncedAt(row)) actual.add(`${kind}:${id}`);
    }
    assert.deepEqual([...actual].sort(), [...expected].sort(), `profile ${p}: exactly the changed entities differ`);
    for (const c of changed.filter((x) => x.profileId === profile.profileId)) {
      const row = afterSnap[kindTable[c.kind]!]!.get(c.id)!;
      if ('bid' in c.patch) assert.equal(row.bid_micros, Math.round(Number(c.patch.bid) * 1e6), `bid of ${c.id}`);
      if ('defaultBid' in c.patch) assert.equal(row.default_bid_micros, Math.round(Number(c.patch.defaultBid) * 1e6));
      if ('state' in c.patch) assert.equal(row.state, c.patch.state);
      if ('name' in c.patch) assert.equal(row.name, c.patch.name);
      if ('budget' in c.patch) assert.equal(row.budget_micros, Math.round(Number(c.patch.budget) * 1e6));
    }
  }
  const state = await pg.db('sync_state').where({ profile_id: profiles[0]!.profileId, entity_type: 'targets' }).first();
  assert.ok(state.high_watermark && state.last_success_at);
});

test('two syncs of the same profile and entity never run at once', async () => {
  const profileId = sandbox.state.dataset.profiles()[1]!.profileId;
  sandbox.setFaults({ latencyMs: 100 });
  try {
    const first = await call('POST', `/v1/entities/sync?profileId=${profileId}&entity=targets`);
    assert.equal(first.statusCode, 202);
    const second = await call('POST', `/v1/entities/sync?profileId=${profileId}&entity=targets`);
    assert.equal(second.statusCode, 409);
    assert.equal(second.json().details.running[0].entity_type, 'targets');
    const other = await call('POST', `/v1/entities/sync?profileId=${profileId}&entity=campaigns`);
    assert.equal(other.statusCode, 202, 'another entity type of the same profile may run');
    await waitForBatch(first.json().batchId);
    await waitForBatch(other.json().batchId);
  } finally {
    sandbox.setFaults({ latencyMs: 0 });
  }
});

test('a revoked refresh token fails the run with a clear reason; a profile Amazon refuses (401 scope) is marked inaccessible', async () => {
  const [p0, p1] = sandbox.state.dataset.profiles();
  sandbox.setFaults({ forbiddenProfiles: [p1!.profileId] });
  try {
    const res = await call('POST', `/v1/entities/sync?profileId=${p1!.profileId}`);
    const batch = await waitForBatch(res.json().batchId);
    assert.equal(batch.status, 'failed');
    assert.ok(
      batch.runs.every(
        (r: { error: { kind: string; message: string } }) =>
          r.error.kind === 'forbidden' && /Not authorized to access scope/.test(r.error.message),
      ),
    );
    assert.equal((await pg.db('profiles').where({ profile_id: p1!.profileId }).first()).status, 'inaccessible');
  } finally {
    sandbox.setFaults({ forbiddenProfiles: [] });
  }
  await clients.close(); // drop cached tokens so the revoked refresh token is used
  sandbox.state.revokedRefreshTokens.add(SANDBOX_REFRESH_TOKEN);
  try {
    const res = await call('POST', `/v1/entities/sync?profileId=${p0!.profileId}&entity=campaigns`);
    const batch = await waitForBatch(res.json().batchId);
    assert.equal(batch.status, 'failed');
    assert.match(batch.runs[0].error.message, /revoked or expired; the account must authorise adsync again/);
    assert.match(
      (await pg.db('amazon_credentials').where({ account_id: accountId }).first()).last_auth_error,
      /invalid_grant/,
    );
  } finally {
    sandbox.state.revokedRefreshTokens.clear();
  }
});
