// Profile selection per account: a profile the selection leaves out is never called
// (the sandbox counts calls per profile); a profile an advertiser shares with the
// agency's manager account for viewing only is listed with accessLevel=view and synced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { testSyncLoop } from './testing.ts';
import { planSync } from './sync-runs.ts';
import { runDueSyncs } from './sync-profiles.ts';
import {
  backgroundWork,
  eventually,
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { registerApi, registerIngestionApi } from './api.ts';
import { runDueIngestions } from './ingestion.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_profile_selection_admin_key_0123';
let pg: FreshPostgres;
let ch: FreshClickHouse;
let sandbox: Sandbox;
let app: FastifyInstance;
let clients: AmazonClients;
let accountId: string;
const work = backgroundWork();
let syncs: ReturnType<typeof testSyncLoop>;

before(async () => {
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  // Five profiles: the fourth, a seller's, is shared for viewing only; the fifth is a DSP (agency) profile.
  sandbox = await startSandbox({
    seed: 53,
    scale: { profiles: 5, campaignsPerProfile: 2 },
    faults: { reportGenerationMs: 50 },
  });
  const box = createSecretBox(randomBytes(32));
  const log = testLogger('selection');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'agency' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  const deps = {
    db: pg.db,
    ch: ch.ch,
    box,
    clients,
    log,
    batchSize: 200,
    exportPollMs: 20,
    amazonBaseUrl: sandbox.url,
  };
  syncs = testSyncLoop(deps);
  registerApi(app, { ...deps, wakeSyncs: syncs.wakeSyncs });
  const stop = new AbortController();
  registerIngestionApi(app, {
    ...deps,
    wakeSyncs: syncs.wakeSyncs,
    wakeIngestion: () =>
      work.background(
        runDueIngestions(
          { ...deps, owner: 'selection-test', reportTypes: ['spCampaigns', 'sbCampaigns', 'dspCampaign'] },
          stop.signal,
        ),
      ),
  });
  await app.ready();
});

after(async () => {
  await syncs?.stop();
  await work.settle();
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${ADMIN}` } });

async function ingest(): Promise<Record<string, unknown>> {
  const res = await call('POST', `/v1/ingestion/sync-account/${accountId}`);
  assert.equal(res.statusCode, 202, res.body);
  return eventually(
    async () => {
      const r = (await call('GET', `/v1/ingestion/runs/${res.json().runId}`)).json();
      return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
    },
    { what: 'the ingestion run', timeoutMs: 90_000 },
  );
}

test('an excluded profile is recorded with the reason and never called; a view-only seller profile is synced', async () => {
  const profiles = sandbox.state.dataset.profiles();
  // A seller's profile shared with the agency's login for viewing only (accessLevel=view).
  const viewOnly = profiles[3]!;
  assert.equal(viewOnly.accountInfo.type, 'seller');
  const dspProfile = profiles.find((p) => p.accountInfo.type === 'agency')!;
  const excludedOne = profiles[1]!;
  const otherMarketplace = profiles.find(
    (p) => p.accountInfo.marketplaceStringId !== profiles[0]!.accountInfo.marketplaceStringId,
  )!;
  sandbox.state.viewOnlyProfiles.add(viewOnly.profileId);

  const put = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, {
    excludeProfileIds: [excludedOne.profileId],
    excludeMarketplaces: [otherMarketplace.accountInfo.marketplaceStringId],
  });
  assert.equal(put.statusCode, 200, put.body);
  const run = await ingest();
  assert.equal(run.status, 'succeeded', JSON.stringify(run));

  const stored = new Map(
    (await pg.db('profiles').where({ account_id: accountId }).select('profile_id', 'status', 'status_reason')).map(
      (p: { profile_id: string; status: string; status_reason: string | null }) => [p.profile_id, p],
    ),
  );
  const excluded = [excludedOne.profileId, otherMarketplace.profileId];
  for (const id of excluded) {
    assert.equal(stored.get(id)?.status, 'excluded', id);
    assert.match(stored.get(id)!.status_reason!, /^excluded by the profile selection: /);
    assert.equal(sandbox.state.profileCalls.get(id) ?? 0, 0, `profile ${id} was never called`);
    assert.equal(await pg.db('entity_campaigns').where({ profile_id: id }).first('campaign_id'), undefined);
    assert.equal(await pg.db('pending_amazon_reports').where({ profile_id: id }).first('id'), undefined);
  }
  // The profile listed only with accessLevel=view is synced: entities and reports.
  assert.ok(!excluded.includes(viewOnly.profileId));
  assert.equal(stored.get(viewOnly.profileId)?.status, 'active');
  assert.ok((sandbox.state.profileCalls.get(viewOnly.profileId) ?? 0) > 0);
  assert.ok(await pg.db('entity_campaigns').where({ profile_id: viewOnly.profileId }).first('campaign_id'));
  assert.ok(await pg.db('pending_amazon_reports').where({ profile_id: viewOnly.profileId }).first('id'));
  // The DSP (agency) profile is the Profiles model's "associated with DSP": no sponsored-ads entities
  // or reports are asked for under it; its DSP advertisers' reports are.
  assert.equal(stored.get(dspProfile.profileId)?.status, 'active');
  assert.equal(
    await pg.db('entity_campaigns').where({ profile_id: dspProfile.profileId }).first('campaign_id'),
    undefined,
  );
  const dspTypes = await pg
    .db('pending_amazon_reports')
    .where({ profile_id: dspProfile.profileId })
    .distinct()
    .pluck('ad_product');
  assert.deepEqual(dspTypes, ['DEMAND_SIDE_PLATFORM']);
  // Asking for one of them by hand is refused, with the reason.
  const manual = await call('POST', `/v1/entities/sync?profileId=${excludedOne.profileId}`);
  assert.equal(manual.statusCode, 409);
  assert.match(manual.json().message, /excluded by its account's profile selection/);
  assert.equal(sandbox.state.profileCalls.get(excludedOne.profileId) ?? 0, 0);
});

test('accessLevel=edit leaves out what is shared for viewing only; taking a profile back syncs it again', async () => {
  const viewOnly = sandbox.state.dataset.profiles()[3]!;
  const before = sandbox.state.profileCalls.get(viewOnly.profileId) ?? 0;
  assert.equal(
    (await call('PUT', `/v1/accounts/${accountId}/profile-selection`, { accessLevel: 'edit' })).statusCode,
    200,
  );
  const discovered = await call('POST', `/v1/accounts/${accountId}/profiles/sync`);
  assert.equal(discovered.statusCode, 200, discovered.body);
  assert.ok(discovered.json().excluded.some((e: { profileId: string }) => e.profileId === viewOnly.profileId));
  const run = await ingest();
  assert.equal(run.status, 'succeeded');
  assert.equal(sandbox.state.profileCalls.get(viewOnly.profileId) ?? 0, before, 'not called once left out');

  // Back to the default (view): every profile is selected again.
  const put = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, {});
  assert.equal(put.statusCode, 200);
  await call('POST', `/v1/accounts/${accountId}/profiles/sync`);
  const statuses = await pg.db('profiles').where({ account_id: accountId }).pluck('status');
  assert.deepEqual([...new Set(statuses)], ['active']);
  const selection = (await call('GET', `/v1/accounts/${accountId}/profile-selection`)).json();
  assert.deepEqual(selection.excluded, []);
});

test('a selection that cannot mean anything is a 400', async () => {
  for (const body of [
    { profileTypes: ['reseller'] },
    { accessLevel: 'admin' },
    { includeProfileIds: ['not-a-number'] },
    { marketplaces: ['us'] },
    { unknown: true },
  ]) {
    const res = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, body);
    assert.equal(res.statusCode, 400, JSON.stringify(body));
  }
});

test('a profile excluded while its sync batch waited in the queue is skipped, never called', async () => {
  const waiting = sandbox.state.dataset.profiles()[0]!;
  await syncs.stop(); // nothing claims the batch until the selection has changed
  const { batchId } = await planSync(pg.db, waiting.profileId, ['campaigns'], 'incremental', 'test');
  const calls = sandbox.state.profileCalls.get(waiting.profileId) ?? 0;
  const put = await call('PUT', `/v1/accounts/${accountId}/profile-selection`, {
    excludeProfileIds: [waiting.profileId],
  });
  assert.equal(put.statusCode, 200, put.body);
  await runDueSyncs({ db: pg.db, clients, log: testLogger('selection'), batchSize: 50, concurrency: 1 });
  const runs = await pg.db('sync_runs').where({ batch_id: batchId }).select('status', 'error');
  assert.deepEqual(
    runs.map((r) => r.status),
    ['skipped'],
  );
  assert.match(runs[0].error.message, /excluded by its account's profile selection/);
  assert.equal((await pg.db('sync_batches').where({ id: batchId }).first()).status, 'done');
  assert.equal(sandbox.state.profileCalls.get(waiting.profileId) ?? 0, calls, 'no call to Amazon for it');
});
