import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aiScore, planChanges, type StoredProduct } from './job-changes.ts';

const stored: StoredProduct = {
  supplier_product_id: '1',
  sku: 'S1',
  name: 'Lamp',
  currency: 'EUR',
  wholesale_price_micros: 10_000_000,
  retail_price_micros: 18_000_000,
  stock: 5,
};
const existing = new Map([['1', stored]]);

test('a price_update changes prices and nothing else', () => {
  const [c] = planChanges('price_update', existing, [
    { productId: '1', sku: 'S1', name: 'Renamed', wholesalePrice: 11, retailPrice: 19.5, stock: 99 },
  ]);
  assert.deepEqual(c!.row, { ...stored, wholesale_price_micros: 11_000_000, retail_price_micros: 19_500_000 });
  assert.equal(c!.priceChanged, true);
  assert.equal(c!.stockChanged, false);
});

test('a new currency is a new price, which the listings are owed even when the amounts stay', () => {
  const [c] = planChanges('price_update', existing, [
    { productId: '1', sku: 'S1', wholesalePrice: 10, retailPrice: 18, currency: 'USD' },
  ]);
  assert.equal(c!.row.currency, 'USD');
  assert.equal(c!.priceChanged, true);
  assert.equal(c!.stockChanged, false);
});

test('an inventory_update changes stock and nothing else; unknown products are left alone', () => {
  const changes = planChanges('inventory_update', existing, [
    { productId: '1', sku: 'S1', stock: 0, retailPrice: 1 },
    { productId: '2', sku: 'S2', stock: 3 },
  ]);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0]!.row, { ...stored, stock: 0 });
});

test('a full import creates products and reports nothing for unchanged ones', () => {
  const changes = planChanges('supplier_api', existing, [
    { productId: '1', sku: 'S1', name: 'Lamp', currency: 'EUR', wholesalePrice: 10, retailPrice: 18, stock: 5 },
    { productId: '3', sku: 'S3', name: 'Mat', wholesalePrice: 2, retailPrice: 4, stock: 1 },
  ]);
  assert.deepEqual(
    changes.map((c) => [c.row.supplier_product_id, c.created]),
    [['3', true]],
  );
});

test('ai_score follows its documented formula', () => {
  assert.equal(aiScore({ availability: 1, priceMean: 20, priceStdDev: 0, retail: 20, wholesale: 10 }), 85);
  assert.equal(aiScore({ availability: 0, priceMean: 0, priceStdDev: 0, retail: null, wholesale: null }), 0);
  assert.equal(aiScore({ availability: 0.5, priceMean: 10, priceStdDev: 5, retail: 10, wholesale: 12 }), 35);
});

test('a product a batch names twice is planned once, with its last values', () => {
  const changes = planChanges('supplier_api', new Map(), [
    { productId: 'x', sku: 'X', name: 'first', currency: 'EUR', wholesalePrice: 1, retailPrice: 2, stock: 1 },
    { productId: 'y', sku: 'Y', name: 'y', currency: 'EUR', wholesalePrice: 1, retailPrice: 2, stock: 1 },
    { productId: 'x', sku: 'X', name: 'last', currency: 'EUR', wholesalePrice: 3, retailPrice: 4, stock: 9 },
  ]);
  assert.deepEqual(
    changes.map((c) => [c.row.supplier_product_id, c.row.name, c.row.retail_price_micros, c.row.stock]),
    [
      ['x', 'last', 4_000_000, 9],
      ['y', 'y', 2_000_000, 1],
    ],
  );
});
