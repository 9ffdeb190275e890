import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, SANDBOX_REFRESH_TOKEN, type Sandbox } from '@adsync/sandbox';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey, createApiKey } from '@adsync/shared/http/api-keys';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { eventually, freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { backgroundWork } from '@adsync/shared/testing/test-stack';
import { registerApi, registerIngestionApi } from './api.ts';
import { runDueIngestions } from './ingestion.ts';
import { ENTITY_TYPES } from '@adsync/shared/entities/entity-store';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_ingestion_test_admin_key_0123';
let pg: FreshPostgres;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let accountId: string;
let otherKey: string;
const work = backgroundWork();

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  await ensureAdminKey(pg.db, ADMIN);
  sandbox = await startSandbox({
    seed: 31,
    scale: { profiles: 2, campaignsPerProfile: 3 },
    faults: { reportGenerationMs: 50 },
  });
  const box = createSecretBox(randomBytes(32));
  const log = testLogger('ingestion');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'ingest' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'other' }).returning('id');
  otherKey = (await createApiKey(pg.db, { scope: 'account', accountId: other })).key;
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  const deps = {
    db: pg.db,
    box,
    clients,
    log,
    batchSize: 500,
    exportPollMs: 20,
    amazonBaseUrl: sandbox.url,
    wakeSyncs: () => undefined,
  };
  registerApi(app, deps);
  // What the service's ingestion loop does when woken: take up the queued runs.
  const stop = new AbortController();
  registerIngestionApi(app, {
    ...deps,
    // Both profiles at once, as the service does (ENTITY_SYNC_PROFILE_CONCURRENCY).
    wakeIngestion: () =>
      work.background(runDueIngestions({ ...deps, owner: 'ingestion-test', concurrency: 2 }, stop.signal)),
  });
  await app.ready();
});

after(async () => {
  await work.settle();
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

const call = (method: 'GET' | 'POST', url: string, key = ADMIN) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });

test('sync-account answers at once and runs profiles, entities and report requests with progress per stage', async () => {
  const res = await call('POST', `/v1/ingestion/sync-account/${accountId}`);
  assert.equal(res.statusCode, 202);
  const runId = res.json().runId;
  const run = await eventually(
    async () => {
      const r = (await call('GET', `/v1/ingestion/runs/${runId}`)).json();
      return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
    },
    { what: 'ingestion run', timeoutMs: 60_000 },
  );
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.equal(run.stages.profiles.discovered, 2);
  assert.equal(run.stages.entities.failed, 0);
  assert.ok(run.stages.entities.upserted > 0);
  // Amazon DSP: each profile's login reaches one advertiser (linked to its manager account), whose
  // entities sync after the profiles': two orders, four line items, eight creatives, four targets.
  assert.equal(run.stages.profiles.dspAdvertisers, 2);
  assert.equal(run.stages.entities.dspAdvertisersSynced, 2);
  assert.equal(run.stages.entities.dspEntities, 2 * (2 + 4 + 8 + 4));
  assert.deepEqual(run.stages.entities.dspFailed, []);
  assert.equal(
    Number((await pg.db('dsp_entities').count<{ c: string }[]>('* as c'))[0]!.c),
    run.stages.entities.dspEntities,
  );
  assert.ok(run.stages.reports.requested > 0);
  assert.equal(
    Number((await pg.db('pending_amazon_reports').where({ run_id: runId }).count<{ c: string }[]>('* as c'))[0]!.c),
    run.stages.reports.requested,
  );
  assert.ok(
    Number((await pg.db('event_outbox').where({ topic: 'report.requested' }).count<{ c: string }[]>('* as c'))[0]!.c) >=
      run.stages.reports.requested,
    'events wait in the outbox for the poller to relay',
  );
  const fullRuns = await pg.db('sync_runs').where({ mode: 'full' }).count<{ c: string }[]>('* as c');
  assert.equal(
    Number(fullRuns[0]!.c),
    2 * ENTITY_TYPES.length,
    'profiles never synced got a full sync (2 profiles × every entity type)',
  );
});

test('a scoped key cannot trigger another account; sync-all needs an admin key', async () => {
  assert.equal((await call('POST', `/v1/ingestion/sync-account/${accountId}`, otherKey)).statusCode, 403);
  assert.equal((await call('POST', '/v1/ingestion/sync-all', otherKey)).statusCode, 403);
  const all = await call('POST', '/v1/ingestion/sync-all');
  assert.equal(all.statusCode, 202);
  const run = await eventually(
    async () => {
      const r = (await call('GET', `/v1/ingestion/runs/${all.json().runId}`)).json();
      return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
    },
    { what: 'sync-all run', timeoutMs: 60_000 },
  );
  assert.equal(run.status, 'succeeded');
  const incremental = await pg.db('sync_runs').where({ mode: 'incremental' }).count<{ c: string }[]>('* as c');
  assert.equal(Number(incremental[0]!.c), 2 * ENTITY_TYPES.length, 'already-synced profiles get incremental runs');
});

test('a profile another live sync holds is reported: the run is partial, naming it, never a silent success', async () => {
  const profileId = (await pg.db('profiles').where({ account_id: accountId }).orderBy('profile_id').first('profile_id'))
    .profile_id as string;
  // A sync of its ads that a live process holds (its lease is being renewed).
  const [held] = await pg
    .db('sync_runs')
    .insert({
      batch_id: '00000000-0000-4000-8000-000000000001',
      profile_id: profileId,
      entity_type: 'ads',
      mode: 'incremental',
      trigger: 'elsewhere',
      status: 'running',
      lease_until: pg.db.raw(`now() + interval '10 minutes'`),
    })
    .returning('id');
  try {
    const res = await call('POST', `/v1/ingestion/sync-account/${accountId}`);
    const run = await eventually(
      async () => {
        const r = (await call('GET', `/v1/ingestion/runs/${res.json().runId}`)).json();
        return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
      },
      { what: 'the ingestion run', timeoutMs: 60_000 },
    );
    assert.equal(run.status, 'partial');
    assert.equal(run.stages.entities.skipped.length, 1);
    assert.equal(run.stages.entities.skipped[0].profileId, profileId);
    assert.match(run.stages.entities.skipped[0].reason, /already running for ads/);
  } finally {
    await pg.db('sync_runs').where({ id: held.id }).update({ status: 'failed' });
  }
  // Once the holder's lease lapses (its process died), the profile is no longer blocked.
  await pg.db('sync_runs').insert({
    batch_id: '00000000-0000-4000-8000-000000000002',
    profile_id: profileId,
    entity_type: 'ads',
    mode: 'incremental',
    trigger: 'a process that died',
    status: 'running',
    lease_until: pg.db.raw(`now() - interval '1 second'`),
  });
  const again = await call('POST', `/v1/ingestion/sync-account/${accountId}`);
  const done = await eventually(
    async () => {
      const r = (await call('GET', `/v1/ingestion/runs/${again.json().runId}`)).json();
      return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
    },
    { what: 'the second ingestion run', timeoutMs: 60_000 },
  );
  assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.entities));
  const dead = await pg.db('sync_runs').where({ batch_id: '00000000-0000-4000-8000-000000000002' }).first();
  assert.equal(dead.status, 'failed');
  assert.match(dead.error.message, /^abandoned: the process running it stopped renewing its lease \(it lapsed at /);
});

test("a refused login shows on the account as expired with Amazon's words, the history lists the run, and a working login clears it", async () => {
  const waitRun = (runId: string) =>
    eventually(
      async () => {
        const r = (await call('GET', `/v1/ingestion/runs/${runId}`)).json();
        return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
      },
      { what: 'ingestion run', timeoutMs: 60_000 },
    );
  const account = async () => (await call('GET', `/v1/accounts/${accountId}`)).json();
  assert.equal((await account()).credentials.state, 'connected');
  await clients.close(); // drop cached tokens so the refresh token is asked again
  sandbox.state.revokedRefreshTokens.add(SANDBOX_REFRESH_TOKEN);
  let failedRun: string;
  try {
    failedRun = (await call('POST', `/v1/ingestion/sync-account/${accountId}`)).json().runId;
    const run = await waitRun(failedRun);
    assert.equal(run.status, 'partial');
    // Nothing more is asked of Amazon for an account whose login it refused: no entity sync, no report.
    assert.equal(run.stages.entities.failed, 0);
    assert.equal(run.stages.reports.requested, 0);
    for (const stage of ['entities', 'reports'])
      assert.deepEqual(
        run.stages[stage].skipped.map((x: { accountId: string; reason: string }) => [
          x.accountId,
          /invalid_grant/.test(x.reason),
        ]),
        [[accountId, true]],
      );
    const c = (await account()).credentials;
    // LWA's error table: a revoked or lapsed refresh token is invalid_grant.
    assert.equal(c.state, 'expired', JSON.stringify(c));
    assert.match(c.reason, /invalid_grant/);
    assert.ok(Date.parse(c.since) > Date.now() - 60_000);
  } finally {
    sandbox.state.revokedRefreshTokens.clear();
    await clients.close();
  }
  // The history: newest first, this account's runs only, each with its outcome and errors.
  const history = (await call('GET', `/v1/ingestion/runs?accountId=${accountId}&limit=2`)).json();
  assert.equal(history.runs[0].id, failedRun);
  assert.match(JSON.stringify(history.runs[0].stages.profiles.failed), /invalid_grant/);
  assert.ok(history.runs.every((r: { account_id: string }) => r.account_id === accountId));
  assert.equal((await call('GET', `/v1/ingestion/runs?accountId=${accountId}&status=failed`)).statusCode, 200);
  // The other account's key sees none of them, named or not.
  assert.equal((await call('GET', `/v1/ingestion/runs?accountId=${accountId}`, otherKey)).statusCode, 403);
  assert.deepEqual((await call('GET', '/v1/ingestion/runs', otherKey)).json().runs, []);
  // Amazon accepts the login again: the next run clears the refusal.
  const ok = await waitRun((await call('POST', `/v1/ingestion/sync-account/${accountId}`)).json().runId);
  assert.equal(ok.status, 'succeeded', JSON.stringify(ok));
  assert.equal((await account()).credentials.state, 'connected');
  assert.equal((await account()).credentials.reason, null);
});
