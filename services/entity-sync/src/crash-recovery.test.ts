// kill -9 of entity-sync in the middle of an ingestion run, against the real process:
// the run must not stay "running", must not block later syncs, and must end with every
// entity table exactly what the sandbox holds — no silent loss.
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
      INGESTION_POLL_MS: '500',
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
  assert.ok((await pg.db('sync_runs').whereIn('status', ['queued', 'running']).first('id')) !== undefined);

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
  const abandoned = await pg.db('sync_runs').where({ status: 'failed' }).select('error');
  assert.ok(abandoned.length > 0, 'the killed runs are recorded');
  for (const a of abandoned)
    assert.match(
      a.error.message,
      /^abandoned: the process running it stopped( renewing its lease|; its ingestion run was taken up again)/,
    );

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
