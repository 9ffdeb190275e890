import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { amcResultRows } from '@adsync/sandbox/amc-routes';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { registerAmcRoutes } from './routes.ts';
import { amcTick, type AmcDeps } from './executions.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { amcDate } from '@adsync/shared/testing/amc-calendar';
import { createExecution } from '@adsync/shared/amazon/amc';

const ADMIN = 'adsk_amc_test_admin_key_0123456789';
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let app: FastifyInstance;
let deps: AmcDeps;
let clients: AmazonClients;
let accountId: string;

before(async () => {
  sandbox = await startSandbox({ seed: 8, faults: { amcExecutionMs: 300 } });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  const box = createSecretBox(randomBytes(32));
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'amc' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  const log = testLogger('amc');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  deps = { db: pg.db, ch: ch.ch, clients, log, defaultWindowDays: 7 };
  app = await createHttpServer({ name: 'amc-runner', log, db: pg.db, readiness: {} });
  registerAmcRoutes(app, deps);
  await app.ready();
});

after(async () => {
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${ADMIN}` } });
const tickUntil = async (id: string, want: string) =>
  eventually(
    async () => {
      await amcTick(deps, { maxPolls: 50, minSpacingMs: 0 });
      const e = (await call('GET', `/v1/amc/executions/${id}`)).json();
      return e.status === want ? e : undefined;
    },
    { what: `execution ${id} ${want}`, timeoutMs: 30_000, intervalMs: 50 },
  );

test('workflows are saved in AMC and locally; a second save updates', async () => {
  assert.equal(
    (
      await call('POST', '/v1/amc/instances', {
        accountId,
        instanceId: 'amcinst1',
        advertiserId: 'ENTITY123',
        marketplaceId: 'ATVPDKIKX0DER',
      })
    ).statusCode,
    201,
  );
  const created = await call('POST', '/v1/amc/workflows', {
    instanceId: 'amcinst1',
    workflowId: 'reach_by_campaign',
    sqlQuery: 'SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1',
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().amc, 'created');
  const updated = await call('POST', '/v1/amc/workflows', {
    instanceId: 'amcinst1',
    workflowId: 'reach_by_campaign',
    sqlQuery: 'SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY 1',
  });
  assert.equal(updated.json().amc, 'updated');
  assert.match(sandbox.state.amcWorkflows.get('amcinst1|reach_by_campaign')!.sqlQuery, /AS impressions/);
});

test('400 without workflowId and for an unknown output format, and AMC receives nothing', async () => {
  const before = sandbox.state.amcRequests.length;
  const noWorkflow = await call('POST', '/v1/amc/executions', { outputFormat: 'CSV' });
  assert.equal(noWorkflow.statusCode, 400);
  assert.match(noWorkflow.json().message, /workflowId/);
  const badFormat = await call('POST', '/v1/amc/executions', { workflowId: 'reach_by_campaign', outputFormat: 'XLSX' });
  assert.equal(badFormat.statusCode, 400);
  assert.match(badFormat.json().message, /outputFormat must be one of "CSV", "PARQUET"/);
  const adHoc = await call('POST', '/v1/amc/executions', { workflowId: 'reach_by_campaign', sqlQuery: 'SELECT 1' });
  assert.equal(adHoc.statusCode, 400, 'ad-hoc SQL is not an accepted field');
  const unsaved = await call('POST', '/v1/amc/executions', { workflowId: 'never_saved' });
  assert.equal(unsaved.statusCode, 404);
  assert.equal(sandbox.state.amcRequests.length, before, 'AMC received nothing');
});

test('the default window and exactly these fields reach AMC, with the required headers', async () => {
  const res = await call('POST', '/v1/amc/executions', {
    workflowId: 'reach_by_campaign',
    parameterValues: { minImpressions: 10 },
  });
  assert.equal(res.statusCode, 202, res.body);
  const sent = sandbox.state.amcRequests.at(-1)!;
  assert.equal(sent.instanceId, 'amcinst1');
  const today = new Date();
  const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 2 * 86_400_000);
  assert.deepEqual(sent.body, {
    workflowId: 'reach_by_campaign',
    timeWindowType: 'EXPLICIT',
    timeWindowTimeZone: 'UTC',
    outputFormat: 'CSV',
    parameterValues: { minImpressions: 10 },
    timeWindowStart: new Date(end.getTime() - 7 * 86_400_000).toISOString().slice(0, 19),
    timeWindowEnd: end.toISOString().slice(0, 19),
    // The workflow's data-gap policy is run_anyway (the default): AMC runs on the data there is and lists gaps.
    ignoreDataGaps: true,
  });
  const exec = [...sandbox.state.amcExecutions.values()].at(-1)!;
  assert.deepEqual(exec.headers, { advertiserId: 'ENTITY123', marketplaceId: 'ATVPDKIKX0DER' });
  assert.deepEqual(res.json().warnings, [], 'the default window ends outside the data lag');
});

test('status answers at once with one AMC call; a completed CSV execution has its results and metadata', async () => {
  const res = await call('POST', '/v1/amc/executions', {
    workflowId: 'reach_by_campaign',
    timeWindowStart: amcDate('2025-09-01T00:00:00'),
    timeWindowEnd: amcDate('2025-09-08T00:00:00'),
    outputFormat: 'CSV',
  });
  const id = res.json().id;
  const t0 = Date.now();
  const status = await call('GET', `/v1/amc/executions/${id}/status`);
  assert.ok(Date.now() - t0 < 1000, 'no waiting on AMC');
  assert.equal(status.json().status, 'pending');
  const done = await tickUntil(id, 'completed');
  const exec = sandbox.state.amcExecutions.get(done.amcExecutionId)!;
  const rows = amcResultRows(sandbox.state, exec);
  assert.equal(done.row_count, rows.length);
  assert.equal(done.size_bytes, exec.file!.length);
  assert.match(done.output_location, /^s3:\/\/amc-sandbox-amcinst1\/workflow=reach_by_campaign\//);
  assert.deepEqual(done.columns, ['campaign', 'impressions', 'reach', 'conversions', 'new_to_brand']);
  const results = (await call('GET', `/v1/amc/executions/${id}/results?limit=1000`)).json();
  assert.equal(results.rows.length, rows.length);
  assert.deepEqual(results.rows[0], {
    campaign: rows[0]!.campaign,
    impressions: String(rows[0]!.impressions),
    reach: String(rows[0]!.reach),
    conversions: String(rows[0]!.conversions),
    new_to_brand: String(rows[0]!.new_to_brand),
  });
  assert.equal((await call('GET', `/v1/amc/executions/${id}/status`)).json().status, 'completed');
});

test('a completed Parquet execution has its results and metadata', async () => {
  const res = await call('POST', '/v1/amc/executions', {
    workflowId: 'reach_by_campaign',
    timeWindowStart: amcDate('2025-08-01T00:00:00'),
    timeWindowEnd: amcDate('2025-08-08T00:00:00'),
    outputFormat: 'PARQUET',
  });
  const done = await tickUntil(res.json().id, 'completed');
  const exec = sandbox.state.amcExecutions.get(done.amcExecutionId)!;
  const rows = amcResultRows(sandbox.state, exec);
  assert.equal(done.row_count, rows.length);
  assert.equal(done.size_bytes, exec.file!.length);
  assert.equal(exec.file!.subarray(0, 4).toString(), 'PAR1');
  const results = (await call('GET', `/v1/amc/executions/${res.json().id}/results?limit=1000`)).json();
  assert.deepEqual(
    results.rows.map((r: { impressions: number }) => r.impressions),
    rows.map((r) => r.impressions),
  );
});

test('at most 10 in flight per instance: the rest queue and run later; overlaps and failures are recorded', async () => {
  sandbox.setFaults({ amcExecutionMs: 2_000 });
  try {
    const ids: string[] = [];
    for (let k = 0; k < 12; k++) {
      const r = await call('POST', '/v1/amc/executions', {
        workflowId: 'reach_by_campaign',
        timeWindowStart: amcDate(`2025-0${1 + Math.floor(k / 6)}-${String(1 + (k % 6) * 4).padStart(2, '0')}T00:00:00`),
        timeWindowEnd: amcDate(`2025-0${1 + Math.floor(k / 6)}-${String(3 + (k % 6) * 4).padStart(2, '0')}T00:00:00`),
      });
      assert.equal(r.statusCode, 202, r.body);
      ids.push(r.json().id);
    }
    const statuses = await pg.db('amc_executions').whereIn('id', ids).pluck('status');
    assert.equal(statuses.filter((s) => s === 'pending').length, 10);
    assert.equal(statuses.filter((s) => s === 'queued').length, 2);
    const overlap = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: amcDate('2025-01-01T00:00:00'),
      timeWindowEnd: amcDate('2025-01-02T00:00:00'),
    });
    assert.equal(overlap.statusCode, 202, 'queued behind the limit first');
    for (const id of ids) await tickUntil(id, 'completed');
    const o = await eventually(
      async () => {
        await amcTick(deps, { maxPolls: 50, minSpacingMs: 0 });
        const e = (await call('GET', `/v1/amc/executions/${overlap.json().id}`)).json();
        return ['completed', 'failed'].includes(e.status) ? e : undefined;
      },
      { what: 'the queued overlapping execution to finish', timeoutMs: 30_000, intervalMs: 50 },
    );
    if (o.status === 'failed') assert.match(o.failureReason, /overlaps/);
  } finally {
    sandbox.setFaults({ amcExecutionMs: 300 });
  }
  // An overlapping window while the first runs: AMC refuses; the record says why.
  sandbox.setFaults({ amcExecutionMs: 60_000 });
  try {
    const first = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: amcDate('2025-05-01T00:00:00'),
      timeWindowEnd: amcDate('2025-05-10T00:00:00'),
    });
    assert.equal(first.statusCode, 202);
    const second = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: amcDate('2025-05-05T00:00:00'),
      timeWindowEnd: amcDate('2025-05-15T00:00:00'),
    });
    assert.equal(
      second.statusCode,
      409,
      `${second.body} ${JSON.stringify(await pg.db('amc_executions').whereIn('status', ['queued', 'pending', 'running']).select('status', 'time_window_start', 'amc_status'))}`,
    );
    const rec = (await call('GET', `/v1/amc/executions/${second.json().details.id}`)).json();
    assert.equal(rec.status, 'failed');
    assert.match(rec.failureReason, /overlaps/);
  } finally {
    sandbox.setFaults({ amcExecutionMs: 300 });
  }
  sandbox.setFaults({ failAmcWorkflows: ['reach_by_campaign'] });
  try {
    const r = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: amcDate('2025-03-01T00:00:00'),
      timeWindowEnd: amcDate('2025-03-02T00:00:00'),
    });
    const failed = await tickUntil(r.json().id, 'failed');
    assert.match(failed.failureReason, /Query execution failed/);
  } finally {
    sandbox.setFaults({ failAmcWorkflows: [] });
  }
});

test('an execution AMC keeps RUNNING past AMC_EXECUTION_TIMEOUT_MS ends failed with the reason, and is cancelled at AMC', async () => {
  // The sandbox says PENDING for the first half of an execution's run and RUNNING for the second.
  sandbox.setFaults({ amcExecutionMs: 8_000 });
  try {
    const r = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: amcDate('2025-07-01T00:00:00'),
      timeWindowEnd: amcDate('2025-07-02T00:00:00'),
    });
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().id as string;
    await tickUntil(id, 'running');
    const { submitted_at } = await pg.db('amc_executions').where({ id }).first('submitted_at');
    const limitMs = Date.now() - new Date(submitted_at).getTime() + 500;
    const patient = { ...deps, executionTimeoutMs: limitMs };
    const status = async () => (await call('GET', `/v1/amc/executions/${id}`)).json();
    // Within the limit it is only polled.
    await amcTick(patient, { maxPolls: 50, minSpacingMs: 0 });
    assert.equal((await status()).status, 'running');
    await new Promise((res) => setTimeout(res, 600));
    await amcTick(patient, { maxPolls: 50, minSpacingMs: 0 });
    const e = await status();
    assert.equal(e.status, 'failed');
    assert.match(
      e.failureReason,
      /^gave up: AMC still said RUNNING \d+ s after submission \(limit AMC_EXECUTION_TIMEOUT_MS = \d+ ms\); cancelled at AMC$/,
    );
    const atAmc = sandbox.state.amcExecutions.get(e.amcExecutionId);
    assert.ok(atAmc, 'AMC knows the execution');
    assert.equal(atAmc.cancelled, true, 'cancelled at AMC, so its slot frees');
    // Given up means done: later ticks leave it alone.
    const polls = e.pollCount;
    await amcTick(patient, { maxPolls: 50, minSpacingMs: 0 });
    assert.deepEqual([(await status()).status, (await status()).pollCount], ['failed', polls]);
  } finally {
    sandbox.setFaults({ amcExecutionMs: 300 });
  }
});

test("a window ending inside the 48-hour lag is accepted with a warning, and AMC's data gaps are kept", async () => {
  const end = new Date(Date.now() - 3600_000).toISOString().slice(0, 13) + ':00:00';
  const start = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 13) + ':00:00';
  const r = await call('POST', '/v1/amc/executions', {
    workflowId: 'reach_by_campaign',
    timeWindowStart: start,
    timeWindowEnd: end,
  });
  assert.equal(r.statusCode, 202);
  assert.match(r.json().warnings[0], /48-hour data lag/);
  const done = await tickUntil(r.json().id, 'completed');
  assert.equal(done.dataGaps.length, 1);
  assert.equal(done.dataGaps[0].reason, 'DATA_NOT_YET_AVAILABLE');
});

// how-amc-works.md: an instance holds "the most recent 13 months of event-level information".
test('a window reaching past 13 months or into the future is refused with the limit named, by adsync and by AMC', async () => {
  const before = sandbox.state.amcRequests.length;
  const today = new Date().toISOString().slice(0, 10);
  for (const [start, end, why] of [
    ['2015-01-01T00:00:00', `${today}T00:00:00`, /before AMC's 13 months of data \(earliest \d{4}-\d{2}-\d{2}\)/],
    ['2030-01-01T00:00:00', '2030-02-01T00:00:00', /ends in the future/],
  ] as const) {
    const r = await call('POST', '/v1/amc/executions', {
      workflowId: 'reach_by_campaign',
      timeWindowStart: start,
      timeWindowEnd: end,
    });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().message, why);
  }
  assert.equal(sandbox.state.amcRequests.length, before, 'AMC was asked nothing');
  // AMC itself (the sandbox) refuses the same windows.
  const client = await clients.forAccount(accountId);
  const instance = { instance_id: 'amcinst1', advertiser_id: 'ENTITY123', marketplace_id: 'ATVPDKIKX0DER' };
  await assert.rejects(
    createExecution(client, instance, {
      workflowId: 'reach_by_campaign',
      timeWindowType: 'EXPLICIT',
      timeWindowStart: '2030-01-01T00:00:00',
      timeWindowEnd: '2030-02-01T00:00:00',
      timeWindowTimeZone: 'UTC',
      outputFormat: 'CSV',
      parameterValues: {},
    }),
    /ends in the future/,
  );
});

test('an account never connected to Amazon is a 409 that says to connect it, not a 500', async () => {
  const [{ id: lonely }] = await pg.db('accounts').insert({ company_name: 'not connected' }).returning('id');
  const registered = await call('POST', '/v1/amc/instances', {
    accountId: lonely,
    instanceId: 'amcnocreds',
    advertiserId: 'ENTITYNONE',
    marketplaceId: 'ATVPDKIKX0DER',
  });
  assert.equal(registered.statusCode, 201, registered.body);
  for (const [url, body] of [
    ['/v1/amc/workflows', { instanceId: 'amcnocreds', workflowId: 'w_nocreds', sqlQuery: 'SELECT 1' }],
    ['/v1/amc/instances/amcnocreds/drift', undefined],
  ] as const) {
    const r = await call('POST', url, body);
    assert.equal(r.statusCode, 409, `${url}: ${r.body}`);
    assert.match(r.json().message, /has no Amazon credentials; connect it first/);
    assert.equal(r.json().details.code, 'ADSYNC_NO_CREDENTIALS');
  }
});
