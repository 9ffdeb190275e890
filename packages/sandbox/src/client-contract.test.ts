// Every Amazon call our client can make is in docs/amazon-contract.md, and every row there is a
// call the client makes: the client is driven through each of its calls against the sandbox and
// the sandbox's request log is matched against the table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from './server.ts';
import { findOperation } from '@adsync/amazon-models/operations';
import { sandboxClient } from './test-client.ts';
import {
  ENTITY_ENDPOINTS,
  budgetRuleCampaigns,
  listEntities,
  listProfiles,
  type EntityKind,
} from '@adsync/shared/amazon/entities';
import { EXPORT_MEDIA_TYPES, exportEntities, type ExportKind } from '@adsync/shared/amazon/exports';
import { createReport, getReportStatus } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import {
  cancelExecution,
  createExecution,
  createSchedule,
  deleteSchedule,
  deleteWorkflow,
  downloadUrls,
  executionStatus,
  getSchedule,
  listExecutions,
  listSchedules,
  listWorkflows,
  updateSchedule,
  upsertWorkflow,
} from '@adsync/shared/amazon/amc';
import {
  archiveSubscription,
  createSubscription,
  getSubscription,
  listSubscriptions,
} from '@adsync/shared/amazon/marketing-stream';
import { amcDate } from '@adsync/shared/testing/amc-calendar';

const table = readFileSync(fileURLToPath(new URL('../../../docs/amazon-contract.md', import.meta.url)), 'utf8');
const section = table.slice(table.indexOf('## Calls adsync makes'), table.indexOf('## Differences'));
const rows = [...section.matchAll(/^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \|/gm)].map((m) => ({
  method: m[1]!,
  path: m[2]!,
}));
const PRESIGNED = '{presigned S3 URL}';
const matches = (row: { method: string; path: string }, call: { method: string; path: string }) => {
  if (row.method !== call.method) return false;
  if (row.path === PRESIGNED) return call.path.startsWith('/_download/');
  return new RegExp(`^${row.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(call.path);
};

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({
    seed: 23,
    scale: { profiles: 1 },
    faults: { reportGenerationMs: 20, amcExecutionMs: 40 },
  });
});
after(() => sandbox?.close());

test('the contract table lists what it should: a row per call, each with a reference', () => {
  assert.ok(rows.length >= 20, `parsed ${rows.length} rows`);
  for (const line of section.split('\n').filter((l) => /^\| (GET|POST|PUT|DELETE) /.test(l)))
    assert.match(
      line,
      /`(en-us\/[^`]+|[A-Za-z]+_prod_3p|offline-report-prod-3p|ad_api\/[^`]+\.py)`|Sponsored Display/,
      `a reference for: ${line.slice(0, 80)}`,
    );
});

test('every call the client makes is in the table, and every row of the table is a call it makes', async () => {
  const client = sandboxClient(sandbox);
  const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  try {
    await listProfiles(client);
    await listProfiles(client, { accessLevel: 'edit' });
    for (const kind of Object.keys(ENTITY_ENDPOINTS) as EntityKind[])
      for await (const _ of listEntities(client, profileId, kind)) void _;
    for (const product of ['sp', 'sb', 'sd'] as const) {
      const [rule] = [...sandbox.state.dataset.all(product, 'budgetRule', 0)];
      assert.ok(rule, `the sandbox has a ${product} budget rule`);
      for await (const _ of budgetRuleCampaigns(client, profileId, product, rule.id)) void _;
    }
    for (const kind of Object.keys(EXPORT_MEDIA_TYPES) as ExportKind[]) {
      for await (const _ of exportEntities(client, profileId, kind, {
        adProducts: ['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY'],
        negative: [false],
        targetLevels: ['AD_GROUP'],
        pollMs: 10,
      }))
        void _;
    }
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    for (const reportTypeId of REPORT_TYPE_IDS) {
      // DSP types name the advertisers they are for (the sandbox's profile reaches one).
      const advertiserIds = reportTypeId.startsWith('dsp')
        ? sandbox.state.dataset.dspAdvertisers(0).map((a) => a.advertiserId)
        : undefined;
      const { reportId } = await createReport(client, profileId, {
        reportTypeId,
        startDate: day,
        endDate: day,
        advertiserIds,
      });
      let s = await getReportStatus(client, profileId, reportId);
      while (s.status !== 'COMPLETED') {
        await new Promise((r) => setTimeout(r, 10));
        s = await getReportStatus(client, profileId, reportId);
      }
      (await client.download(s.url!)).body.resume();
    }
    const instance = { instance_id: 'contract1', advertiser_id: 'ENTITYC', marketplace_id: 'ATVPDKIKX0DER' };
    assert.equal(
      await upsertWorkflow(client, instance, { workflowId: 'contract_wf', sqlQuery: 'SELECT 1' }),
      'created',
    );
    assert.equal(
      await upsertWorkflow(client, instance, { workflowId: 'contract_wf', sqlQuery: 'SELECT 2' }),
      'updated',
    );
    assert.deepEqual(
      (await listWorkflows(client, instance)).map((w) => w.workflowId),
      ['contract_wf'],
    );
    const schedule = {
      scheduleId: 'contract_weekly',
      workflowId: 'contract_wf',
      aggregationPeriod: 'Weekly' as const,
      aggregationHourUtc: 5,
      aggregationStartDay: 'Monday',
      scheduleEnabled: true,
    };
    await createSchedule(client, instance, schedule);
    await updateSchedule(client, instance, { ...schedule, scheduleEnabled: false });
    assert.equal((await getSchedule(client, instance, 'contract_weekly'))?.scheduleEnabled, false);
    assert.deepEqual(
      (await listSchedules(client, instance)).map((x) => x.scheduleId),
      ['contract_weekly'],
    );
    await assert.rejects(deleteWorkflow(client, instance, 'contract_wf'), /used by schedule/);
    assert.equal(await deleteSchedule(client, instance, 'contract_weekly'), 'deleted');
    await upsertWorkflow(client, instance, { workflowId: 'contract_gone', sqlQuery: 'SELECT 3' });
    assert.equal(await deleteWorkflow(client, instance, 'contract_gone'), 'deleted');
    const exec = await createExecution(client, instance, {
      workflowId: 'contract_wf',
      timeWindowType: 'EXPLICIT',
      timeWindowStart: amcDate('2025-06-01T00:00:00'),
      timeWindowEnd: amcDate('2025-06-02T00:00:00'),
      timeWindowTimeZone: 'UTC',
      outputFormat: 'CSV',
      parameterValues: {},
    });
    while ((await executionStatus(client, instance, exec)).status !== 'SUCCEEDED')
      await new Promise((r) => setTimeout(r, 10));
    const [url] = await downloadUrls(client, instance, exec);
    (await client.download(url!)).body.resume();
    const doomed = await createExecution(client, instance, {
      workflowId: 'contract_wf',
      timeWindowType: 'EXPLICIT',
      timeWindowStart: amcDate('2025-07-01T00:00:00'),
      timeWindowEnd: amcDate('2025-07-02T00:00:00'),
      timeWindowTimeZone: 'UTC',
      outputFormat: 'CSV',
      parameterValues: {},
    });
    await cancelExecution(client, instance, doomed);
    assert.deepEqual(
      (await listExecutions(client, instance, 'contract_wf', '2020-01-01T00:00:00')).map((e) => e.workflowExecutionId),
      [exec, doomed],
    );
    // A profile's subscription (/streams/subscriptions under its scope) and a DSP advertiser's
    // (/dsp/streams/subscriptions under its account).
    const owners = [
      { owner: profileId, dataSetId: 'sp-traffic' },
      {
        owner: { dspAdvertiserId: sandbox.state.dataset.dspAdvertisers(0)[0]!.advertiserId },
        dataSetId: 'adsp-traffic',
      },
    ];
    for (const [i, { owner, dataSetId }] of owners.entries()) {
      const sub = await createSubscription(client, owner, {
        clientRequestToken: `contract-token-${i}-0123456789ab`,
        dataSetId,
        destinationArn: 'arn:aws:sqs:us-east-1:123456789012:contract-queue',
      });
      assert.equal((await listSubscriptions(client, owner)).length, 1);
      // No queue behind this sandbox: confirmed by hand, so it can be archived (only ACTIVE ones can).
      sandbox.state.stream.subscriptions.get(sub.subscriptionId)!.status = 'ACTIVE';
      await archiveSubscription(client, owner, sub.subscriptionId);
      assert.equal((await getSubscription(client, owner, sub.subscriptionId)).status, 'ARCHIVED');
    }
  } finally {
    await client.close();
  }
  const calls = sandbox.state.requestLog
    .filter((e) => !e.path.startsWith('/_sandbox/'))
    .map((e) => ({ method: e.method, path: e.path }));
  const unlisted = [
    ...new Set(calls.filter((c) => !rows.some((r) => matches(r, c))).map((c) => `${c.method} ${c.path}`)),
  ];
  assert.deepEqual(unlisted, [], 'calls missing from docs/amazon-contract.md');
  const unused = rows.filter((r) => !calls.some((c) => matches(r, c))).map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(unused, [], 'rows of docs/amazon-contract.md the client never calls');
  // A call with a model is played by a declared endpoint, which model-conformance.test.ts probes.
  const played = new Set(sandbox.endpoints.map((e) => `${e.method} ${e.path}`));
  const modelled = calls.map((c) => findOperation(c.method, c.path)).filter((f) => f !== null);
  assert.ok(modelled.length > 40, `${modelled.length} calls have a model`);
  const unprobed = [...new Set(modelled.map((f) => `${f.op.method} ${f.op.path}`).filter((k) => !played.has(k)))];
  assert.deepEqual(unprobed, [], 'calls with a model that no declared endpoint plays');
});
