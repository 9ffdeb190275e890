import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSandbox, supplierProduct, type Sandbox, BIGBUY_API_KEY } from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import {
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { addBigBuySupplier, runJobNow } from './testing.ts';
import { closeThenDrop } from '@adsync/shared/testing/teardown';

// 9,000 products, one default batch, each listed on two marketplaces:
// a job owes 2 × 9,000 listing updates. The planned path (a full import) inserts them with four
// values each, past the 65,535 parameters Postgres takes in one statement; the price job
// queues them inside its update statement.
const PRODUCTS = 9000;
let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
const box = createSecretBox(randomBytes(32));

before(async () => {
  sandbox = await startSandbox({ seed: 31 });
  sandbox.state.supplierScale = { products: PRODUCTS, orders: 0 };
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
});
after(async () => {
  await closeThenDrop(sandbox, ch, pg);
});

/** What a job run directly needs, against this file's sandbox and databases. */
const jobDeps = () => ({
  db: pg.db,
  ch: ch.ch,
  box,
  log: testLogger('many-listings'),
  supplierBaseUrl: () => sandbox.url,
  policy: { maxAttempts: 3, backoff: { baseMs: 5, maxMs: 20 } },
});

test('a price job and a full import owing more listing updates than one statement can carry queue every one of them', async () => {
  const ids = await addBigBuySupplier(pg.db, box, 'many listings', BIGBUY_API_KEY);
  const { accountId, supplierId } = ids;
  const deps = jobDeps();
  const run = (jobType: 'supplier_api' | 'price_update') => runJobNow(deps, ids, jobType);
  assert.equal((await run('supplier_api')).created, PRODUCTS);
  for (const marketplace of ['amazon', 'ebay']) {
    const [{ id: integrationId }] = await pg
      .db('marketplace_integrations')
      .insert({ account_id: accountId, marketplace, endpoint_url: `http://127.0.0.1:1/${marketplace}` })
      .returning('id');
    await pg.db.raw(
      `insert into marketplace_listings (integration_id, listing_id, supplier_id, supplier_product_id)
       select ?, 'L-' || supplier_product_id, supplier_id, supplier_product_id from imported_products where supplier_id = ?`,
      [integrationId, supplierId],
    );
  }
  const owed = async (kind?: 'price') =>
    Number(
      (
        await pg
          .db('marketplace_outbound')
          .where(kind ? { kind } : {})
          .count<{ c: string }[]>('* as c')
      )[0]!.c,
    );
  sandbox.state.supplierRound = 1; // every price moves
  const counts = await run('price_update');
  assert.ok((counts.changed ?? 0) > PRODUCTS * 0.9, `${counts.changed} prices changed`);
  assert.equal(
    await owed('price'),
    counts.changed! * 2,
    'each changed product owes both of its listings their new price',
  );
  assert.equal(counts.outbound, await owed());

  sandbox.state.supplierRound = 2; // and again, now seen by a full import
  const [before, pricesBefore] = [await owed(), await owed('price')];
  const full = await run('supplier_api');
  assert.ok((full.changed ?? 0) > PRODUCTS * 0.9, `${full.changed} products changed`);
  assert.equal(full.outbound, (await owed()) - before, 'every listing update the full import counted is queued');
  assert.ok((await owed('price')) - pricesBefore > PRODUCTS * 0.9 * 2, 'a price update for both listings of each');
});

test('a full import and a price job over several batches, two at a time, store every product as the supplier has it', async () => {
  const ids = await addBigBuySupplier(pg.db, box, 'several batches', BIGBUY_API_KEY);
  const deps = { ...jobDeps(), batchSize: 2000 }; // five batches, each large enough (≥ 500 rows) to be COPYed
  const run = (jobType: 'supplier_api' | 'price_update') => runJobNow(deps, ids, jobType);
  /** Every stored product against the supplier's current answer; how many differ. */
  const differing = async (columns: ('name' | 'retail' | 'stock')[]) => {
    const rows: { supplier_product_id: string; name: string; retail_price_micros: number; stock: number }[] = await pg
      .db('imported_products')
      .where({ supplier_id: ids.supplierId })
      .select('supplier_product_id', 'name', 'retail_price_micros', 'stock');
    assert.equal(rows.length, PRODUCTS);
    let off = 0;
    for (const r of rows) {
      const want = supplierProduct(sandbox.state, 'bigbuy', Number(r.supplier_product_id) - 10_000);
      const got = { name: r.name, retail: r.retail_price_micros, stock: r.stock };
      const expected = { name: want.name, retail: Math.round(want.retailPrice * 100) * 10_000, stock: want.stock };
      if (columns.some((c) => got[c] !== expected[c])) off++;
    }
    return off;
  };
  assert.equal((await run('supplier_api')).created, PRODUCTS);
  assert.equal(await differing(['name', 'retail', 'stock']), 0);

  sandbox.state.supplierRound += 1; // prices and stock move: the next import merges every batch
  const again = await run('supplier_api');
  assert.equal(again.created, 0);
  assert.ok((again.changed ?? 0) > PRODUCTS * 0.9, `${again.changed} products changed`);
  assert.equal(await differing(['name', 'retail', 'stock']), 0);

  sandbox.state.supplierRound += 1;
  const prices = await run('price_update');
  assert.ok((prices.changed ?? 0) > PRODUCTS * 0.9, `${prices.changed} prices changed`);
  assert.equal(await differing(['retail']), 0);
});
