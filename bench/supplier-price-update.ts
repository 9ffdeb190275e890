/**
 * A price_update over 100,000 supplier products (BigBuy, paged 1,000 at a time
 * from the sandbox in its own process): products/s and peak memory, next to the
 * raw rate of just fetching the same pages in the same run; then the same job again
 * with nothing changed, which leaves only our reading and comparing; then after a round
 * that moves one price in ten.
 *
 *   node --expose-gc bench/supplier-price-update.ts      (needs `deploy/local/stack up`)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { freshClickHouse, freshPostgres, testLogger } from '@adsync/shared/testing/test-stack';
import { BIGBUY_API_KEY } from '@adsync/sandbox';
import { addBigBuySupplier, runJobNow } from '@adsync/supplier-sync/testing';
import { cpuMeter, processesNamed } from './proc-cpu.ts';

const N = 100_000;
const PORT = 18994;
const child = spawn(process.execPath, [fileURLToPath(new URL('../packages/sandbox/src/main.ts', import.meta.url))], {
  env: { ...process.env, SANDBOX_PORT: String(PORT), SANDBOX_SUPPLIER_PRODUCTS: String(N) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('listening') && resolve()));
const base = `http://127.0.0.1:${PORT}`;
/** Products/s of just fetching and parsing every price page, nothing else. */
const rawFetchRate = async () => {
  const r0 = performance.now();
  let fetched = 0;
  for (let page = 1; ; page++) {
    const res = await request(`${base}/rest/catalog/productprices.json?page=${page}&pageSize=1000`, {
      headers: { authorization: `Bearer ${BIGBUY_API_KEY}` },
    });
    const items = (await res.body.json()) as unknown[];
    fetched += items.length;
    if (items.length < 1000) break;
  }
  return fetched / ((performance.now() - r0) / 1000);
};
/** CPU seconds of a run, per process: the sandbox shares the machine, so its share is its own column. */
const meters = () => {
  const ours = cpuMeter(() => [process.pid]);
  const sandbox = cpuMeter(() => [child.pid!]);
  const postgres = cpuMeter(() => processesNamed('postgres'));
  const clickhouse = cpuMeter(() => processesNamed('clickhouse-serv'));
  return () => ({ cpuOurs: ours(), cpuSandbox: sandbox(), cpuPostgres: postgres(), cpuClickHouse: clickhouse() });
};
const pg = await freshPostgres();
const ch = await freshClickHouse();
const log = testLogger('bench');
try {
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(randomBytes(32));
  const ids = await addBigBuySupplier(pg.db, box, 'bench', BIGBUY_API_KEY);
  const deps = {
    db: pg.db,
    ch: ch.ch,
    box,
    log,
    supplierBaseUrl: () => base,
    policy: { maxAttempts: 5, backoff: { baseMs: 100, maxMs: 2000 } },
  };
  const run = (jobType: 'supplier_api' | 'price_update') => runJobNow(deps, ids, jobType);
  await run('supplier_api');
  await request(`${base}/_sandbox/suppliers/advance`, { method: 'POST' });

  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 20);
  let cpu = meters();
  const t0 = performance.now();
  const counts = await run('price_update');
  const ms = performance.now() - t0;
  const changedCpu = cpu();
  clearInterval(sampler);

  // The same job again with nothing changed at the supplier: what is left is reading and comparing.
  cpu = meters();
  const u0 = performance.now();
  const again = await run('price_update');
  const unchangedMs = performance.now() - u0;
  const unchangedCpu = cpu();

  // The limit, in the same round as the runs above: the sandbox works out a product's price
  // from the rounds that moved it, so each round's runs are held to that round's fetch.
  const rawRate = await rawFetchRate();

  // A round that moves one price in ten, as a daily price feed mostly does.
  await request(`${base}/_sandbox/suppliers/advance`, { method: 'POST', body: JSON.stringify({ priceShare: 0.1 }) });
  cpu = meters();
  const s0 = performance.now();
  const some = await run('price_update');
  const someMs = performance.now() - s0;
  const someCpu = cpu();
  const someRawRate = await rawFetchRate();

  const rate = (n: number, t: number) => Math.round(n / (t / 1000));
  const row = (run: string, c: Record<string, number>, ms: number, raw: number, cpuSeconds: object) => ({
    run,
    products: c.fetched ?? 0,
    changed: c.changed ?? 0,
    seconds: +(ms / 1000).toFixed(2),
    productsPerSec: rate(c.fetched ?? 0, ms),
    rawFetchProductsPerSec: Math.round(raw),
    ratio: +(rate(c.fetched ?? 0, ms) / raw).toFixed(2),
    ...cpuSeconds,
  });
  console.table([
    {
      ...row('every price changed', counts, ms, rawRate, changedCpu),
      peakHeapGrowthMb: Math.round((peak - heap0) / 1048576),
      peakRssMb: Math.round(peakRss / 1048576),
    },
    row('one price in ten changed', some, someMs, someRawRate, someCpu),
    row('nothing changed', again, unchangedMs, rawRate, unchangedCpu),
  ]);
} finally {
  child.kill('SIGTERM');
  await ch.drop();
  await pg.drop();
}
