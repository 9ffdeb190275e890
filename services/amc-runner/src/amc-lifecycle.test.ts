// The AMC lifecycle against the sandbox playing AMC (schedule-workflow.md, create-workflow.md,
// execute-workflow.md): workflows saved, changed, drifted and deleted; a weekly schedule whose
// runs over three simulated weeks are each found and loaded once; the in-flight limit counting
// a schedule's runs; each data-gap policy; history and the latest-per-window view; and the
// generated dashboard's panels, run on ClickHouse 18.16 and on today's engine (chDB).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { amcResultRows, type AmcExecution } from '@adsync/sandbox/amc-routes';
import {
  MIGRATIONS_DIR,
  migrateClickHouse,
  migratePostgres,
  readMigrations,
  splitStatements,
} from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import { runOnChdb } from '@adsync/shared/testing/chdb';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { join } from 'node:path';
import { registerAmcRoutes } from './routes.ts';
import { amcTick, type AmcDeps } from './executions.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { amcDate } from '@adsync/shared/testing/amc-calendar';

const ADMIN = 'adsk_amc_lifecycle_admin_key_012345';
const DAY = 86_400_000;
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let app: FastifyInstance;
let deps: AmcDeps;
let clients: AmazonClients;
let accountId: string;

before(async () => {
  sandbox = await startSandbox({ seed: 18, faults: { amcExecutionMs: 200 } });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  const box = createSecretBox(randomBytes(32));
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'amc lifecycle' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  const log = testLogger('amc-lifecycle');
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  deps = { db: pg.db, ch: ch.ch, clients, log, defaultWindowDays: 7, gapRecheckMs: 150, gapMaxWaitMs: 60_000 };
  app = await createHttpServer({ name: 'amc-runner', log, db: pg.db, readiness: {} });
  registerAmcRoutes(app, deps);
  await app.ready();
  for (const instanceId of ['amclife1', 'amclife2'])
    assert.equal(
      (
        await call('POST', '/v1/amc/instances', {
          accountId,
          instanceId,
          advertiserId: 'ENT1',
          marketplaceId: 'ATVPDKIKX0DER',
        })
      ).statusCode,
      201,
    );
});

after(async () => {
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${ADMIN}` } });
const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => {
  const r = await call(method, url, body);
  assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json();
};
const tick = () => amcTick(deps, { maxPolls: 200, minSpacingMs: 0 });
const atAmc = (id: string): AmcExecution => sandbox.state.amcExecutions.get(id)!;
const chRows = async (sql: string) =>
  (await ch.ch.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
/** What the sandbox's file held for an execution, as adsync stores it (CSV cells are strings). */
const expectedRows = (e: AmcExecution) =>
  amcResultRows(sandbox.state, e).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));
const storedRows = async (executionId: string) =>
  (await chRows(`SELECT row FROM amc_results FINAL WHERE execution_id = '${executionId}' ORDER BY row_number`)).map(
    (r) => JSON.parse(String(r.row)),
  );

test('workflows: create, read, list, update, drift found both ways, delete — AMC and our copy agree at each step', async () => {
  const created = await call('POST', '/v1/amc/workflows', {
    instanceId: 'amclife1',
    workflowId: 'overlap_weekly',
    sqlQuery: 'SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign',
    inputParameters: [{ name: 'minReach', dataType: 'INTEGER', columnType: 'METRIC', defaultValue: 10 }],
    outputFormat: 'PARQUET',
    dataGapPolicy: 'wait_and_rerun',
  });
  assert.equal(created.statusCode, 201, created.body);
  const amc = sandbox.state.amcWorkflows.get('amclife1|overlap_weekly')!;
  assert.match(amc.sqlQuery, /COUNT\(DISTINCT user_id\)/);
  assert.deepEqual(amc.inputParameters, [
    { name: 'minReach', dataType: 'INTEGER', columnType: 'METRIC', defaultValue: 10 },
  ]);

  const one = await ok('GET', '/v1/amc/workflows/amclife1/overlap_weekly');
  assert.equal(one.drift, 'in_sync');
  assert.deepEqual([one.outputFormat, one.dataGapPolicy], ['PARQUET', 'wait_and_rerun']);
  const list = await ok('GET', '/v1/amc/workflows?instanceId=amclife1');
  assert.deepEqual(
    list.items.map((w: { workflowId: string }) => w.workflowId),
    ['overlap_weekly'],
  );

  const changed = await ok('PUT', '/v1/amc/workflows/amclife1/overlap_weekly', {
    sqlQuery: 'SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1',
  });
  assert.match(amc.sqlQuery, /GROUP BY 1$/, 'AMC has the change');
  assert.deepEqual([changed.sqlQuery, changed.outputFormat, changed.drift], [amc.sqlQuery, 'PARQUET', 'in_sync']);

  // Someone edits the workflow in the AMC console, and saves another one there.
  amc.sqlQuery = 'SELECT 1';
  sandbox.state.amcWorkflows.set('amclife1|console_made', {
    workflowId: 'console_made',
    sqlQuery: 'SELECT 2',
    createdAt: '',
    updatedAt: '',
  });
  const drifted = await ok('GET', '/v1/amc/workflows/amclife1/overlap_weekly');
  assert.equal(drifted.drift, 'drifted');
  assert.equal(drifted.amc.sqlQuery, 'SELECT 1', "AMC's copy is shown next to ours");
  const report = await ok('POST', '/v1/amc/instances/amclife1/drift');
  assert.deepEqual(
    [report.drifted.map((d: { workflowId: string }) => d.workflowId), report.unmanaged, report.missingAtAmc],
    [['overlap_weekly'], ['console_made'], []],
  );
  // Saving again puts our copy back in AMC.
  await ok('PUT', '/v1/amc/workflows/amclife1/overlap_weekly', { dataGapPolicy: 'run_anyway' });
  assert.match(sandbox.state.amcWorkflows.get('amclife1|overlap_weekly')!.sqlQuery, /GROUP BY 1$/);
  sandbox.state.amcWorkflows.delete('amclife1|overlap_weekly');
  assert.deepEqual((await ok('POST', '/v1/amc/instances/amclife1/drift')).missingAtAmc, ['overlap_weekly']);
  assert.equal((await ok('GET', '/v1/amc/workflows?instanceId=amclife1')).items[0].drift, 'missing_at_amc');

  assert.deepEqual(await ok('DELETE', '/v1/amc/workflows/amclife1/overlap_weekly'), {
    workflowId: 'overlap_weekly',
    amc: 'absent_at_amc',
  });
  assert.equal((await call('GET', '/v1/amc/workflows/amclife1/overlap_weekly')).statusCode, 404);
  assert.equal((await call('DELETE', '/v1/amc/workflows/amclife1/overlap_weekly')).statusCode, 404);
  assert.equal((await call('PUT', '/v1/amc/workflows/amclife1/nope', { sqlQuery: 'SELECT 1' })).statusCode, 404);
  const badPolicy = await call('POST', '/v1/amc/workflows', {
    instanceId: 'amclife1',
    workflowId: 'w2',
    sqlQuery: 'SELECT 1',
    dataGapPolicy: 'sometimes',
  });
  assert.equal(badPolicy.statusCode, 400);
  assert.match(badPolicy.json().message, /dataGapPolicy/);
});

test("deleting a workflow a schedule runs is refused with AMC's error; after the schedule goes, it can go", async () => {
  await ok('POST', '/v1/amc/workflows', { instanceId: 'amclife1', workflowId: 'doomed', sqlQuery: 'SELECT 1' });
  await ok('POST', '/v1/amc/schedules', {
    instanceId: 'amclife1',
    scheduleId: 'doomed_daily',
    workflowId: 'doomed',
    aggregationPeriod: 'Daily',
    aggregationHourUtc: 3,
  });
  const refused = await call('DELETE', '/v1/amc/workflows/amclife1/doomed');
  assert.equal(refused.statusCode, 409, refused.body);
  assert.match(
    refused.json().message,
    /^AMC refused to delete workflow doomed: Workflow doomed cannot be deleted because it is used by schedule\(s\) doomed_daily/,
  );
  assert.deepEqual(refused.json().details.amc.code, '400', "AMC's own error body is carried");
  assert.ok(sandbox.state.amcWorkflows.has('amclife1|doomed'), 'AMC still has it');
  assert.equal((await call('GET', '/v1/amc/workflows/amclife1/doomed')).statusCode, 200, 'and so do we');
  assert.equal((await call('DELETE', '/v1/amc/schedules/amclife1/doomed_daily')).statusCode, 200);
  assert.equal(sandbox.state.amcSchedules.size, 0);
  assert.equal((await call('DELETE', '/v1/amc/workflows/amclife1/doomed')).statusCode, 200);
  assert.ok(!sandbox.state.amcWorkflows.has('amclife1|doomed'));
  const orphan = await call('POST', '/v1/amc/schedules', {
    instanceId: 'amclife1',
    scheduleId: 's',
    workflowId: 'doomed',
    aggregationPeriod: 'Daily',
  });
  assert.equal(orphan.statusCode, 404, 'a schedule needs a saved workflow');
});

test('a weekly schedule runs three times over three simulated weeks, and each run is loaded exactly once', async () => {
  await ok('POST', '/v1/amc/workflows', {
    instanceId: 'amclife1',
    workflowId: 'path_to_conversion',
    sqlQuery: 'SELECT campaign, SUM(conversions) FROM conversions GROUP BY 1',
  });
  const schedule = await ok('POST', '/v1/amc/schedules', {
    instanceId: 'amclife1',
    scheduleId: 'ptc_weekly',
    workflowId: 'path_to_conversion',
    aggregationPeriod: 'Weekly',
    aggregationHourUtc: 5,
    aggregationStartDay: 'Tuesday',
  });
  assert.deepEqual(
    [schedule.aggregationPeriod, schedule.aggregationStartDay, schedule.aggregationHourUtc, schedule.enabled],
    ['Weekly', 'Tuesday', 5, true],
  );
  assert.deepEqual(
    { ...sandbox.state.amcSchedules.get('amclife1|ptc_weekly'), lastRunAt: 0, headers: {} },
    {
      instanceId: 'amclife1',
      scheduleId: 'ptc_weekly',
      workflowId: 'path_to_conversion',
      aggregationPeriod: 'Weekly',
      aggregationHourUtc: 5,
      aggregationStartDay: 'Tuesday',
      scheduleEnabled: true,
      lastRunAt: 0,
      headers: {},
    },
    'AMC has the schedule as sent',
  );
  const scheduledRuns = () =>
    [...sandbox.state.amcExecutions.values()]
      .filter((e) => e.scheduleId === 'ptc_weekly')
      .sort((a, b) => a.createdAt - b.createdAt);
  for (let week = 1; week <= 3; week++) {
    sandbox.state.clockOffsetMs += 7 * DAY;
    await eventually(
      async () => {
        await tick();
        const done = await pg
          .db('amc_executions')
          .where({ schedule_id: 'ptc_weekly', status: 'completed' })
          .count<{ c: string }[]>('* as c');
        return Number(done[0]!.c) === week ? true : undefined;
      },
      { what: `week ${week}'s run loaded`, timeoutMs: 20_000, intervalMs: 50 },
    );
    assert.equal(scheduledRuns().length, week, 'AMC started one run a week');
  }
  // More ticks, and a discovery that looks back over everything again, find nothing new.
  await pg.db('amc_schedules').update({ discovered_until: new Date(0) });
  for (let k = 0; k < 3; k++) await tick();

  const ours = await pg.db('amc_executions').where({ workflow_id: 'path_to_conversion' }).orderBy('submitted_at');
  assert.equal(ours.length, 3, 'three runs recorded, once each');
  const runs = scheduledRuns();
  for (const [k, e] of ours.entries()) {
    const amc = runs[k]!;
    assert.deepEqual(
      [e.origin, e.schedule_id, e.status, e.amc_execution_id],
      ['scheduled', 'ptc_weekly', 'completed', amc.workflowExecutionId],
    );
    // A week ending at the run time, Tuesday 05:00 UTC.
    assert.equal(new Date(`${e.time_window_end}Z`).getUTCDay(), 2);
    assert.equal(Date.parse(`${e.time_window_end}Z`) - Date.parse(`${e.time_window_start}Z`), 7 * DAY);
    assert.equal(e.row_count, expectedRows(amc).length);
    assert.deepEqual(await storedRows(e.id), expectedRows(amc), `run ${k + 1}: the rows AMC produced`);
  }
  const loads = await chRows(
    `SELECT execution_id, count() AS n FROM amc_execution_loads FINAL WHERE workflow_id = 'path_to_conversion' GROUP BY execution_id`,
  );
  assert.equal(loads.length, 3);
  const total = await chRows(`SELECT count() AS n FROM amc_results FINAL WHERE workflow_id = 'path_to_conversion'`);
  assert.equal(
    Number(total[0]!.n),
    runs.reduce((s, e) => s + expectedRows(e).length, 0),
  );
  const latest = await chRows(
    `SELECT toString(time_window_end) AS w, count() AS n FROM amc_results_latest WHERE workflow_id = 'path_to_conversion' GROUP BY w ORDER BY w`,
  );
  assert.deepEqual(
    latest.map((r) => Number(r.n)),
    runs.map((e) => expectedRows(e).length),
    'one window per week in the view',
  );
  const detail = await ok('GET', '/v1/amc/schedules/amclife1/ptc_weekly');
  assert.deepEqual(detail.executions, { completed: 3 });
  const history = await ok('GET', '/v1/amc/executions?scheduleId=ptc_weekly');
  assert.equal(history.items.length, 3);

  // Disabled, the schedule runs no more; enabled again, it does not catch up on the missed week.
  await ok('PUT', '/v1/amc/schedules/amclife1/ptc_weekly', { enabled: false });
  assert.equal(sandbox.state.amcSchedules.get('amclife1|ptc_weekly')!.scheduleEnabled, false);
  sandbox.state.clockOffsetMs += 7 * DAY;
  await tick();
  assert.equal(scheduledRuns().length, 3);
  await ok('PUT', '/v1/amc/schedules/amclife1/ptc_weekly', { enabled: true });
  await tick();
  assert.equal(scheduledRuns().length, 3, 'no back-fill of the week it was off');
  await ok('DELETE', '/v1/amc/schedules/amclife1/ptc_weekly');
});

test("a schedule's runs are not lost: adopted after a crash, found after deletion, loaded however late, in AMC's format", async () => {
  await ok('POST', '/v1/amc/workflows', {
    instanceId: 'amclife1',
    workflowId: 'late_runs',
    sqlQuery: 'SELECT 1',
    outputFormat: 'PARQUET',
  });
  // AMC made the schedule, but a crash kept us from recording it: creating it again adopts AMC's.
  sandbox.state.amcSchedules.set('amclife1|late_daily', {
    instanceId: 'amclife1',
    scheduleId: 'late_daily',
    workflowId: 'late_runs',
    aggregationPeriod: 'Daily',
    aggregationHourUtc: 2,
    aggregationStartDay: 'Monday',
    scheduleEnabled: true,
    lastRunAt: sandbox.state.now().getTime(),
    headers: { advertiserId: 'ENT1', marketplaceId: 'ATVPDKIKX0DER' },
  });
  const adopted = await call('POST', '/v1/amc/schedules', {
    instanceId: 'amclife1',
    scheduleId: 'late_daily',
    workflowId: 'late_runs',
    aggregationPeriod: 'Daily',
    aggregationHourUtc: 3,
  });
  assert.equal(adopted.statusCode, 201, adopted.body);
  assert.equal(sandbox.state.amcSchedules.get('amclife1|late_daily')!.aggregationHourUtc, 3, 'ours now, at AMC too');
  // AMC runs it, and the schedule is deleted before adsync looked: the run is still found.
  sandbox.state.clockOffsetMs += DAY;
  await ok('DELETE', '/v1/amc/schedules/amclife1/late_daily');
  const [run] = await pg.db('amc_executions').where({ workflow_id: 'late_runs' });
  assert.equal(run?.origin, 'scheduled', 'found while deleting');
  // adsync was away long enough that the run finished long ago: it is loaded, not given up.
  await new Promise((r) => setTimeout(r, 400));
  const late = { ...deps, executionTimeoutMs: 1 };
  await amcTick(late, { maxPolls: 200, minSpacingMs: 0 });
  const done = await pg.db('amc_executions').where({ id: run.id }).first();
  assert.equal(done.status, 'completed', done.failure_reason);
  // The workflow's on-demand format is Parquet; the schedule's run wrote CSV, and was read as CSV.
  assert.deepEqual(await storedRows(run.id), expectedRows(atAmc(run.amc_execution_id)));
});

test("AMC's in-flight limit counts a schedule's runs: an on-demand execution waits for a free slot", async () => {
  sandbox.setFaults({ amcExecutionMs: 3000 });
  try {
    await ok('POST', '/v1/amc/workflows', { instanceId: 'amclife2', workflowId: 'daily_reach', sqlQuery: 'SELECT 1' });
    await ok('POST', '/v1/amc/schedules', {
      instanceId: 'amclife2',
      scheduleId: 'reach_daily',
      workflowId: 'daily_reach',
      aggregationPeriod: 'Daily',
      aggregationHourUtc: 0,
    });
    sandbox.state.clockOffsetMs += 10 * DAY;
    await tick();
    const inFlight = await pg
      .db('amc_executions')
      .where({ instance_id: 'amclife2', origin: 'scheduled' })
      .whereIn('status', ['pending', 'running']);
    assert.equal(inFlight.length, 10, "ten of the schedule's runs are in flight");
    const r = await ok('POST', '/v1/amc/executions', {
      workflowId: 'daily_reach',
      timeWindowStart: amcDate('2025-01-01T00:00:00'),
      timeWindowEnd: amcDate('2025-01-02T00:00:00'),
    });
    assert.equal(r.status, 'queued', 'no slot while the schedule holds all ten');
    const e = await eventually(
      async () => {
        await tick();
        const x = await ok('GET', `/v1/amc/executions/${r.id}`);
        return x.status === 'completed' ? x : undefined;
      },
      { what: 'the on-demand execution, after the scheduled ones', timeoutMs: 30_000, intervalMs: 100 },
    );
    const submitted = new Date(e.submittedAt).getTime();
    const firstDone = await pg
      .db('amc_executions')
      .where({ instance_id: 'amclife2', origin: 'scheduled' })
      .min('completed_at as t')
      .first();
    assert.ok(submitted >= new Date(firstDone!.t).getTime(), 'submitted only once a scheduled run had finished');
    await ok('DELETE', '/v1/amc/schedules/amclife2/reach_daily');
  } finally {
    sandbox.setFaults({ amcExecutionMs: 200 });
  }
});

test('data gaps follow the workflow policy: run anyway (partial), fail with the reason, or wait and re-run when the gap closes', async () => {
  const window = { timeWindowStart: amcDate('2025-03-01T00:00:00'), timeWindowEnd: amcDate('2025-03-08T00:00:00') };
  sandbox.setFaults({
    amcDataGaps: [{ startTime: amcDate('2025-03-03T00:00:00'), endTime: amcDate('2025-03-04T12:00:00') }],
  });
  const gap = {
    startTime: amcDate('2025-03-03T00:00:00'),
    endTime: amcDate('2025-03-04T12:00:00'),
    reason: 'DATA_NOT_AVAILABLE',
  };
  try {
    for (const policy of ['run_anyway', 'fail', 'wait_and_rerun'])
      await ok('POST', '/v1/amc/workflows', {
        instanceId: 'amclife2',
        workflowId: `gap_${policy}`,
        sqlQuery: 'SELECT 1',
        dataGapPolicy: policy,
      });
    const until = (id: string, want: string[]) =>
      eventually(
        async () => {
          await tick();
          const x = await ok('GET', `/v1/amc/executions/${id}`);
          return want.includes(x.status) ? x : undefined;
        },
        { what: `execution ${id} ${want}`, timeoutMs: 20_000, intervalMs: 50 },
      );

    // run_anyway: AMC runs on the data there is; the result is loaded, marked partial with the gap.
    const anyway = await ok('POST', '/v1/amc/executions', { workflowId: 'gap_run_anyway', ...window });
    const a = await until(anyway.id, ['completed']);
    assert.equal(a.partial, true);
    assert.deepEqual(a.dataGaps, [gap]);
    const amcA = atAmc(a.amcExecutionId);
    assert.deepEqual(await storedRows(a.id), expectedRows(amcA), 'the partial rows AMC produced');
    assert.ok(
      expectedRows(amcA).every(
        (r, k) =>
          Number(r.impressions) < Number(amcResultRows(sandbox.state, { ...amcA, gaps: [] })[k]!.impressions) ||
          Number(r.impressions) === 0,
      ),
      'short by the gap',
    );

    // fail: AMC would wait for the data; adsync cancels and fails with the gap named.
    const failing = await ok('POST', '/v1/amc/executions', { workflowId: 'gap_fail', ...window });
    const f = await until(failing.id, ['failed']);
    assert.equal(
      f.failureReason,
      `the window has AMC data gaps (${gap.startTime}–${gap.endTime} (DATA_NOT_AVAILABLE)); the workflow's data-gap policy is fail`,
    );
    assert.equal(atAmc(f.amcExecutionId).cancelled, true, 'cancelled at AMC, freeing its slot');
    assert.deepEqual(await storedRows(f.id), [], 'nothing loaded');

    // wait_and_rerun: the window is handed to re-runs until the gap closes; the complete result is the window's latest.
    const waiting = await ok('POST', '/v1/amc/executions', { workflowId: 'gap_wait_and_rerun', ...window });
    await until(waiting.id, ['replaced']);
    await eventually(
      async () => {
        await tick();
        const n = await pg
          .db('amc_executions')
          .where({ workflow_id: 'gap_wait_and_rerun', status: 'replaced' })
          .count<{ c: string }[]>('* as c');
        return Number(n[0]!.c) >= 2 ? true : undefined;
      },
      { what: 'a re-run still finding the gap open and waiting again', timeoutMs: 20_000, intervalMs: 50 },
    );
    sandbox.setFaults({ amcDataGaps: [] });
    const done = await eventually(
      async () => {
        await tick();
        return pg.db('amc_executions').where({ workflow_id: 'gap_wait_and_rerun', status: 'completed' }).first();
      },
      { what: 'the re-run after the gap closed', timeoutMs: 20_000, intervalMs: 50 },
    );
    assert.deepEqual([done.origin, done.partial, done.data_gaps], ['rerun', false, []]);
    const chain = await pg.db('amc_executions').where({ workflow_id: 'gap_wait_and_rerun' }).orderBy('created_at');
    assert.deepEqual(
      chain.slice(0, -1).map((e) => e.status),
      chain.slice(0, -1).map(() => 'replaced'),
    );
    for (const e of chain.slice(0, -1)) {
      assert.equal(atAmc(e.amc_execution_id).cancelled, true);
      assert.equal(e.cancel_requested_at, null, 'AMC confirmed the cancellation, so the slot is free');
    }
    assert.match(chain[0].failure_reason, /policy wait_and_rerun frees the slot and runs the window again/);
    const amcDone = atAmc(done.amc_execution_id);
    assert.deepEqual(await storedRows(done.id), expectedRows(amcDone));
    const latest = await chRows(
      `SELECT execution_id, partial, count() AS n FROM amc_results_latest WHERE workflow_id = 'gap_wait_and_rerun' GROUP BY execution_id, partial`,
    );
    assert.deepEqual(
      latest.map((r) => [r.execution_id, Number(r.partial), Number(r.n)]),
      [[done.id, 0, expectedRows(amcDone).length]],
    );
  } finally {
    sandbox.setFaults({ amcDataGaps: [] });
  }
});

test('a result with a gap under wait_and_rerun is loaded partial, then replaced in the latest view by the re-run', async () => {
  // Submitted under run_anyway (AMC told to ignore gaps), the policy changed to wait_and_rerun before it finished:
  // the partial result is loaded and kept in history, and the window runs again until the gap closes.
  const window = { timeWindowStart: amcDate('2025-04-01T00:00:00'), timeWindowEnd: amcDate('2025-04-03T00:00:00') };
  sandbox.setFaults({
    amcDataGaps: [{ startTime: amcDate('2025-04-02T00:00:00'), endTime: amcDate('2025-04-02T06:00:00') }],
  });
  try {
    const first = await ok('POST', '/v1/amc/executions', { workflowId: 'gap_run_anyway', ...window });
    await ok('PUT', '/v1/amc/workflows/amclife2/gap_run_anyway', { dataGapPolicy: 'wait_and_rerun' });
    const partial = await eventually(
      async () => {
        await tick();
        return pg.db('amc_executions').where({ id: first.id, status: 'completed' }).first();
      },
      { what: 'the partial result', timeoutMs: 20_000, intervalMs: 50 },
    );
    assert.equal(partial.partial, true);
    assert.match(partial.warnings.at(-1), /the window runs again in \d+ min and the re-run replaces this result/);
    const partialLatest = await chRows(
      `SELECT DISTINCT execution_id FROM amc_results_latest WHERE workflow_id = 'gap_run_anyway' AND time_window_start = toDateTime('${amcDate('2025-04-01 00:00:00')}')`,
    );
    assert.deepEqual(
      partialLatest.map((r) => r.execution_id),
      [first.id],
      'until then the partial result serves the window',
    );
    sandbox.setFaults({ amcDataGaps: [] });
    const rerun = await eventually(
      async () => {
        await tick();
        return pg.db('amc_executions').where({ rerun_of: first.id, status: 'completed' }).first();
      },
      { what: 'the re-run', timeoutMs: 20_000, intervalMs: 50 },
    );
    assert.deepEqual([rerun.origin, rerun.partial], ['rerun', false]);
    assert.deepEqual(await storedRows(rerun.id), expectedRows(atAmc(rerun.amc_execution_id)));
    const latest = await chRows(
      `SELECT DISTINCT execution_id FROM amc_results_latest WHERE workflow_id = 'gap_run_anyway' AND time_window_start = toDateTime('${amcDate('2025-04-01 00:00:00')}')`,
    );
    assert.deepEqual(
      latest.map((r) => r.execution_id),
      [rerun.id],
      'the complete result serves the window',
    );
    const history = await chRows(
      `SELECT execution_id, partial FROM amc_execution_loads FINAL WHERE workflow_id = 'gap_run_anyway' AND time_window_start = toDateTime('${amcDate('2025-04-01 00:00:00')}') ORDER BY completed_ms`,
    );
    assert.deepEqual(
      history.map((r) => [r.execution_id, Number(r.partial)]),
      [
        [first.id, 1],
        [rerun.id, 0],
      ],
      'both kept in history',
    );
  } finally {
    sandbox.setFaults({ amcDataGaps: [] });
  }
});

test("the AMC dashboard has a panel per saved workflow, and each panel shows that workflow's latest window on 18.16 and on today's engine", async () => {
  const dash = await ok('GET', '/v1/amc/dashboard');
  const saved = await pg.db('amc_workflows').orderBy(['instance_id', 'workflow_id']);
  assert.deepEqual(
    dash.panels.map((p: { title: string }) => p.title),
    saved.map((w) => `${w.workflow_id} (${w.instance_id})`),
  );
  const panel = dash.panels.find((p: { title: string }) => p.title === 'path_to_conversion (amclife1)');
  const sql: string = panel.targets[0].rawSql;
  const server = await chRows(sql);
  const newest = [...sandbox.state.amcExecutions.values()]
    .filter((e) => e.scheduleId === 'ptc_weekly')
    .sort((a, b) => b.createdAt - a.createdAt)[0]!;
  const want = amcResultRows(sandbox.state, newest);
  assert.equal(server.length, want.length);
  assert.deepEqual(
    server.map((r) => [r.campaign, Number(r.impressions), Number(r.reach), Number(r.partial)]),
    want.map((r) => [r.campaign, r.impressions, r.reach, 0]),
    "the newest week's rows, numbers as numbers",
  );
  // The same panels on chDB, over the same data.
  const setup = readMigrations(join(MIGRATIONS_DIR, 'clickhouse')).flatMap((m) => splitStatements(m.up));
  const inserts = [];
  for (const table of ['amc_results', 'amc_execution_loads'])
    inserts.push({
      table,
      rows: await (await ch.ch.client.query({ query: `SELECT * FROM ${table}`, format: 'JSONEachRow' })).text(),
    });
  const queries = dash.panels.map((p: { title: string; targets: { rawSql: string }[] }) => ({
    id: p.title,
    sql: p.targets[0]!.rawSql,
  }));
  const answer = await runOnChdb({ database: 'adsync', setup, inserts, queries });
  assert.deepEqual(
    answer.setup.filter((s) => s.error),
    [],
  );
  for (const q of queries) {
    const today = answer.results[q.id]!;
    assert.ok('rows' in today, `${q.id} on ${answer.engine}: ${'error' in today ? today.error : ''}`);
    const old = await chRows(q.sql);
    assert.deepEqual(
      JSON.parse(JSON.stringify(today.rows, (_k, v) => (typeof v === 'number' ? String(v) : v))),
      JSON.parse(JSON.stringify(old, (_k, v) => (typeof v === 'number' ? String(v) : v))),
      `${q.id}: the same on both engines`,
    );
  }
});
