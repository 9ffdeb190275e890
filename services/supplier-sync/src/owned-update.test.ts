import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { freshPostgres, type FreshPostgres } from '@adsync/shared/testing/test-stack';
import { planChanges, STORED_PRODUCT_COLUMNS, type StoredProduct } from './job-changes.ts';
import { fitsOwnedUpdate, updateOwnedColumns } from './owned-update.ts';
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
});
after(() => pg.drop());

const reset = async () => {
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
const sortById = <T extends { row: StoredProduct }>(a: T[]) =>
  [...a].sort((x, y) => x.row.supplier_product_id.localeCompare(y.row.supplier_product_id));

test('the one-statement stock and price update decides exactly as planChanges: what changed, which flags, unknown products untouched', async () => {
  const cases: { jobType: 'price_update' | 'inventory_update'; items: SupplierItem[] }[] = [
    {
      jobType: 'price_update',
      items: [
        { productId: 'a', sku: 'A', wholesalePrice: 1.5, retailPrice: 2, currency: 'EUR' }, // wholesale moved
        { productId: 'b', sku: 'B', wholesalePrice: 1, retailPrice: 2, currency: 'EUR' }, // unchanged
        { productId: 'c', sku: 'C', wholesalePrice: 1, retailPrice: 2, currency: 'USD' }, // only the currency: a new price
        { productId: 'd', sku: 'D', wholesalePrice: 3, retailPrice: 4, currency: 'EUR' }, // first prices
        { productId: 'zz', sku: 'Z', wholesalePrice: 3, retailPrice: 4, currency: 'EUR' }, // never imported
      ],
    },
    {
      jobType: 'inventory_update',
      items: [
        { productId: 'a', sku: 'A', stock: 0 },
        { productId: 'b', sku: 'B', stock: 5 },
        { productId: 'd', sku: 'D', stock: 7 },
        { productId: 'zz', sku: 'Z', stock: 1 },
      ],
    },
  ];
  for (const { jobType, items } of cases) {
    await reset();
    assert.ok(fitsOwnedUpdate(jobType, items));
    const expected = planChanges(jobType, new Map(stored.map((s) => [s.supplier_product_id, s])), items);
    const got = await updateOwnedColumns(pg.db, supplierId, jobType, items);
    assert.deepEqual(sortById(got), sortById(expected), jobType);
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
  const got = await updateOwnedColumns(pg.db, supplierId, 'inventory_update', [
    { productId: 'a', sku: 'A', stock: 1 },
    { productId: 'a', sku: 'A', stock: 9 },
  ]);
  assert.deepEqual(
    got.map((c) => c.row.stock),
    [9],
  );
  assert.equal((await products())[0]!.stock, 9);
});
