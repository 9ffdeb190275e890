import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tsvField, tsvLine } from './tab-separated.ts';
import { PermanentError } from '../runtime/errors.ts';

test('text fields escape what would end or shift a field; absent values are the default 0', () => {
  assert.equal(tsvField('plain'), 'plain');
  assert.equal(tsvField('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re');
  assert.equal(tsvField('{"k":"say \\"hi\\""}'), '{"k":"say \\\\"hi\\\\""}');
  assert.equal(tsvField('Ünïcödé 🛒 "quotes" \'single\''), 'Ünïcödé 🛒 "quotes" \'single\'');
  assert.equal(tsvField(-12_345_678_901), '-12345678901');
  assert.equal(tsvField(undefined), '0');
  assert.equal(tsvField(null), '0');
  assert.equal(tsvField(true), '1');
  // Bad data, not ClickHouse going away: never retried or waited for (runtime/errors.ts).
  assert.throws(
    () => tsvField(Number.NaN),
    (e: unknown) => e instanceof PermanentError && /NaN cannot be stored/.test(e.message),
  );
  assert.throws(
    () => tsvField({}),
    (e: unknown) => e instanceof PermanentError && /object cannot be a TabSeparated/.test(e.message),
  );
  assert.equal(tsvLine({ a: 'x\ty', b: 3 }, ['b', 'missing', 'a']), '3\t0\tx\\ty\n');
});
