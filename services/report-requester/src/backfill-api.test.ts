// POST /v1/reports/backfill: a historical window for a profile, inside each report type's
// retention (en-us/guides/reporting/v3/report-types/*.md: SP 95 days, SB 60, SD 65), with
// progress on the run; what Amazon cannot serve is refused with the limit in the message.
// (The exact totals of a 60-day backfill are checked in packages/e2e/src/pipeline.test.ts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createHttpServer } from '@adsync/shared/http/server';
import { createApiKey, ensureAdminKey } from '@adsync/shared/http/api-keys';
import { addDays, localToday } from '@adsync/shared/calendar';
import { backgroundWork, freshPostgres, testLogger, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { registerRequesterApi } from './api.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

const ADMIN = 'adsk_backfill_api_admin_key_01234567';
const TZ = 'America/Los_Angeles';
let sandbox: Sandbox;
let pg: FreshPostgres;
let clients: AmazonClients;
let app: FastifyInstance;
let profileId: string;
let accountId: string;
const work = backgroundWork();
const log = testLogger('backfill');

before(async () => {
  sandbox = await startSandbox({ seed: 7, scale: { profiles: 1 }, faults: { reportGenerationMs: 600_000 } });
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  await ensureAdminKey(pg.db, ADMIN);
  const box = createSecretBox(randomBytes(32));
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'b' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  await pg.db('profiles').insert({
    profile_id: profileId,
    account_id: accountId,
    country_code: 'US',
    currency_code: 'USD',
    timezone: TZ,
  });
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  app = await createHttpServer({ name: 'report-requester', log, db: pg.db, readiness: {} });
  registerRequesterApi(app, {
    db: pg.db,
    clients,
    log,
    reportTypes: ['spCampaigns'],
    tiers: [],
    concurrency: 2,
    background: work.background,
    relay: async () => undefined,
  });
  await app.ready();
});
after(async () => {
  await work.settle();
  await app?.close();
  await clients?.close();
  await closeThenDrop(sandbox, pg);
});

const today = () => localToday(TZ, new Date());
const backfill = (body: Record<string, unknown>, key = ADMIN) =>
  app.inject({
    method: 'POST',
    url: '/v1/reports/backfill',
    headers: { authorization: `Bearer ${key}` },
    payload: body,
  });

test('a window older than a type keeps, one not yet ended, or backwards is refused with the limit', async () => {
  const t = today();
  const sb = await backfill({ profileId, reportTypes: ['sbCampaigns'], from: addDays(t, -70), to: addDays(t, -2) });
  assert.equal(sb.statusCode, 400);
  assert.match(
    sb.json().message,
    new RegExp(
      `sbCampaigns keeps 60 days: the oldest day Amazon still has is \\d{4}-\\d{2}-\\d{2}, and from ${addDays(t, -70)} is older`,
    ),
  );
  const sp = await backfill({ profileId, reportTypes: ['spCampaigns'], from: addDays(t, -100), to: addDays(t, -2) });
  assert.match(sp.json().message, /spCampaigns keeps 95 days/);
  const future = await backfill({ profileId, from: addDays(t, -3), to: t });
  assert.equal(future.statusCode, 400);
  assert.match(future.json().message, new RegExp(`has not ended yet .* the latest day is ${addDays(t, -1)}`));
  const backwards = await backfill({ profileId, from: addDays(t, -2), to: addDays(t, -5) });
  assert.equal(backwards.statusCode, 400);
  assert.match(backwards.json().message, /is after to/);
  const notADate = await backfill({ profileId, from: '2026-02-30', to: addDays(t, -2) });
  assert.equal(notADate.statusCode, 400);
  assert.equal(await pg.db('pending_amazon_reports').first(), undefined, 'nothing was planned or asked');
});

test('a valid window is planned per type in windows Amazon accepts, asked once, and its run shows progress', async () => {
  const t = today();
  const created = sandbox.state.counters.reportsCreated;
  const res = await backfill({
    profileId,
    reportTypes: ['spCampaigns', 'sbCampaigns'],
    from: addDays(t, -45),
    to: addDays(t, -2),
  });
  assert.equal(res.statusCode, 202, res.body);
  // 44 days: two windows (31 + 13) per type.
  assert.equal(res.json().planned, 4);
  const runId = res.json().runId;
  await work.settle();
  assert.equal(sandbox.state.counters.reportsCreated - created, 4, 'Amazon was asked once per window');
  const status = await app.inject({
    method: 'GET',
    url: `/v1/reports/runs/${runId}`,
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(status.statusCode, 200);
  const body = status.json();
  assert.deepEqual(
    { total: body.progress.total, in_flight: body.progress.in_flight, loaded: body.progress.loaded },
    { total: 4, in_flight: 4, loaded: 0 },
  );
  const windows = body.reports.map(
    (r: { report_type: string; start_date: string; end_date: string }) =>
      `${r.report_type} ${String(r.start_date).slice(0, 10)}`,
  );
  assert.equal(new Set(windows).size, 4);
  // The same backfill again while those are in flight asks nothing.
  const again = await backfill({
    profileId,
    reportTypes: ['spCampaigns', 'sbCampaigns'],
    from: addDays(t, -45),
    to: addDays(t, -2),
  });
  assert.equal(again.statusCode, 202);
  await work.settle();
  assert.equal(sandbox.state.counters.reportsCreated - created, 4);
  assert.equal((await pg.db('pending_amazon_reports').where({ run_id: again.json().runId })).length, 0);
});

test('an account key backfills its own profiles only', async () => {
  const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'other' }).returning('id');
  const key = (await createApiKey(pg.db, { scope: 'account', accountId: other })).key;
  const t = today();
  const res = await backfill({ profileId, from: addDays(t, -3), to: addDays(t, -2) }, key);
  assert.equal(res.statusCode, 403);
});

test('a DSP advertiser reached only through the manager account is backfilled on its own, with its DSP types, by its account only', async () => {
  // Reporting model: Amazon-Ads-AccountId names "a DSP advertiser account"; guides/reporting/dsp/creating-reports.md:
  // one advertiser per report, in the header and in filters.advertiserId.
  const advertiser = sandbox.state.dataset.dspAdvertisers(0)[0]!.advertiserId;
  await pg.db('dsp_advertisers').insert({
    advertiser_id: advertiser,
    account_id: accountId,
    name: 'linked',
    marketplace_id: 'ATVPDKIKX0DER',
    manager_account_id: 'amzn1.ads1.ma1.test',
  });
  const t = today();
  const window = { from: addDays(t, -10), to: addDays(t, -2) };
  const both = await backfill({ profileId, dspAccountId: advertiser, ...window });
  assert.equal(both.statusCode, 400);
  assert.match(both.json().message, /profileId or a dspAccountId, not both/);
  const unknown = await backfill({ dspAccountId: '999', ...window });
  assert.equal(unknown.statusCode, 404);
  const sponsored = await backfill({ dspAccountId: advertiser, reportTypes: ['spCampaigns'], ...window });
  assert.equal(sponsored.statusCode, 400);
  assert.match(sponsored.json().message, /has DSP reports only/);
  const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'not the owner' }).returning('id');
  const otherKey = (await createApiKey(pg.db, { scope: 'account', accountId: other })).key;
  assert.equal(
    (await backfill({ dspAccountId: advertiser, reportTypes: ['dspCampaign'], ...window }, otherKey)).statusCode,
    403,
  );

  const ownKey = (await createApiKey(pg.db, { scope: 'account', accountId })).key;
  const res = await backfill(
    { dspAccountId: advertiser, reportTypes: ['dspCampaign', 'spCampaigns'], ...window },
    ownKey,
  );
  assert.equal(res.statusCode, 202, res.body);
  assert.deepEqual([res.json().profiles, res.json().advertiserAccounts, res.json().planned], [0, 1, 1]);
  await work.settle();
  const asked = await pg.db('pending_amazon_reports').where({ run_id: res.json().runId });
  assert.deepEqual(
    asked.map((r) => [r.profile_id, r.dsp_account_id, r.report_type, r.status]),
    [[null, advertiser, 'dspCampaign', 'pending']],
  );
  assert.equal(sandbox.state.reports.get(asked[0].amazon_report_id)?.dspAccountId, advertiser);
  // The run is the account's: its key sees the report, with its owner.
  const run = await app.inject({
    method: 'GET',
    url: `/v1/reports/runs/${res.json().runId}`,
    headers: { authorization: `Bearer ${ownKey}` },
  });
  assert.equal(run.statusCode, 200);
  assert.deepEqual(
    run
      .json()
      .reports.map((r: { profile_id: string | null; dsp_account_id: string }) => [r.profile_id, r.dsp_account_id]),
    [[null, advertiser]],
  );
  const hidden = await app.inject({
    method: 'GET',
    url: `/v1/reports/runs/${res.json().runId}`,
    headers: { authorization: `Bearer ${otherKey}` },
  });
  assert.equal(hidden.statusCode, 404, 'to another account the run is no run at all');
});
