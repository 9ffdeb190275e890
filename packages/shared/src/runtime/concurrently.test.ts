import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachConcurrently } from './concurrently.ts';

test('every item once, never more than the width at a time, started in order', async () => {
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    started.push(n);
    peak = Math.max(peak, ++running);
    await new Promise((r) => setTimeout(r, 5 + (n % 3) * 3));
    running--;
  });
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(peak, 3);
});

test('no items, or a width below one, still completes; a failure rejects', async () => {
  await forEachConcurrently([], 4, async () => assert.fail('no item to run'));
  const seen: string[] = [];
  await forEachConcurrently(['a', 'b'], 0, async (x) => void seen.push(x));
  assert.deepEqual(seen, ['a', 'b']);
  await assert.rejects(
    forEachConcurrently([1, 2], 2, async (n) => {
      if (n === 2) throw new Error('two failed');
    }),
    /two failed/,
  );
});

test('a failure rejects only after every item has run and settled: nothing is still writing when the caller learns of it', async () => {
  const settled: number[] = [];
  const started: number[] = [];
  let rejectedAt = -1;
  await forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
    started.push(n);
    if (n === 1) throw new Error('one failed');
    await new Promise((r) => setTimeout(r, 20));
    settled.push(n);
  }).catch((err: Error) => {
    rejectedAt = settled.length;
    assert.equal(err.message, 'one failed', 'the first failure');
  });
  assert.equal(rejectedAt, 5, 'every other item had settled when it rejected');
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6], 'the other items still ran: they are independent');
  // Two failures: the first is the one reported.
  await assert.rejects(
    forEachConcurrently([1, 2, 3], 3, async (n) => {
      await new Promise((r) => setTimeout(r, n * 5));
      throw new Error(`failed ${n}`);
    }),
    /failed 1/,
  );
});
