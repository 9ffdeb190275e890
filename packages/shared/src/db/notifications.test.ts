// Loops sleep until a queue table announces work (migration 0024, db/notifications.ts). Real Postgres.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, testLogger, type FreshPostgres } from '../testing/test-stack.ts';
import { migratePostgres } from './migrations.ts';
import { listenForNotifications, type Notifications } from './notifications.ts';
import { enqueue } from './outbox.ts';
import { claim, nextDueIn } from '../runtime/work-queue.ts';
import { OUTBOX_QUEUE, outboxDue } from './outbox.ts';
import { POLL_QUEUE } from '../reports/pending-reports.ts';

let pg: FreshPostgres;
let listener: Notifications;
const heard: Record<string, number> = {};
const count = (table: string) => () => void (heard[table] = (heard[table] ?? 0) + 1);
const settle = () => new Promise((r) => setTimeout(r, 300));

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  listener = listenForNotifications({ url: pg.url, applicationName: 'adsync-test', log: testLogger() });
  for (const t of ['event_outbox', 'event_outbox_released', 'sync_batches', 'pending_amazon_reports'])
    listener.on(t, count(t));
  const deadline = Date.now() + 10_000;
  while (!listener.connected() && Date.now() < deadline) await settle();
  assert.ok(listener.connected(), 'the LISTEN connection comes up');
  await settle();
});
after(async () => {
  await listener?.close();
  await pg?.drop();
});

test('a committed outbox row is announced once per transaction; its claim is not', async () => {
  const before = heard.event_outbox ?? 0;
  await pg.db.transaction(async (tx) => {
    for (let i = 0; i < 5; i++) await enqueue(tx, 'report.loaded', `k${i}`, { eventId: `e${i}` } as never);
  });
  await settle();
  assert.equal((heard.event_outbox ?? 0) - before, 1, 'five rows in one transaction: one notification');
  assert.equal(await nextDueIn(pg.db, OUTBOX_QUEUE), 0, 'the rows are due now');

  const claimed = await claim(pg.db, OUTBOX_QUEUE, { limit: 10, leaseMs: 60_000 });
  assert.equal(claimed.length, 5);
  await settle();
  assert.equal((heard.event_outbox ?? 0) - before, 1, 'claiming announced nothing');
  const due = await nextDueIn(pg.db, OUTBOX_QUEUE);
  assert.ok(due !== null && due > 55_000 && due <= 60_000, `claimed rows are due when their lease runs out (${due})`);
  const other = await outboxDue(pg.db);
  assert.equal(other.leased, true, 'to another relay, the wait is only a lease');
});

test('a relay publishing the rows it claimed announces it once; a claim does not', async () => {
  await pg.db('event_outbox').whereNull('published_at').update({ published_at: pg.db.fn.now() });
  await settle();
  await enqueue(pg.db, 'report.loaded', 'r', { eventId: 'r' } as never);
  assert.deepEqual(await outboxDue(pg.db), { ms: 0, leased: false }, 'an unclaimed row is due now, not leased');
  const before = heard.event_outbox_released ?? 0;
  const claimed = await claim<{ id: string }>(pg.db, OUTBOX_QUEUE, { limit: 10, leaseMs: 60_000 });
  await settle();
  assert.equal(heard.event_outbox_released ?? 0, before, 'claiming announced no release');
  // What relayOutbox does once published.
  await pg
    .db('event_outbox')
    .whereIn(
      'id',
      claimed.map((c) => c.id),
    )
    .update({ published_at: pg.db.fn.now(), claimed_until: null });
  await settle();
  assert.equal((heard.event_outbox_released ?? 0) - before, 1, 'publishing announced once');
  assert.deepEqual(await outboxDue(pg.db), { ms: null, leased: false }, 'then nothing is due');
});

test('a rolled-back insert is never announced', async () => {
  const before = heard.event_outbox ?? 0;
  await pg.db
    .transaction(async (tx) => {
      await enqueue(tx, 'report.loaded', 'k', { eventId: 'x' } as never);
      throw new Error('roll back');
    })
    .catch(() => undefined);
  await settle();
  assert.equal(heard.event_outbox ?? 0, before);
});

test('nothing waiting: nothing is due', async () => {
  await pg.db('event_outbox').update({ published_at: pg.db.fn.now() });
  assert.equal(await nextDueIn(pg.db, OUTBOX_QUEUE), null);
});

test("a report is announced when it is accepted, back in flight or asked for now; never by the poller's own claims", async () => {
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'N' }).returning('id');
  await pg.db('profiles').insert({
    profile_id: 'p1',
    account_id: accountId,
    country_code: 'US',
    currency_code: 'USD',
    timezone: 'UTC',
  });
  const heardNow = () => heard.pending_amazon_reports ?? 0;
  const step = async (what: string, change: () => Promise<unknown>, announced: boolean) => {
    const n = heardNow();
    await change();
    await settle();
    assert.equal(heardNow() - n, announced ? 1 : 0, `${what}: ${announced ? 'announced' : 'not announced'}`);
  };
  const report = () => pg.db('pending_amazon_reports').where({ profile_id: 'p1' });
  await step(
    'recorded before Amazon accepted it',
    () =>
      pg.db('pending_amazon_reports').insert({
        profile_id: 'p1',
        report_type: 'spCampaigns',
        ad_product: 'SPONSORED_PRODUCTS',
        start_date: '2026-11-01',
        end_date: '2026-11-01',
        columns: ['impressions'],
        columns_hash: 'h',
      }),
    false,
  );
  await step('accepted by Amazon (requesting → pending)', () => report().update({ status: 'pending' }), true);
  assert.equal(await nextDueIn(pg.db, POLL_QUEUE), 0);
  await step('claimed by the poller', () => claim(pg.db, POLL_QUEUE, { limit: 5, leaseMs: 30_000 }), false);
  const due = await nextDueIn(pg.db, POLL_QUEUE);
  assert.ok(due !== null && due > 25_000, `next due when the spacing has passed (${due})`);
  await step('seen processing by the poller', () => report().update({ status: 'processing' }), false);
  await step('asked to be polled now', () => report().update({ next_poll_at: pg.db.fn.now() }), true);
  await step('failed', () => report().update({ status: 'failed' }), false);
  assert.equal(await nextDueIn(pg.db, POLL_QUEUE), null, 'nothing in flight: nothing due');
  await step('retried (failed → pending)', () => report().update({ status: 'pending' }), true);
});

test('after the LISTEN connection is killed it comes back, and every channel is told to look', async () => {
  const before = { ...heard };
  await pg.db.raw(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`,
  );
  const deadline = Date.now() + 15_000;
  while ((heard.sync_batches ?? 0) === (before.sync_batches ?? 0) && Date.now() < deadline) await settle();
  assert.ok(listener.connected(), 'reconnected');
  for (const t of ['event_outbox', 'sync_batches', 'pending_amazon_reports'])
    assert.ok((heard[t] ?? 0) > (before[t] ?? 0), `${t} was told to look after the reconnect`);

  // And it hears new work again.
  const n = heard.event_outbox ?? 0;
  await enqueue(pg.db, 'report.loaded', 'k', { eventId: 'y' } as never);
  await settle();
  assert.equal(heard.event_outbox, n + 1);
});
