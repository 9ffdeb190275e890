import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { claimDue } from '@adsync/report-poller/poll-tick';
import { requestReports, columnsHash, reaskLapsedRequests } from '@adsync/shared/reports/request-reports';
import {
  claimLapsedRequests,
  markDeferred,
  markFailed,
  markRequested,
  recordPlanned,
  renewRequestHold,
} from '@adsync/shared/reports/pending-reports';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

let sandbox: Sandbox;
let pg: FreshPostgres;
let clients: AmazonClients;
let profileId: string;
const log = testLogger('requester');
const tiers = [{ name: 'recent', fromDaysAgo: 3, toDaysAgo: 1, everyDays: 1 }];

before(async () => {
  sandbox = await startSandbox({ seed: 5, scale: { profiles: 1 }, faults: { reportGenerationMs: 600_000 } });
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  const box = createSecretBox(randomBytes(32));
  const [{ id }] = await pg.db('accounts').insert({ company_name: 'r' }).returning('id');
  await storeCredentials(pg.db, box, id, SANDBOX_ACCOUNT_CREDENTIALS);
  profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  await pg.db('profiles').insert({
    profile_id: profileId,
    account_id: id,
    country_code: 'US',
    currency_code: 'USD',
    timezone: 'America/Los_Angeles',
  });
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
});
after(async () => {
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

/** A report recorded as `requesting` under a holder, as a run records it before asking Amazon. */
async function recordHeld(reportType: string, daysAgo: number, holder: string, runId = randomUUID()): Promise<string> {
  const spec = REPORT_TYPES[reportType]!;
  const d = new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  const id = await recordPlanned(pg.db, {
    owner: { profileId },
    reportType,
    adProduct: spec.adProduct,
    startDate: d,
    endDate: d,
    columns: spec.columns,
    columnsHash: columnsHash(spec.columns),
    tier: 'recent',
    runId,
    holder,
  });
  assert.ok(id, `${reportType} ${d} recorded`);
  return id;
}

test('asks once: a second run finds the report in flight and asks Amazon nothing', async () => {
  const first = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ['spCampaigns', 'sdCampaigns'], tiers },
  );
  assert.equal(first.requested, 2);
  const created = sandbox.state.counters.reportsCreated;
  const second = await requestReports(
    { db: pg.db, clients, log },
    { reportTypes: ['spCampaigns', 'sdCampaigns'], tiers: [{ ...tiers[0]!, name: 'recent-again' }] },
  );
  assert.equal(second.planned, 2);
  assert.equal(second.alreadyInFlight, 2);
  assert.equal(second.requested, 0);
  assert.equal(sandbox.state.counters.reportsCreated, created, 'Amazon was not asked again');
  const outbox = await pg.db('event_outbox').where({ topic: 'report.requested' }).count<{ c: string }[]>('* as c');
  assert.equal(Number(outbox[0]!.c), 2, 'one report.requested per recorded report, in the same transaction');
});

test("a run that died after Amazon created the report adopts Amazon's id from the 425 instead of asking twice", async () => {
  // Amazon has the report, our record says `requesting` (the process died before storing the answer).
  const spec = REPORT_TYPES.spTargeting!;
  const today = new Date().toISOString().slice(0, 10);
  // The dead run's record holds no lease (as every row from before leases did): it counts as lapsed.
  const runAt = new Date(`${today}T12:00:00Z`);
  const start = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
  const { createReport } = await import('@adsync/shared/amazon/reporting');
  const { client } = await clients.forProfile(profileId);
  const made = await createReport(client, profileId, { reportTypeId: 'spTargeting', startDate: start, endDate: start });
  const [row] = await pg
    .db('pending_amazon_reports')
    .insert({
      profile_id: profileId,
      report_type: 'spTargeting',
      ad_product: spec.adProduct,
      start_date: start,
      end_date: start,
      columns: spec.columns,
      columns_hash: columnsHash(spec.columns),
      status: 'requesting',
      updated_at: new Date(runAt.getTime() - 5 * 60_000),
    })
    .returning('id');
  const summary = await requestReports({ db: pg.db, clients, log }, { reportTypes: [], tiers: [], now: runAt });
  assert.equal(summary.retriedStale, 1);
  assert.equal(summary.adoptedDuplicates, 1);
  const after = await pg.db('pending_amazon_reports').where({ id: row.id }).first();
  assert.equal(after.status, 'pending');
  assert.equal(after.amazon_report_id, made.reportId);
  assert.equal(after.duplicate_of_existing, true);
});

test("a column Amazon rejects fails that report with Amazon's reason, and only that one", async () => {
  const real = REPORT_TYPES.sbCampaigns!.columns;
  REPORT_TYPES.sbCampaigns!.columns = [...real, 'sales14d'];
  try {
    const s = await requestReports(
      { db: pg.db, clients, log },
      { reportTypes: ['sbCampaigns'], tiers: [{ name: 'cols', fromDaysAgo: 5, toDaysAgo: 5, everyDays: 1 }] },
    );
    assert.equal(s.failed.length, 1);
    assert.match(s.failed[0]!.reason, /invalid values: \(sales14d\)/);
  } finally {
    REPORT_TYPES.sbCampaigns!.columns = real;
  }
});

test('two poller replicas never claim the same report in one spacing window', async () => {
  await pg
    .db('pending_amazon_reports')
    .whereIn('status', ['pending', 'processing'])
    .update({ next_poll_at: pg.db.fn.now() });
  const due = Number(
    (
      await pg
        .db('pending_amazon_reports')
        .whereIn('status', ['pending', 'processing'])
        .count<{ c: string }[]>('* as c')
    )[0]!.c,
  );
  assert.ok(due >= 3);
  const [a, b] = await Promise.all([
    claimDue(pg.db, { maxReports: 2, minSpacingMs: 10_000, maxPolls: 100 }),
    claimDue(pg.db, { maxReports: 2, minSpacingMs: 10_000, maxPolls: 100 }),
  ]);
  const ids = [...a, ...b].map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'disjoint claims');
  assert.ok(a.length <= 2 && b.length <= 2, 'at most N per tick');
  const again = await claimDue(pg.db, { maxReports: 10, minSpacingMs: 10_000, maxPolls: 100 });
  assert.ok(
    again.every((r) => !ids.includes(r.id)),
    'a claimed report is not due again within the spacing',
  );
});

test('a report whose asker died mid-request is asked again once its hold lapses, with no new run; a live hold is left alone', async () => {
  // Two processes recorded a report each and were killed before asking Amazon.
  const lapsedId = await recordHeld('spAdvertisedProduct', 20, 'dead-1');
  const heldId = await recordHeld('spAdvertisedProduct', 21, 'alive-2');
  await pg
    .db('pending_amazon_reports')
    .where({ id: lapsedId })
    .update({ request_lease_until: pg.db.raw("now() - interval '1 second'") });
  const created = sandbox.state.counters.reportsCreated;
  const first = await reaskLapsedRequests({ db: pg.db, clients, log });
  assert.equal(first.retriedStale, 1, 'only the lapsed hold is taken');
  assert.equal(first.requested, 1);
  assert.equal(sandbox.state.counters.reportsCreated, created + 1);
  const asked = await pg.db('pending_amazon_reports').where({ id: lapsedId }).first();
  assert.equal(asked.status, 'pending');
  assert.ok(asked.amazon_report_id);
  const event = await pg.db('event_outbox').where({ topic: 'report.requested', event_key: lapsedId });
  assert.equal(event.length, 1, 'announced once');
  assert.equal(
    (await pg.db('pending_amazon_reports').where({ id: heldId }).first()).status,
    'requesting',
    'a hold still running is not asked over its holder',
  );
  assert.equal(await renewRequestHold(pg.db, heldId, 'alive-2'), true, 'a live holder renews its hold');
  const second = await reaskLapsedRequests({ db: pg.db, clients, log });
  assert.equal(second.retriedStale, 0, 'nothing lapsed is left');
  assert.equal(sandbox.state.counters.reportsCreated, created + 1);
});

test('a slow asker whose hold lapsed neither asks again nor fails or defers what another process took and answered', async () => {
  const spec = REPORT_TYPES.spSearchTerm!;
  const d = new Date(Date.now() - 25 * 86_400_000).toISOString().slice(0, 10);
  const id = await recordHeld('spSearchTerm', 25, 'slow-1');
  // The slow asker's request outlives its hold; another process takes the report over.
  await pg
    .db('pending_amazon_reports')
    .where({ id })
    .update({ request_lease_until: pg.db.raw("now() - interval '1 second'") });
  const taken = await claimLapsedRequests(pg.db, { holder: 'other-2', limit: 100, owner: { profileId } });
  assert.ok(
    taken.some((t) => t.id === id),
    'taken over',
  );
  assert.equal(await renewRequestHold(pg.db, id, 'slow-1'), false, 'the slow asker holds it no more');
  assert.equal(await renewRequestHold(pg.db, id, 'other-2'), true);
  const event = {
    profileId,
    dspAccountId: null,
    reportType: 'spSearchTerm',
    adProduct: spec.adProduct,
    startDate: d,
    endDate: d,
    columns: spec.columns,
    runId: null,
  };
  assert.equal(await markRequested(pg.db, id, { reportId: 'amz-1', duplicate: false }, event), true);
  // The slow asker's answer comes late: it records nothing, and its failure or deferral changes nothing.
  assert.equal(await markRequested(pg.db, id, { reportId: 'amz-1', duplicate: true }, event), false);
  await markFailed(pg.db, id, 'the slow request failed', true, 'slow-1');
  await markDeferred(pg.db, id, 'the slow request was throttled', 'slow-1');
  const row = await pg.db('pending_amazon_reports').where({ id }).first();
  assert.deepEqual([row.status, row.amazon_report_id, row.failure_reason], ['pending', 'amz-1', null]);
  const announced = await pg.db('event_outbox').where({ topic: 'report.requested', event_key: id });
  assert.equal(announced.length, 1, 'announced once');
});

test('a deferred request backs off: each deferral holds it twice as long, at most an hour', async () => {
  const id = await recordHeld('spTargeting', 26, 'asker');
  const heldFor = async () =>
    Number(
      (
        await pg.db.raw(
          `select extract(epoch from request_lease_until - now()) as s from pending_amazon_reports where id = ?`,
          [id],
        )
      ).rows[0].s,
    );
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    await markDeferred(pg.db, id, 'throttled', 'asker');
    seen.push(Math.round((await heldFor()) / 60));
  }
  assert.deepEqual(seen, [1, 2, 4, 8, 16, 32, 60, 60], 'minutes held after each deferral');
  const row = await pg.db('pending_amazon_reports').where({ id }).first();
  assert.deepEqual([row.status, row.request_attempts], ['requesting', 8]);
});
