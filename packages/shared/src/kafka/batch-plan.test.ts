import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evenChunks, planChunk, type RawMessage } from './batch-plan.ts';

const msg = (offset: number, value: string | null): RawMessage => ({
  offset: String(offset),
  key: Buffer.from(`k${offset}`),
  value: value === null ? null : Buffer.from(value),
});

test('poison messages are separated with their reason; commit covers the whole chunk', async () => {
  const plan = await planChunk([msg(10, '1'), msg(11, 'x'), msg(12, '3')], async (m) => {
    const n = Number(m.value?.toString());
    if (Number.isNaN(n)) throw new Error('not a number');
    return n;
  });
  assert.deepEqual(
    plan.good.map((g) => [g.offset, g.key, g.value]),
    [
      ['10', 'k10', 1],
      ['12', 'k12', 3],
    ],
  );
  assert.equal(plan.dead.length, 1);
  assert.equal(plan.dead[0]?.raw.offset, '11');
  assert.equal(plan.dead[0]?.reason, 'not a number');
  assert.equal(plan.dead[0]?.step, 'decode');
  assert.equal(plan.commitOffset, '13');
});

test('offsets beyond 2^53 are committed exactly', async () => {
  const plan = await planChunk(
    [msg(0, '1')].map((m) => ({ ...m, offset: '9007199254740993' })),
    async () => 1,
  );
  assert.equal(plan.commitOffset, '9007199254740994');
});

test('an empty chunk commits nothing', async () => {
  assert.equal((await planChunk([], async () => 1)).commitOffset, null);
});

test('evenChunks splits in order into as few chunks as the size allows, as even as they can be', () => {
  assert.deepEqual(evenChunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(evenChunks([1, 2, 3, 4, 5], 3), [
    [1, 2, 3],
    [4, 5],
  ]);
  assert.deepEqual(evenChunks([], 3), []);
  for (let n = 1; n <= 200; n++)
    for (const size of [1, 7, 50]) {
      const items = Array.from({ length: n }, (_, i) => i);
      const parts = evenChunks(items, size);
      assert.equal(parts.length, Math.ceil(n / size));
      assert.deepEqual(parts.flat(), items);
      const sizes = parts.map((p) => p.length);
      assert.ok(Math.max(...sizes) <= size && Math.max(...sizes) - Math.min(...sizes) <= 1, `${n}/${size}: ${sizes}`);
    }
});
