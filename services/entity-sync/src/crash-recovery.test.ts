// kill -9 of entity-sync in the middle of an ingestion run, and of a sync the HTTP trigger
// queued, against the real process: neither stays "running" or blocks later syncs, the
// restarted process takes both up (a sync is a queued batch any replica's loop claims), and
// every entity table ends exactly what the sandbox holds — no silent loss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSandbox, type Sandbox } from '@adsync/sandbox';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireKafka,
  testConfig,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { ServiceProcess, freePort } from '@adsync/shared/testing/service-process';
import { postgresEntityIds } from '@adsync/chaos/expected';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_crash_recovery_admin_key_0123456789';
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let svc: ServiceProcess;

before(async () => {
  await requireKafka();
  // Slow enough that a kill lands in the middle of the entity stage.
  sandbox = await startSandbox({
    seed: 44,
    scale: { profiles: 3, campaignsPerProfile: 6, adGroupsPerCampaign: 4, keywordsPerAdGroup: 12 },
    faults: { latencyMs: 25, reportGenerationMs: 100 },
  });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  svc = new ServiceProcess('entity-sync', {
    port: await freePort(),
    env: {
      DATABASE_URL: pg.url,
      CLICKHOUSE_DATABASE: ch.ch.database,
      KAFKA_TOPIC_PREFIX: `${uniqueName('crash')}.`,
      AMAZON_ADS_BASE_URL: sandbox.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_API_KEY: ADMIN,
      ENTITY_SYNC_LEASE_MS: '2000',
      ENTITY_SYNC_EXPORT_POLL_MS: '50',
      ENTITY_SYNC_BATCH_SIZE: '100',
      LOG_LEVEL: 'info',
      SCHEMA_REGISTRY_URL: testConfig().SCHEMA_REGISTRY_URL ?? '',
    },
  });
  await svc.start();
});

after(async () => {
  await svc?.stop();
  await closeThenDrop(sandbox, ch, pg);
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, json };
};

test('entity-sync killed mid-ingestion: the run is taken up again and every entity table ends exact', async () => {
  const account = await api('POST', '/v1/accounts', { company_name: 'crash' });
  assert.equal(account.status, 201, JSON.stringify(account.json));
  const accountId = account.json.id as string;
  const creds = await api('POST', `/v1/accounts/${accountId}/credentials`, {
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    refresh_token: SANDBOX_REFRESH_TOKEN,
  });
  assert.equal(creds.status, 201, JSON.stringify(creds.json));
  const started = await api('POST', `/v1/ingestion/sync-account/${accountId}`);
  assert.equal(started.status, 202);
  const runId = started.json.runId as string;

  // Kill it once it is inside the entity stage, with rows written and runs in flight.
  await eventually(
    async () => {
      const running = await pg.db('sync_runs').where({ status: 'running' }).first('id');
      const some = await pg.db('entity_campaigns').count<{ c: string }[]>('* as c');
      return running && Number(some[0]!.c) > 0 ? true : undefined;
    },
    { what: 'a sync run in flight', timeoutMs: 30_000, intervalMs: 20 },
  );
  await svc.kill9();
  const left = await pg.db('ingestion_runs').where({ id: runId }).first('status');
  assert.equal(left.status, 'running', 'the kill left the run behind');
  const inFlight: string[] = await pg.db('sync_runs').where({ status: 'running' }).pluck('id');
  assert.ok(inFlight.length > 0, 'the kill left sync runs behind');

  await svc.start();
  const run = await eventually(
    async () => {
      const r = await api('GET', `/v1/ingestion/runs/${runId}`);
      return ['succeeded', 'partial', 'failed'].includes(r.json.status as string) ? r.json : undefined;
    },
    { what: 'the ingestion run to finish after the restart', timeoutMs: 90_000, intervalMs: 200 },
  );
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.equal(run.attempt, 2, 'taken up once more, not started afresh by hand');

  const stuck = await pg.db('sync_runs').whereIn('status', ['queued', 'running']).select('id', 'entity_type');
  assert.deepEqual(stuck, [], 'no sync run is left queued or running');
  // The runs the kill cut short were run again to success, in the batches they belonged to.
  const retaken = await pg.db('sync_runs').whereIn('id', inFlight).select('status', 'batch_id');
  assert.deepEqual(
    retaken.map((r) => r.status),
    inFlight.map(() => 'succeeded'),
  );
  const batches = await pg.db('sync_batches').whereIn('id', [...new Set(retaken.map((r) => r.batch_id))]);
  assert.ok(
    batches.every((b) => b.status === 'done' && b.attempt === 2),
    JSON.stringify(batches),
  );
  assert.deepEqual(await pg.db('sync_runs').where({ status: 'failed' }).select('id', 'error'), []);

  for (const [p, profile] of sandbox.state.dataset.profiles().entries()) {
    assert.deepEqual(
      await postgresEntityIds(pg.db, profile.profileId),
      sandbox.state.dataset.expectedEntityIds(p),
      `entities of profile ${profile.profileId}`,
    );
  }
  // And a later sync of any profile is not blocked by what the killed process left.
  const again = await api(
    'POST',
    `/v1/entities/sync?profileId=${sandbox.state.dataset.profiles()[0]!.profileId}&mode=incremental`,
  );
  assert.equal(again.status, 202, JSON.stringify(again.json));
});

test('entity-sync killed in the middle of a sync the HTTP trigger queued: the restarted process finishes the batch', async () => {
  const profileId = sandbox.state.dataset.profiles()[1]!.profileId;
  const started = await api('POST', `/v1/entities/sync?profileId=${profileId}&mode=full`);
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const batchId = started.json.batchId as string;
  await eventually(
    async () =>
      (await pg.db('sync_runs').where({ batch_id: batchId, status: 'running' }).first('id')) ? true : undefined,
    { what: 'a run of the batch in flight', timeoutMs: 30_000, intervalMs: 10 },
  );
  await svc.kill9();
  const cut = await pg
    .db('sync_runs')
    .where({ batch_id: batchId })
    .whereIn('status', ['queued', 'running'])
    .pluck('id');
  assert.ok(cut.length > 0, 'the kill left runs of the batch unfinished');

  await svc.start();
  const batch = await eventually(
    async () => {
      const r = await api('GET', `/v1/sync-runs/${batchId}`);
      return r.json.done ? r.json : undefined;
    },
    { what: 'the batch to finish after the restart', timeoutMs: 90_000, intervalMs: 200 },
  );
  assert.equal(batch.status, 'succeeded', JSON.stringify(batch));
  const row = await pg.db('sync_batches').where({ id: batchId }).first();
  assert.equal(row.attempt, 2, 'claimed again once its lease lapsed, not started afresh by hand');
  assert.equal(row.status, 'done');
  assert.deepEqual(await postgresEntityIds(pg.db, profileId), sandbox.state.dataset.expectedEntityIds(1));
});
