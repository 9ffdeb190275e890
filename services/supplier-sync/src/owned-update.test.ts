import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { freshPostgres, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { planChanges, STORED_PRODUCT_COLUMNS, type StoredProduct } from './job-changes.ts';
import { fitsOwnedUpdate, OWNED_UPDATE_PLAN, ownedUpdateStatement, updateOwnedColumns } from './products.ts';
import { historyLines } from './product-history.ts';
import { queueMarketplaceUpdates } from './marketplaces.ts';
import type { SupplierItem } from './connectors/connector.ts';

let pg: FreshPostgres;
let supplierId: string;
let accountId: string;

const stored: StoredProduct[] = [
  {
    supplier_product_id: 'a',
    sku: 'A',
    name: 'a',
    currency: 'EUR',
    wholesale_price_micros: 1_000_000,
    retail_price_micros: 2_000_000,
    stock: 5,
  },
  {
    supplier_product_id: 'b',
    sku: 'B',
    name: 'b',
    currency: 'EUR',
    wholesale_price_micros: 1_000_000,
    retail_price_micros: 2_000_000,
    stock: 5,
  },
  {
    supplier_product_id: 'c',
    sku: 'C',
    name: 'c',
    currency: 'EUR',
    wholesale_price_micros: 1_000_000,
    retail_price_micros: 2_000_000,
    stock: 5,
  },
  {
    // Text that TabSeparated must escape, which the history Postgres writes escapes as we do.
    supplier_product_id: 'e\t1\\',
    sku: 'S\\K\nU\r',
    name: 'e',
    currency: 'EUR',
    wholesale_price_micros: 1_000_000,
    retail_price_micros: 2_000_000,
    stock: 5,
  },
  {
    supplier_product_id: 'f',
    sku: null,
    name: 'f',
    currency: 'EUR',
    wholesale_price_micros: 1_000_000,
    retail_price_micros: 2_000_000,
    stock: 5,
  },
  {
    supplier_product_id: 'd',
    sku: 'D',
    name: 'd',
    currency: 'EUR',
    wholesale_price_micros: null,
    retail_price_micros: null,
    stock: null,
  },
];

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'owned' }).returning('id');
  [{ id: supplierId }] = await pg
    .db('suppliers')
    .insert({ account_id: accountId, kind: 'bigbuy', name: 'b', credentials_sealed: 'x' })
    .returning('id');
  Object.assign(stamp, { accountId, supplierId });
  await listEverywhere();
});
after(() => pg.drop());

const reset = async () => {
  await pg.db('marketplace_outbound').delete();
  await pg.db('imported_products').where({ supplier_id: supplierId }).delete();
  await pg
    .db('imported_products')
    .insert(stored.map((s) => ({ ...s, supplier_id: supplierId, account_id: accountId })));
};
const products = async () =>
  (await pg
    .db('imported_products')
    .where({ supplier_id: supplierId })
    .orderBy('supplier_product_id')
    .select(STORED_PRODUCT_COLUMNS)) as StoredProduct[];
const stamp = { accountId: '', supplierId: '', jobId: 'job-1', at: '2026-11-24 10:00:00' };
const lines = (text: string) => text.split('\n').sort();
const outbound = async () =>
  (await pg.db('marketplace_outbound').select('integration_id', 'listing_id', 'kind', 'payload')).sort((a, b) =>
    `${a.listing_id}${a.kind}`.localeCompare(`${b.listing_id}${b.kind}`),
  );

/** Every stored product listed twice: on an active marketplace, and on one switched off. */
const listEverywhere = async () => {
  for (const active of [true, false]) {
    const [{ id }] = await pg
      .db('marketplace_integrations')
      .insert({ account_id: accountId, marketplace: `m-${active}`, endpoint_url: 'http://127.0.0.1:1/', active })
      .returning('id');
    await pg.db('marketplace_listings').insert(
      stored.map((s) => ({
        integration_id: id,
        listing_id: `${active}-${s.supplier_product_id}`,
        supplier_id: supplierId,
        supplier_product_id: s.supplier_product_id,
      })),
    );
  }
};

test('the one-statement stock and price update decides exactly as planChanges, and writes the same history and listing updates as the planned path', async () => {
  const cases: { jobType: 'price_update' | 'inventory_update'; items: SupplierItem[] }[] = [
    {
      jobType: 'price_update',
      items: [
        { productId: 'a', sku: 'A', wholesalePrice: 1.5, retailPrice: 2, currency: 'EUR' }, // wholesale moved
        { productId: 'b', sku: 'B', wholesalePrice: 1, retailPrice: 2, currency: 'EUR' }, // unchanged
        { productId: 'c', sku: 'C', wholesalePrice: 1, retailPrice: 2, currency: 'USD' }, // only the currency: a new price
        { productId: 'e\t1\\', sku: 'S\\K\nU\r', wholesalePrice: 1, retailPrice: 2.5, currency: 'EUR' }, // retail moved
        { productId: 'd', sku: 'D', wholesalePrice: 3, retailPrice: 4, currency: 'EUR' }, // first prices
        { productId: 'f', sku: null, wholesalePrice: 1.25, retailPrice: 2, currency: 'EUR' }, // no SKU stored
        { productId: 'zz', sku: 'Z', wholesalePrice: 3, retailPrice: 4, currency: 'EUR' }, // never imported
      ],
    },
    {
      jobType: 'inventory_update',
      items: [
        { productId: 'a', sku: 'A', stock: 0 },
        { productId: 'b', sku: 'B', stock: 5 },
        { productId: 'e\t1\\', sku: 'S\\K\nU\r', stock: 6 },
        { productId: 'd', sku: 'D', stock: 7 },
        { productId: 'f', sku: null, stock: 0 },
        { productId: 'zz', sku: 'Z', stock: 1 },
      ],
    },
  ];
  for (const { jobType, items } of cases) {
    await reset();
    assert.ok(fitsOwnedUpdate(jobType, items));
    const expected = planChanges(jobType, new Map(stored.map((s) => [s.supplier_product_id, s])), items);
    const got = await pg.db.transaction((tx) => updateOwnedColumns(tx, supplierId, jobType, items, stamp));
    assert.equal(got.changed, expected.length, jobType);
    assert.ok(expected.length >= 3, 'the cases change several products');
    assert.deepEqual(
      lines(got.history),
      lines(
        historyLines(
          stamp,
          expected.map((c) => c.row),
        ),
      ),
      jobType,
    );
    // What the planned path would have queued for the same changes, listing by listing.
    const queued = await outbound();
    assert.equal(got.outbound, queued.length);
    assert.equal(queued.length, expected.length, 'one update per changed product, for its active listing only');
    await pg.db('marketplace_outbound').delete();
    await queueMarketplaceUpdates(pg.db, supplierId, expected);
    assert.deepEqual(queued, await outbound(), jobType);
    const after = await products();
    for (const s of stored) {
      const change = expected.find((c) => c.row.supplier_product_id === s.supplier_product_id);
      assert.deepEqual(
        after.find((p) => p.supplier_product_id === s.supplier_product_id),
        change?.row ?? s,
      );
    }
    assert.equal(after.length, stored.length, 'a product never imported is not created by a stock or price job');
  }
});

test('a price without its currency takes the planned path (the stored currency converts it); a repeated product takes its last word', async () => {
  assert.equal(fitsOwnedUpdate('price_update', [{ productId: 'a', sku: 'A', retailPrice: 2 }]), false);
  assert.equal(fitsOwnedUpdate('supplier_api', [{ productId: 'a', sku: 'A', retailPrice: 2, currency: 'EUR' }]), false);
  await reset();
  const got = await pg.db.transaction((tx) =>
    updateOwnedColumns(
      tx,
      supplierId,
      'inventory_update',
      [
        { productId: 'a', sku: 'A', stock: 1 },
        { productId: 'a', sku: 'A', stock: 9 },
      ],
      stamp,
    ),
  );
  assert.equal(got.changed, 1);
  assert.deepEqual(got.history.split('\t')[7], '9');
  assert.equal((await products())[0]!.stock, 9);
});

test('a batch that changes nothing writes no history and queues nothing', async () => {
  await reset();
  const got = await pg.db.transaction((tx) =>
    updateOwnedColumns(tx, supplierId, 'inventory_update', [{ productId: 'b', sku: 'B', stock: 5 }], stamp),
  );
  assert.deepEqual(got, { changed: 0, outbound: 0, history: '' });
  assert.deepEqual(await outbound(), []);
});

test('a batch is joined to the stored products without a nested loop, even when the statistics predate them', async () => {
  // Statistics taken when the supplier had a handful of products, then 20,000 more: the
  // planner now believes the supplier has almost none, which made it loop over the whole batch
  // once per stored product (quadratic) when nested loops were allowed.
  const [{ id: big }] = await pg
    .db('suppliers')
    .insert({ account_id: accountId, kind: 'bigbuy', name: 'big', credentials_sealed: 'x' })
    .returning('id');
  await pg.db.raw('alter table imported_products set (autovacuum_enabled = false)');
  const add = (from: number, to: number) =>
    pg.db.raw(
      `insert into imported_products (supplier_id, supplier_product_id, account_id, sku, currency, wholesale_price_micros, retail_price_micros)
       select ?, g::text, ?, 'S' || g, 'EUR', 1000000, 2000000 from generate_series(?::int, ?::int) g`,
      [big, accountId, from, to],
    );
  await add(1, 5);
  await pg.db.raw('analyze imported_products');
  await add(6, 20_000);
  const items: SupplierItem[] = Array.from({ length: 5000 }, (_, i) => ({
    productId: String(i * 3 + 1),
    sku: null,
    wholesalePrice: 9,
    retailPrice: 10,
    currency: 'EUR',
  }));
  const nodeTypes = await pg.db.transaction(async (tx) => {
    await tx.raw(OWNED_UPDATE_PLAN);
    const { sql, bindings } = ownedUpdateStatement(big, 'price_update', items, stamp);
    const { rows } = await tx.raw(`explain (format json) ${sql}`, bindings);
    const types: string[] = [];
    const walk = (node: { 'Node Type': string; Plans?: unknown[] }) => {
      types.push(node['Node Type']);
      for (const child of node.Plans ?? []) walk(child as typeof node);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return types;
  });
  assert.ok(nodeTypes.includes('Hash Join'), nodeTypes.join(', '));
  assert.ok(!nodeTypes.includes('Nested Loop'), nodeTypes.join(', '));
  const got = await pg.db.transaction((tx) => updateOwnedColumns(tx, big, 'price_update', items, stamp));
  assert.equal(got.changed, 5000);
});
