import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  startSandbox,
  type Sandbox,
  BIGBUY_API_KEY,
  ALIEXPRESS_APP_KEY,
  ALIEXPRESS_APP_SECRET,
  ALIEXPRESS_ACCESS_TOKEN,
  supplierProduct,
  supplierOrder,
} from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { createHttpServer } from '@adsync/shared/http/server';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  testConfig,
  testLogger,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { InRepoSchemaCodec } from '@adsync/shared/kafka/codec';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { registerSupplierApi } from './api.ts';
import { startWorker, type Worker } from './worker.ts';
import { claimNext, completeJob, createJob } from './job-queue.ts';
import { runJob } from './run-job.ts';
import { queueJobWebhooks } from './deliveries.ts';
import { maintenance } from './maintenance.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { destinationPolicies, type Destinations } from './deliveries.ts';
import { webhooksQuery } from './webhooks.ts';

const ADMIN = 'adsk_supplier_test_admin_key_012345';
const SECRET = 'webhook-secret-0123456789';
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let app: FastifyInstance;
let worker: Worker;
let receiver: Server;
let receiverUrl: string;
let destinations: Destinations;
const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const box = createSecretBox(randomBytes(32));
const log = testLogger('supplier');
let accountId: string;
let bigbuy: string;
let aliexpress: string;

before(async () => {
  sandbox = await startSandbox({ seed: 12 });
  sandbox.state.supplierScale = { products: 300, orders: 20 };
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'shop' }).returning('id');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(received.length === 1 ? 503 : 200).end(); // the first delivery fails: it must be retried
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  app = await createHttpServer({ name: 'supplier-sync', log, db: pg.db, readiness: {} });
  // The local receiver and the sandbox's marketplace are the origins this deployment trusts.
  destinations = destinationPolicies([new URL(receiverUrl).origin, new URL(sandbox.url).origin]);
  registerSupplierApi(app, { db: pg.db, box, relay: async () => undefined, maxAttempts: 4, destinations });
  await app.ready();
  worker = await startWorker({
    db: pg.db,
    ch: ch.ch,
    box,
    log,
    bus: null,
    supplierBaseUrl: () => sandbox.url,
    policy: { maxAttempts: 6, backoff: { baseMs: 5, maxMs: 50 } },
    leaseMs: 2_000,
    tickMs: 3_600_000,
    retryBackoff: { baseMs: 10, maxMs: 50 },
    destinations,
    workerId: 'test-worker',
  });
});

after(async () => {
  await worker?.stop();
  await app?.close();
  await new Promise((r) => receiver?.close(r));
  await closeThenDrop(sandbox, ch, pg);
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  app.inject({ method, url, payload: body as object, headers: { authorization: `Bearer ${ADMIN}` } });
const job = async (supplierId: string, jobType: string, priority?: number) => {
  const r = await call('POST', '/v1/jobs', { supplierId, jobType, priority });
  assert.equal(r.statusCode, 202, r.body);
  return r.json().id as string;
};
const products = async (supplierId: string) =>
  new Map((await pg.db('imported_products').where({ supplier_id: supplierId })).map((p) => [p.supplier_product_id, p]));

test('suppliers are registered with sealed credentials; a full import stores exactly the catalogue', async () => {
  bigbuy = (
    await call('POST', '/v1/suppliers', {
      accountId,
      kind: 'bigbuy',
      name: 'BigBuy EU',
      credentials: { apiKey: BIGBUY_API_KEY },
    })
  ).json().id;
  aliexpress = (
    await call('POST', '/v1/suppliers', {
      accountId,
      kind: 'aliexpress',
      name: 'AliExpress',
      credentials: {
        appKey: ALIEXPRESS_APP_KEY,
        appSecret: ALIEXPRESS_APP_SECRET,
        accessToken: ALIEXPRESS_ACCESS_TOKEN,
        orderIds: ['8100000000003', '8100000000004'],
      },
    })
  ).json().id;
  assert.doesNotMatch(JSON.stringify(await pg.db('suppliers')), /bigbuy-sandbox-key|aliexpress-sandbox-secret/);
  assert.equal((await call('POST', '/v1/webhooks', { accountId, url: receiverUrl, secret: SECRET })).statusCode, 201);
  const ids = [await job(bigbuy, 'supplier_api'), await job(aliexpress, 'supplier_api')];
  await worker.drain();
  for (const id of ids) assert.equal((await call('GET', `/v1/jobs/${id}`)).json().status, 'completed');
  const bb = await products(bigbuy);
  assert.equal(bb.size, 300);
  const p7 = supplierProduct(sandbox.state, 'bigbuy', 7);
  assert.deepEqual(
    [bb.get(String(p7.id))!.name, bb.get(String(p7.id))!.retail_price_micros, bb.get(String(p7.id))!.stock],
    [p7.name, Math.round(p7.retailPrice * 100) * 10_000, p7.stock],
  );
  assert.equal((await products(aliexpress)).size, 300);
});

test('each job type changes exactly what it owns', async () => {
  await call('POST', '/v1/marketplace/integrations', {
    accountId,
    marketplace: 'sandbox-shop',
    endpointUrl: `${sandbox.url}/marketplace`,
    listings: [{ listingId: 'L-1', supplierId: bigbuy, supplierProductId: '10001' }],
  });
  const before = await products(bigbuy);
  sandbox.state.supplierRound = 1; // the supplier's stock and prices move
  await job(bigbuy, 'price_update');
  await worker.drain();
  const afterPrice = await products(bigbuy);
  let priceChanges = 0;
  for (const [id, b] of before) {
    const a = afterPrice.get(id)!;
    assert.equal(a.stock, b.stock, `price_update left stock of ${id} alone`);
    assert.equal(a.name, b.name);
    const want = supplierProduct(sandbox.state, 'bigbuy', Number(id) - 10_000);
    assert.equal(a.retail_price_micros, Math.round(want.retailPrice * 100) * 10_000);
    if (a.retail_price_micros !== b.retail_price_micros) priceChanges++;
  }
  assert.ok(priceChanges > 100);
  await job(bigbuy, 'inventory_update');
  await worker.drain();
  const afterStock = await products(bigbuy);
  for (const [id, a] of afterStock) {
    assert.equal(a.retail_price_micros, afterPrice.get(id)!.retail_price_micros, 'inventory_update left prices alone');
    assert.equal(a.stock, supplierProduct(sandbox.state, 'bigbuy', Number(id) - 10_000).stock);
  }
  await job(aliexpress, 'order_sync');
  await job(bigbuy, 'order_sync');
  await worker.drain();
  const orders = await pg.db('orders').where({ supplier_id: bigbuy });
  assert.equal(orders.length, 20);
  assert.equal(
    orders.find((o) => o.supplier_order_id === '700005')!.status,
    supplierOrder(sandbox.state, 'bigbuy', 5).status,
  );
  assert.equal((await pg.db('orders').where({ supplier_id: aliexpress })).length, 2);
  // The listing of product 10001 was told about its new price and stock.
  const updates = sandbox.state.marketplaceUpdates.filter((u) => u.listingId === 'L-1');
  assert.ok(
    updates.some((u) => u.kind === 'price') && updates.some((u) => u.kind === 'stock'),
    JSON.stringify(updates),
  );
  const rs = await ch.ch.client.query({
    query: `SELECT count() AS c FROM supplier_product_history WHERE supplier_id = '${bigbuy}'`,
    format: 'JSONEachRow',
  });
  assert.ok(Number((await rs.json<{ c: string }>())[0]!.c) >= 300 + priceChanges);
});

test('a price job whose history cannot be written changes no product; run again, it changes and records them all', async () => {
  const prices = async () =>
    new Map([...(await products(bigbuy))].map(([id, p]) => [id, [p.wholesale_price_micros, p.retail_price_micros]]));
  const before = await prices();
  const outbound = async () => Number((await pg.db('marketplace_outbound').count<{ c: string }[]>('* as c'))[0]!.c);
  const outboundBefore = await outbound();
  sandbox.state.supplierRound = 2; // prices move again
  // A ClickHouse database without our tables: the history insert fails, as it would with ClickHouse down.
  const broken = await freshClickHouse();
  await createJob(pg.db, { accountId, supplierId: bigbuy, jobType: 'price_update' });
  const claimed = (await claimNext(pg.db, 'atomicity-test', 60_000))!;
  assert.equal(claimed.job_type, 'price_update');
  const deps = {
    db: pg.db,
    box,
    log,
    supplierBaseUrl: () => sandbox.url,
    policy: { maxAttempts: 2, backoff: { baseMs: 5, maxMs: 10 } },
    batchSize: 40, // several batches, two at a time
  };
  try {
    await assert.rejects(runJob({ ...deps, ch: broken.ch }, claimed), /supplier_product_history/);
  } finally {
    await broken.drop();
  }
  assert.deepEqual(await prices(), before, 'no product changed without its history');
  assert.equal(await outbound(), outboundBefore, 'no listing update owed for a change that did not happen');
  const counts = await runJob({ ...deps, ch: ch.ch }, claimed);
  await completeJob(pg.db, claimed, counts);
  await queueJobWebhooks(pg.db, claimed.id); // as the worker does for a finished job
  assert.ok((counts.changed ?? 0) > 100, `${counts.changed} prices changed`);
  const after = await prices();
  let changed = 0;
  for (const [id, p] of after) if (JSON.stringify(p) !== JSON.stringify(before.get(id))) changed++;
  assert.equal(changed, counts.changed);
  // Listing L-1 (product 10001) is owed its new price, once.
  assert.notDeepEqual(after.get('10001'), before.get('10001'));
  assert.equal(counts.outbound, 1);
  assert.equal(await outbound(), outboundBefore + 1);
  const rs = await ch.ch.client.query({
    query: `SELECT supplier_product_id AS id, sku, wholesale_price_micros AS w, retail_price_micros AS r, stock
              FROM supplier_product_history WHERE job_id = '${claimed.id}'`,
    format: 'JSONEachRow',
  });
  const points = await rs.json<{ id: string; sku: string; w: string; r: string; stock: string }>();
  assert.equal(points.length, counts.changed, 'every change has its history point');
  const stored = await products(bigbuy);
  for (const p of points) {
    const s = stored.get(p.id)!;
    assert.deepEqual(
      [p.sku, Number(p.w), Number(p.r), Number(p.stock)],
      [s.sku ?? '', Number(s.wholesale_price_micros), Number(s.retail_price_micros), s.stock ?? 0],
      `history of ${p.id} holds the values stored`,
    );
  }
});

test('a supplier answering 5xx for a while ends in success after retries', async () => {
  sandbox.setFaults({ rate5xx: 1 });
  const id = await job(bigbuy, 'inventory_update');
  await worker.drain(); // every call fails: the job fails its first attempt and is scheduled again
  const failedOnce = (await call('GET', `/v1/jobs/${id}`)).json();
  assert.equal(failedOnce.status, 'pending');
  assert.equal(failedOnce.errors.length, 1);
  sandbox.setFaults({ rate5xx: 0.3 });
  try {
    await new Promise((r) => setTimeout(r, 60));
    await worker.drain();
  } finally {
    sandbox.setFaults({ rate5xx: 0 });
  }
  const done = (await call('GET', `/v1/jobs/${id}`)).json();
  assert.equal(done.status, 'completed');
  assert.equal(done.attempt, 2);
});

test('a job whose worker died mid-run is picked up again', async () => {
  const id = await job(bigbuy, 'price_update');
  const claimed = await claimNext(pg.db, 'worker-that-dies', 200);
  assert.equal(claimed!.id, id);
  await new Promise((r) => setTimeout(r, 300)); // the lease runs out; nobody renews it
  await worker.drain();
  const j = (await call('GET', `/v1/jobs/${id}`)).json();
  assert.equal(j.status, 'completed');
  assert.equal(j.worker_id, 'test-worker');
  assert.equal(j.attempt, 2);
});

test('a high-priority job created after low-priority ones runs first', async () => {
  const low = [];
  for (let k = 0; k < 3; k++)
    low.push(
      (
        await createJob(pg.db, {
          accountId,
          supplierId: bigbuy,
          jobType: 'inventory_update',
          priority: 0,
          trigger: 'cron',
        })
      ).id,
    );
  const high = await job(bigbuy, 'price_update', 10);
  await worker.drain();
  const order = (
    await pg
      .db('import_jobs')
      .whereIn('id', [...low, high])
      .orderBy('started_at')
  ).map((j) => j.id);
  assert.equal(order[0], high);
});

test('a webhook receiver gets one valid signed call per finished job, retried when it fails', async () => {
  await worker.drain();
  // What an operator sees meanwhile: one delivery waiting, with the error its post met.
  const [meanwhile] = await webhooksQuery(pg.db, accountId);
  assert.equal(meanwhile.pending, 1);
  assert.equal(meanwhile.failed, 0);
  assert.match(meanwhile.last_error, /503/);
  assert.equal(meanwhile.secret_sealed, undefined, 'never the secret');
  // The failed delivery waits for its backoff; bring it forward rather than sleep.
  const waiting = await pg
    .db('webhook_deliveries')
    .where({ status: 'pending' })
    .update({ next_attempt_at: pg.db.fn.now() });
  assert.equal(waiting, 1, 'exactly the delivery answered 503 is waiting to be retried');
  await worker.drain();
  const finished = await pg.db('import_jobs').whereIn('status', ['completed', 'failed']).pluck('id');
  const ok = received.slice(1); // the first one was answered 503 and retried
  const jobIds = ok.map((r) => JSON.parse(r.body).jobId);
  assert.deepEqual([...jobIds].sort(), [...finished].sort(), 'one delivery per finished job');
  assert.equal(new Set(jobIds).size, jobIds.length, 'no job delivered twice');
  for (const r of received) {
    const [t, v1] = String(r.headers['x-adsync-signature'])
      .split(',')
      .map((x) => x.split('=')[1]);
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${r.body}`).digest('hex'));
  }
  assert.ok(jobIds.includes(JSON.parse(received[0]!.body).jobId), 'the delivery answered 503 was retried and arrived');
  // Recovered: every delivery done, and no error left to show.
  const [after] = await webhooksQuery(pg.db, accountId);
  assert.deepEqual(
    { pending: after.pending, delivered: after.delivered, failed: after.failed, last_error: after.last_error },
    { pending: 0, delivered: jobIds.length, failed: 0, last_error: null },
  );
});

test('two workers and two webhook senders on one database: every job runs once and every webhook is delivered once', async () => {
  const second = await startWorker({
    db: pg.db,
    ch: ch.ch,
    box,
    log,
    bus: null,
    supplierBaseUrl: () => sandbox.url,
    policy: { maxAttempts: 6, backoff: { baseMs: 5, maxMs: 50 } },
    leaseMs: 2_000,
    tickMs: 3_600_000,
    retryBackoff: { baseMs: 10, maxMs: 50 },
    destinations,
    workerId: 'second-worker',
  });
  try {
    const ids: string[] = [];
    for (let k = 0; k < 6; k++) {
      for (const supplierId of [bigbuy, aliexpress])
        ids.push(
          (
            await createJob(pg.db, {
              accountId,
              supplierId,
              jobType: k % 2 ? 'price_update' : 'inventory_update',
              trigger: 'cron',
            })
          ).id,
        );
    }
    const before = received.length;
    // Both drain at once, twice: each claims jobs and posts the webhooks that are due, racing the other.
    for (let round = 0; round < 2; round++) await Promise.all([worker.drain(), second.drain()]);
    const jobs = await pg.db('import_jobs').whereIn('id', ids).select('id', 'status', 'attempt', 'worker_id');
    assert.deepEqual(
      jobs.filter((j) => j.status !== 'completed' || j.attempt !== 1),
      [],
      'each job claimed and run exactly once',
    );
    assert.deepEqual(
      new Set(jobs.map((j) => j.worker_id)),
      new Set(['test-worker', 'second-worker']),
      'both workers took part',
    );
    const calls = received.slice(before).map((r) => JSON.parse(r.body).jobId as string);
    const perJob = new Map<string, number>();
    for (const id of calls) perJob.set(id, (perJob.get(id) ?? 0) + 1);
    assert.deepEqual([...perJob.keys()].sort(), [...ids].sort(), 'a webhook for every job');
    assert.deepEqual(
      [...perJob.values()].filter((n) => n !== 1),
      [],
      'no webhook posted twice',
    );
    const deliveries = await pg.db('webhook_deliveries').whereIn('job_id', ids).select('status', 'attempts');
    assert.deepEqual(
      deliveries.filter((d) => d.status !== 'delivered' || d.attempts !== 1),
      [],
    );
  } finally {
    await second.stop();
  }
});

test('maintenance scores products by the documented formula; metrics report 7-day statistics', async () => {
  const m = await maintenance(pg.db, ch.ch);
  assert.equal(m.scored, 600);
  const scores = await pg.db('imported_products').whereNotNull('ai_score').count<{ c: string }[]>('* as c');
  assert.equal(Number(scores[0]!.c), 600);
  const stats = (await call('GET', '/v1/metrics/jobs')).json().jobs;
  const price = stats.find((s: { job_type: string }) => s.job_type === 'price_update');
  assert.ok(price.completed >= 2 && price.success_rate_pct === 100 && price.avg_duration_s >= 0);
  const running = await call('GET', '/v1/jobs?status=running');
  assert.equal(running.statusCode, 200);
  assert.deepEqual(running.json().jobs, []);
});

test('job.created on Kafka wakes a worker: a job runs with no timer and no manual drain', async () => {
  const cfg = testConfig();
  const prefix = `${uniqueName('sup')}.`;
  const bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'supplier-test',
    codec: new InRepoSchemaCodec(),
    log,
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
  const kafkaWorker = await startWorker({
    db: pg.db,
    ch: ch.ch,
    box,
    log,
    bus,
    supplierBaseUrl: () => sandbox.url,
    policy: { maxAttempts: 3, backoff: { baseMs: 5, maxMs: 50 } },
    leaseMs: 5_000,
    tickMs: 3_600_000,
    retryBackoff: { baseMs: 10, maxMs: 50 },
    destinations,
    groupId: `${prefix}workers`,
    workerId: 'kafka-worker',
  });
  try {
    await new Promise((r) => setTimeout(r, 1500)); // the consumer joins its group (it reads only new events)
    const j = await createJob(pg.db, {
      accountId,
      supplierId: aliexpress,
      jobType: 'inventory_update',
      trigger: 'test',
    });
    await relayOutbox(pg.db, bus);
    const done = await eventually(
      async () => {
        const row = await pg.db('import_jobs').where({ id: j.id }).first();
        return row.status === 'completed' ? row : undefined;
      },
      { what: 'the job woken by Kafka', timeoutMs: 30_000 },
    );
    assert.equal(done.worker_id, 'kafka-worker');
  } finally {
    await kafkaWorker.stop();
    await bus.close();
  }
});

test('webhook and marketplace destinations reach only public https hosts: each SSRF variant is refused at registration, and a stored one is given up at delivery with the reason', async () => {
  const { createServer: listen } = await import('node:http');
  let hits = 0;
  const trap = listen((_req, res) => {
    hits++;
    res.end();
  });
  trap.on('connection', () => hits++);
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  const port = (trap.address() as AddressInfo).port;
  try {
    const hostile = [
      `http://127.0.0.1:${port}/hook`,
      `https://127.0.0.1:${port}/hook`,
      `https://localhost:${port}/hook`,
      `https://0x7f000001:${port}/hook`,
      `https://127.1:${port}/hook`,
      `https://[::1]:${port}/hook`,
      `https://[::ffff:127.0.0.1]:${port}/hook`,
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.8/hook',
      `https://hooks.example.com\\@127.0.0.1:${port}/`,
      `https://user:pass@hooks.example.com/hook`,
      'http://hooks.example.com/hook',
    ];
    for (const url of hostile) {
      const hook = await call('POST', '/v1/webhooks', { accountId, url, secret: SECRET });
      assert.equal(hook.statusCode, 400, `${url}: ${hook.body}`);
      assert.match(hook.json().message, /^webhook URL .* refused: /, url);
      const shop = await call('POST', '/v1/marketplace/integrations', {
        accountId,
        marketplace: 'ssrf',
        endpointUrl: url,
        listings: [],
      });
      assert.equal(shop.statusCode, 400, `${url}: ${shop.body}`);
      assert.match(shop.json().message, /^marketplace endpoint .* refused: /, url);
    }
    assert.equal(
      (await call('POST', '/v1/webhooks', { accountId, url: 'https://hooks.example.com/adsync', secret: SECRET }))
        .statusCode,
      201,
      'a public https host is the account’s own receiver',
    );
    await pg.db('webhooks').where({ url: 'https://hooks.example.com/adsync' }).update({ active: false });
    // A destination stored before the guard (or edited in the database) is refused when delivered, never retried.
    const [legacy] = await pg
      .db('webhooks')
      .insert({ account_id: accountId, url: `http://127.0.0.1:${port}/legacy`, secret_sealed: box.seal(SECRET) })
      .returning('id');
    const [{ id: jobId }] = await pg.db('import_jobs').select('id').limit(1);
    await pg.db('webhook_deliveries').insert({ webhook_id: legacy.id, job_id: jobId, payload: JSON.stringify({}) });
    await worker.drain();
    const d = await pg.db('webhook_deliveries').where({ webhook_id: legacy.id }).first();
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 1, 'given up at once');
    assert.match(d.last_error, /^webhook URL http:\/\/127\.0\.0\.1:\d+\/legacy refused: http \(only https\)$/);
    assert.equal(hits, 0, 'nothing reached the listener');
  } finally {
    await pg
      .db('webhooks')
      .where({ url: `http://127.0.0.1:${port}/legacy` })
      .delete();
    await new Promise((r) => trap.close(r));
  }
});
