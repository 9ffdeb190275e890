import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tsvField, tsvLine } from './tab-separated.ts';

test('text fields escape what would end or shift a field; absent values are the default 0', () => {
  assert.equal(tsvField('plain'), 'plain');
  assert.equal(tsvField('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re');
  assert.equal(tsvField('{"k":"say \\"hi\\""}'), '{"k":"say \\\\"hi\\\\""}');
  assert.equal(tsvField('Ünïcödé 🛒 "quotes" \'single\''), 'Ünïcödé 🛒 "quotes" \'single\'');
  assert.equal(tsvField(-12_345_678_901), '-12345678901');
  assert.equal(tsvField(undefined), '0');
  assert.equal(tsvField(null), '0');
  assert.equal(tsvField(true), '1');
  assert.throws(() => tsvField(Number.NaN), /NaN cannot be stored/);
  assert.throws(() => tsvField({}), /object cannot be a TabSeparated field/);
  assert.equal(tsvLine({ a: 'x\ty', b: 3 }, ['b', 'missing', 'a']), '3\t0\tx\\ty\n');
});
