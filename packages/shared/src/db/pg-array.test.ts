import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, type FreshPostgres } from '../testing/test-stack.ts';
import { pgArray } from './array-literal.ts';

let pg: FreshPostgres;
before(async () => {
  pg = await freshPostgres();
});
after(() => pg.drop());

test('pgArray: what Postgres reads back is exactly the JS array, for text that needs quoting and for numbers, booleans and nulls', async () => {
  const text = [
    'plain',
    '',
    ' lead',
    'NULL',
    'null',
    'a,b',
    '{x}',
    'q"uote',
    'back\\slash',
    '\\"',
    'tab\tnl\ncr\r',
    'ünï',
    null,
  ];
  const { rows } = await pg.db.raw(
    `select ?::text[] as text, array_to_json(?::int8[]) as ints, ?::float8[] as floats, ?::bool[] as bools, ?::int4[] as empty`,
    [
      pgArray(text),
      pgArray([1, -2, 9_007_199_254_740_991, null]),
      pgArray([1.5, -0.25, 1e-7]),
      pgArray([true, false, null]),
      pgArray([]),
    ],
  );
  assert.deepEqual(rows[0], {
    text,
    ints: [1, -2, 9_007_199_254_740_991, null],
    floats: [1.5, -0.25, 1e-7],
    bools: [true, false, null],
    empty: [],
  });
});

test('pgArray: an array that is not flat text, numbers or booleans still goes through the driver (dates as timestamps)', async () => {
  const at = new Date('2026-11-24T10:00:00.123Z');
  const { rows } = await pg.db.raw(`select ?::timestamptz[] as at`, [pgArray([at, null])]);
  assert.deepEqual(rows[0].at, [at, null]);
});

test('pgArray: numbers that are not finite read back as node-postgres would send them', async () => {
  const { rows } = await pg.db.raw(`select ?::float8[] as f`, [pgArray([Number.NaN, Infinity, -Infinity, -0])]);
  assert.deepEqual(rows[0].f, [Number.NaN, Infinity, -Infinity, 0]);
  await assert.rejects(pg.db.raw(`select ?::int8[] as i`, [pgArray([1e21])]), /out of range|invalid input/);
});

test('pgArray: one parameter for 10,000 keys, where a list of parameters would be one each', async () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
  const { rows } = await pg.db.raw(`select count(*)::int as n from unnest(?::text[]) k where k = any(?::text[])`, [
    pgArray(ids),
    pgArray(ids.slice(0, 7000)),
  ]);
  assert.equal(rows[0].n, 7000);
});
