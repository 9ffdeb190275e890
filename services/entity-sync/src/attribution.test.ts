// Amazon Attribution end to end on Postgres, ClickHouse and the sandbox: advertisers, publishers and
// tags stored; every level of the performance report and the products report loaded exact; a later
// pull restates (the first pull of a day carries four fifths of its conversions, how-to.md: restated
// after 1, 7 and 28 days) and leaves one version of each row; a profile Amazon does not serve is
// marked, not failed; and an ingestion run carries the stage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSandbox, type Sandbox } from '@adsync/sandbox';
import { SANDBOX_ACCOUNT_CREDENTIALS } from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { activeProfiles } from '@adsync/shared/accounts/profiles';
import { addDays, localToday } from '@adsync/shared/calendar';
import {
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { deleteAndWait } from '@adsync/shared/db/clickhouse';
import { discoverProfiles } from './profiles.ts';
import { attributionWindow, syncAttribution } from './attribution.ts';
import { attributionOverview } from './attribution-store.ts';
import { runDueIngestions, startIngestion } from './ingestion.ts';
import { createHttpServer } from '@adsync/shared/http/server';
import { createApiKey } from '@adsync/shared/http/api-keys';
import { registerAttributionApi } from './attribution-api.ts';

let pg: FreshPostgres;
let ch: FreshClickHouse;
let sandbox: Sandbox;
let clients: AmazonClients;
let accountId: string;
const log = testLogger('attribution');

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  ch = await freshClickHouse();
  await migrateClickHouse(ch.ch);
  // Profiles: 0 US seller, 1 UK seller, 2 DE vendor, 3 and 7 JP (not served), 4 a DSP agency, 9 a
  // legacy Amazon Attribution profile (two advertisers).
  sandbox = await startSandbox({ seed: 47, scale: { profiles: 10, campaignsPerProfile: 1 } });
  const box = createSecretBox(randomBytes(32));
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'attribution' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  await discoverProfiles(pg.db, await clients.forAccount(accountId), accountId);
});

after(async () => {
  await clients?.close();
  await closeThenDrop(sandbox, pg);
  await ch?.drop();
});

const profileAt = async (p: number) => {
  const id = sandbox.state.dataset.profiles()[p]!.profileId;
  return (await activeProfiles(pg.db, { profileIds: [id] }))[0]!;
};

async function expected(profileId: string, request: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/_sandbox/expected/attribution`, {
    method: 'POST',
    body: JSON.stringify({ profileId, request }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { rows: Record<string, string | number>[] }).rows;
}

const q = async <T>(query: string) =>
  (await (await ch.ch.client.query({ query, format: 'JSONEachRow' })).json<T>()) as T[];

/** Sums per publisher of one profile's performance rows at a level, from ClickHouse (FINAL: one version a row). */
async function loadedByPublisher(profileId: string, level: string) {
  const rows = await q<{ publisher: string; clicks: string; purchases: string; sales: string; n: string }>(
    `SELECT publisher, sum(click_throughs) AS clicks, sum(purchases) AS purchases, sum(sales_micros) AS sales, count() AS n
       FROM attribution_performance_daily FINAL
      WHERE profile_id = '${profileId}' AND level = '${level}' GROUP BY publisher ORDER BY publisher`,
  );
  return rows.map((r) => ({
    publisher: r.publisher,
    clicks: Number(r.clicks),
    purchases: Number(r.purchases),
    sales: Number(r.sales),
    n: Number(r.n),
  }));
}

function byPublisher(rows: Record<string, string | number>[]) {
  const m = new Map<string, { publisher: string; clicks: number; purchases: number; sales: number; n: number }>();
  for (const r of rows) {
    const k = String(r.publisher ?? '');
    const e = m.get(k) ?? { publisher: k, clicks: 0, purchases: 0, sales: 0, n: 0 };
    e.clicks += Number(r['Click-throughs']);
    e.purchases += Number(r.attributedPurchases14d);
    // Cents to micros.
    e.sales += Number(r.attributedSales14d) * 10_000;
    e.n++;
    m.set(k, e);
  }
  return [...m.values()].sort((a, b) => a.publisher.localeCompare(b.publisher));
}

test('windows: a first pull backfills, later ones restate the last days, never past a report’s reach, never leaving a gap', () => {
  const o = { backfillDays: 60, restateDays: 30 };
  assert.deepEqual(attributionWindow('2026-12-07', null, 'PERFORMANCE_ADGROUP', o), {
    from: '2026-10-08',
    to: '2026-12-06',
  });
  assert.deepEqual(attributionWindow('2026-12-07', '2026-12-06', 'PRODUCTS', o), {
    from: '2026-11-07',
    to: '2026-12-06',
  });
  // Products reach 90 days back.
  assert.deepEqual(attributionWindow('2026-12-07', null, 'PRODUCTS', { backfillDays: 200, restateDays: 30 }), {
    from: '2026-09-09',
    to: '2026-12-06',
  });
  // A pause longer than a report reaches: as far back as it still serves, not just the restatement window.
  assert.deepEqual(attributionWindow('2026-12-07', '2026-08-01', 'PRODUCTS', o), {
    from: '2026-09-09',
    to: '2026-12-06',
  });
  // A pause longer than the restatement window: from the day after the last pull.
  assert.deepEqual(attributionWindow('2026-12-07', '2026-10-01', 'PERFORMANCE_CREATIVE', o), {
    from: '2026-10-02',
    to: '2026-12-06',
  });
});

test('a seller’s advertiser, publishers and tags are stored, and every level of the report loads exact after a restatement', async () => {
  const profile = await profileAt(0);
  const options = { backfillDays: 10, restateDays: 10 };
  const first = await syncAttribution(
    { db: pg.db, ch: ch.ch, log, options },
    await clients.forAccount(accountId),
    profile,
  );
  assert.equal(first.state, 'enabled');
  assert.equal(first.advertisers, 1);
  assert.deepEqual(first.failed, []);
  assert.deepEqual(first.badRows, []);
  const overview = await attributionOverview(pg.db, profile.profile_id);
  assert.equal(overview.profile?.state, 'enabled');
  assert.equal(overview.tags.length, 7, 'one tag per publisher');
  assert.ok(overview.tags.every((t) => t.publisher && t.tag.startsWith('?maas=')));
  assert.equal(sandbox.state.attributionTagged.has(profile.profile_id), true, 'the tag call that turns measurement on');

  const today = localToday(profile.timezone);
  const window = {
    startDate: addDays(today, -10).replaceAll('-', ''),
    endDate: addDays(today, -1).replaceAll('-', ''),
  };
  assert.equal(overview.profile?.pulled_through, addDays(today, -1));
  const advertiserIds = overview.advertisers[0]!.advertiser_id;
  const truth = await expected(profile.profile_id, {
    reportType: 'PERFORMANCE',
    groupBy: 'ADGROUP',
    advertiserIds,
    ...window,
  });
  // First pull: every click, four fifths of the conversions.
  const before = await loadedByPublisher(profile.profile_id, 'ad_group');
  const want = byPublisher(truth);
  assert.deepEqual(
    before.map((b) => [b.publisher, b.clicks, b.n]),
    want.map((w) => [w.publisher, w.clicks, w.n]),
  );
  assert.ok(before.reduce((n, b) => n + b.purchases, 0) < want.reduce((n, w) => n + w.purchases, 0));

  // The next day's pull takes the window again: Amazon's restated numbers replace the first ones, and
  // one creative in three is restated away (its rows must go).
  sandbox.setFaults({ restateAwayEvery: 3 });
  const second = await syncAttribution(
    { db: pg.db, ch: ch.ch, log, options },
    await clients.forAccount(accountId),
    profile,
  );
  assert.deepEqual(second.failed, []);
  for (const [level, groupBy] of [
    ['campaign', 'CAMPAIGN'],
    ['ad_group', 'ADGROUP'],
    ['creative', 'CREATIVE'],
  ] as const)
    assert.deepEqual(
      await loadedByPublisher(profile.profile_id, level),
      byPublisher(await expected(profile.profile_id, { reportType: 'PERFORMANCE', groupBy, advertiserIds, ...window })),
      level,
    );
  // Creatives restated away are gone, not merely hidden by FINAL: the older pull's rows were deleted.
  const [all] = await q<{ n: string; v: string }>(
    `SELECT count() AS n, uniqExact(version) AS v FROM attribution_performance_daily WHERE profile_id = '${profile.profile_id}' AND level = 'creative'`,
  );
  const [final] = await q<{ n: string }>(
    `SELECT count() AS n FROM attribution_performance_daily FINAL WHERE profile_id = '${profile.profile_id}' AND level = 'creative'`,
  );
  // Ten days of sixteen creatives were loaded first.
  assert.ok(Number(final!.n) < 10 * 16, 'creatives were restated away');
  assert.equal(Number(all!.n), Number(final!.n));
  assert.equal(Number(all!.v), 1);

  // Products: promoted and brand-halo measures per ASIN, exact.
  const products = await expected(profile.profile_id, { reportType: 'PRODUCTS', advertiserIds, ...window });
  const [loaded] = await q<{ n: string; sales: string; halo: string; ntb: string }>(
    `SELECT count() AS n, sum(sales_micros) AS sales, sum(halo_sales_micros) AS halo, sum(ntb_purchases) AS ntb
       FROM attribution_products_daily FINAL WHERE profile_id = '${profile.profile_id}'`,
  );
  const sum = (k: string) => products.reduce((n, r) => n + Number(r[k]), 0);
  assert.equal(Number(loaded!.n), products.length);
  assert.equal(Number(loaded!.sales), sum('attributedSales14d') * 10_000);
  assert.equal(Number(loaded!.halo), sum('brandHaloAttributedSales14d') * 10_000);
  assert.equal(Number(loaded!.ntb), sum('attributedNewToBrandPurchases14d'));
  assert.ok(sum('brandHaloAttributedSales14d') > 0 && sum('attributedSales14d') > 0);
  sandbox.setFaults({ restateAwayEvery: 0 });
  // A seller is enrolled in Brand Referral Bonus: its campaign rows carry the bonus.
  const [brb] = await q<{ b: string }>(
    `SELECT sum(brb_bonus_micros) AS b FROM attribution_performance_daily FINAL WHERE profile_id = '${profile.profile_id}' AND level = 'campaign'`,
  );
  assert.ok(Number(brb!.b) > 0);
});

test('a report Amazon refuses fails alone: the others load, and the days stay to be pulled again until every report loaded', async () => {
  const profile = await profileAt(1);
  const options = { backfillDays: 5, restateDays: 5 };
  sandbox.setFaults({ failReportTypes: ['attribution:PRODUCTS'] });
  const r = await syncAttribution({ db: pg.db, ch: ch.ch, log, options }, await clients.forAccount(accountId), profile);
  sandbox.setFaults({ failReportTypes: [] });
  assert.equal(r.state, 'enabled');
  assert.deepEqual(
    r.failed.map((f) => f.kind),
    ['PRODUCTS'],
  );
  assert.ok(r.rows > 0, 'the performance reports loaded');
  let overview = await attributionOverview(pg.db, profile.profile_id);
  assert.equal(overview.profile?.pulled_through, null, 'the mark did not move');
  assert.match(overview.profile?.reason ?? '', /could not be generated/);
  const again = await syncAttribution(
    { db: pg.db, ch: ch.ch, log, options },
    await clients.forAccount(accountId),
    profile,
  );
  assert.deepEqual(again.failed, []);
  overview = await attributionOverview(pg.db, profile.profile_id);
  assert.equal(overview.profile?.pulled_through, addDays(localToday(profile.timezone), -1));
  assert.equal(overview.profile?.reason, null);
  const [products] = await q<{ n: string }>(
    `SELECT count() AS n FROM attribution_products_daily FINAL WHERE profile_id = '${profile.profile_id}'`,
  );
  assert.ok(Number(products!.n) > 0);
});

test('a legacy Amazon Attribution profile’s two advertisers are pulled each on its own', async () => {
  const legacy = await profileAt(9);
  const r = await syncAttribution(
    { db: pg.db, ch: ch.ch, log, options: { backfillDays: 3, restateDays: 3 } },
    await clients.forAccount(accountId),
    legacy,
  );
  assert.equal(r.advertisers, 2);
  assert.deepEqual(r.failed, []);
  const [adv] = await q<{ n: string }>(
    `SELECT uniqExact(advertiser_id) AS n FROM attribution_performance_daily FINAL WHERE profile_id = '${legacy.profile_id}'`,
  );
  assert.equal(Number(adv!.n), 2);
});

test('an advertiser new to a profile gets the backfill, while the one pulled before is only restated', async () => {
  const legacy = await profileAt(9);
  const client = await clients.forAccount(accountId);
  const deps = { db: pg.db, ch: ch.ch, log };
  await syncAttribution({ ...deps, options: { backfillDays: 3, restateDays: 3 } }, client, legacy);
  const [first, second] = (await attributionOverview(pg.db, legacy.profile_id)).advertisers;
  const yesterday = addDays(localToday(legacy.timezone), -1);
  assert.equal(first?.pulled_through, yesterday);
  // The second advertiser as if Amazon had only now granted it: never pulled, nothing loaded.
  await pg.db('attribution_advertisers').where({ advertiser_id: second!.advertiser_id }).delete();
  await deleteAndWait(ch.ch, 'attribution_performance_daily', `advertiser_id = '${second!.advertiser_id}'`, 60_000);
  const r = await syncAttribution({ ...deps, options: { backfillDays: 20, restateDays: 2 } }, client, legacy);
  assert.deepEqual(r.failed, []);
  const earliest = await q<{ advertiser_id: string; first: string }>(
    `SELECT advertiser_id, toString(min(date)) AS first FROM attribution_performance_daily FINAL
      WHERE profile_id = '${legacy.profile_id}' AND level = 'campaign' GROUP BY advertiser_id ORDER BY advertiser_id`,
  );
  assert.deepEqual(earliest, [
    // Pulled before: its first three days stay as they were, the last two restated.
    { advertiser_id: first!.advertiser_id, first: addDays(yesterday, -2) },
    // New: twenty days back.
    { advertiser_id: second!.advertiser_id, first: addDays(yesterday, -19) },
  ]);
  const overview = await attributionOverview(pg.db, legacy.profile_id);
  assert.deepEqual(
    overview.advertisers.map((a) => a.pulled_through),
    [yesterday, yesterday],
  );
});

test('one advertiser’s refused report holds back only its own mark; the other advertiser’s moves', async () => {
  const legacy = await profileAt(9);
  const client = await clients.forAccount(accountId);
  const options = { backfillDays: 4, restateDays: 2 };
  const [a, b] = (await attributionOverview(pg.db, legacy.profile_id)).advertisers;
  // Neither pulled yet, as far as the marks go.
  await pg.db('attribution_advertisers').where({ profile_id: legacy.profile_id }).update({ pulled_through: null });
  sandbox.setFaults({ failReportTypes: [`attribution:PRODUCTS@${b!.advertiser_id}`] });
  const r = await syncAttribution({ db: pg.db, ch: ch.ch, log, options }, client, legacy);
  sandbox.setFaults({ failReportTypes: [] });
  assert.deepEqual(
    r.failed.map((f) => [f.kind, f.advertiserId]),
    [['PRODUCTS', b!.advertiser_id]],
  );
  const yesterday = addDays(localToday(legacy.timezone), -1);
  const marks = async () =>
    (await attributionOverview(pg.db, legacy.profile_id)).advertisers.map((x) => [x.advertiser_id, x.pulled_through]);
  assert.deepEqual(await marks(), [
    [a!.advertiser_id, yesterday],
    [b!.advertiser_id, null],
  ]);
  await syncAttribution({ db: pg.db, ch: ch.ch, log, options }, client, legacy);
  assert.deepEqual(await marks(), [
    [a!.advertiser_id, yesterday],
    [b!.advertiser_id, yesterday],
  ]);
});

test('a profile Amazon Attribution does not serve is marked not eligible with Amazon’s reason, and nothing is loaded', async () => {
  const profile = await profileAt(3);
  const r = await syncAttribution(
    { db: pg.db, ch: ch.ch, log, options: { backfillDays: 5, restateDays: 5 } },
    await clients.forAccount(accountId),
    profile,
  );
  assert.equal(r.state, 'not_eligible');
  assert.match(r.reason ?? '', /not authorized to use Amazon Attribution/);
  const overview = await attributionOverview(pg.db, profile.profile_id);
  assert.equal(overview.profile?.state, 'not_eligible');
  assert.equal(overview.advertisers.length, 0);
  const [n] = await q<{ n: string }>(
    `SELECT count() AS n FROM attribution_performance_daily WHERE profile_id = '${profile.profile_id}'`,
  );
  assert.equal(Number(n!.n), 0);
});

test('an ingestion run pulls Amazon Attribution for every sponsored-ads profile as its own stage, the profiles it does not serve counted apart', async () => {
  const runId = await startIngestion(pg.db, 'account', accountId);
  await runDueIngestions(
    {
      db: pg.db,
      ch: ch.ch,
      clients,
      log,
      batchSize: 200,
      exportPollMs: 20,
      owner: 'attribution-test',
      reportTypes: ['spCampaigns'],
      attribution: { backfillDays: 3, restateDays: 3 },
    },
    new AbortController().signal,
  );
  const run = await pg.db('ingestion_runs').where({ id: runId }).first();
  const stage = run.stages.attribution as Record<string, unknown>;
  assert.equal(stage.status, 'done', JSON.stringify(run.stages));
  // Not the DSP profile nor the legacy Amazon Attribution one (get-started.md: leave those out).
  assert.equal(stage.profiles, 8);
  assert.equal(stage.notEligible, 2);
  assert.deepEqual(stage.failed, []);
  const [rows] = await q<{ n: string }>(
    `SELECT count() AS n FROM attribution_performance_daily FINAL WHERE profile_id = '${(await profileAt(2)).profile_id}'`,
  );
  assert.ok(Number(rows!.n) > 0, 'the vendor profile loaded');
});

test('GET /v1/profiles/:profileId/attribution shows the owner its state, advertisers and tags; another account is refused; one Amazon does not serve says why', async () => {
  const app = await createHttpServer({ name: 'entity-sync', log, db: pg.db, readiness: {} });
  registerAttributionApi(app, { db: pg.db });
  await app.ready();
  try {
    const mine = (await createApiKey(pg.db, { scope: 'account', accountId })).key;
    const [{ id: other }] = await pg.db('accounts').insert({ company_name: 'someone else' }).returning('id');
    const theirs = (await createApiKey(pg.db, { scope: 'account', accountId: other })).key;
    const get = (profileId: string, key: string) =>
      app.inject({
        method: 'GET',
        url: `/v1/profiles/${profileId}/attribution`,
        headers: { authorization: `Bearer ${key}` },
      });
    const seller = await profileAt(0);
    const res = await get(seller.profile_id, mine);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      state: string;
      pulledThrough: string;
      advertisers: { pulledThrough: string | null }[];
      tags: { macro: boolean; tag: string }[];
    };
    assert.equal(body.state, 'enabled');
    assert.equal(body.advertisers.length, 1);
    assert.match(body.pulledThrough, /^\d{4}-\d{2}-\d{2}$/, 'pulled by the tests above');
    assert.equal(body.advertisers[0]!.pulledThrough, body.pulledThrough, 'its one advertiser pulled as far');
    assert.ok(
      body.tags.some((t) => t.macro) && body.tags.some((t) => !t.macro && t.tag.includes('{insertCampaignId}')),
    );
    const refused = await get(seller.profile_id, theirs);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal((await get('999999999999', mine)).statusCode, 404);
    const jp = await get((await profileAt(3)).profile_id, mine);
    assert.equal((await get((await profileAt(6)).profile_id, mine)).json().state, 'enabled');
    assert.equal(jp.json().state, 'not_eligible');
    assert.match(jp.json().reason, /not authorized to use Amazon Attribution/);
  } finally {
    await app.close();
  }
});
