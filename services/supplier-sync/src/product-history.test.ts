import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HISTORY_COLUMNS, historyLines } from './product-history.ts';

const stamp = { accountId: 'acc', supplierId: 'sup', jobId: 'job', at: '2026-11-24 10:00:00' };

test('a history line gives every column in order, escaping text and writing absent values as the defaults', () => {
  const text = historyLines(stamp, [
    {
      supplier_product_id: 'p\t1',
      sku: 'SKU\\1\n',
      name: 'ignored',
      currency: 'EUR',
      wholesale_price_micros: 1_250_000,
      retail_price_micros: 2_500_000,
      stock: 7,
    },
    {
      supplier_product_id: 'p2',
      sku: null,
      name: null,
      currency: 'EUR',
      wholesale_price_micros: null,
      retail_price_micros: null,
      stock: null,
    },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'every line ends with a line break');
  assert.deepEqual(
    lines.map((l) => l.split('\t')),
    [
      ['acc', 'sup', 'p\\t1', 'SKU\\\\1\\n', '2026-11-24 10:00:00', '1250000', '2500000', '7', 'job'],
      ['acc', 'sup', 'p2', '', '2026-11-24 10:00:00', '0', '0', '0', 'job'],
    ],
  );
  assert.equal(lines[0]!.split('\t').length, HISTORY_COLUMNS.length);
  assert.equal(historyLines(stamp, []), '');
});
