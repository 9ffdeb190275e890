import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedRateLimiter } from './rate-limiter.ts';

test('waitFor is zero with a token and proportional to the deficit otherwise', () => {
  assert.equal(KeyedRateLimiter.waitFor(1, 5), 0);
  assert.equal(KeyedRateLimiter.waitFor(0, 5), 200);
  assert.equal(KeyedRateLimiter.waitFor(0.5, 10), 50);
});

test('concurrency per key is capped, and keys do not share the cap', async () => {
  const limiter = new KeyedRateLimiter({ ratePerSec: 1000, burst: 1000, concurrency: 2 });
  const inFlight: Record<string, number> = { a: 0, b: 0 };
  const peak: Record<string, number> = { a: 0, b: 0 };
  const job = (k: string) =>
    limiter.run(k, async () => {
      inFlight[k]!++;
      peak[k] = Math.max(peak[k]!, inFlight[k]!);
      await new Promise((r) => setTimeout(r, 10));
      inFlight[k]!--;
    });
  await Promise.all([...Array(6)].flatMap(() => [job('a'), job('b')]));
  assert.deepEqual(peak, { a: 2, b: 2 });
});

test('the bucket paces requests beyond the burst', async () => {
  const limiter = new KeyedRateLimiter({ ratePerSec: 50, burst: 2, concurrency: 10 });
  const started = Date.now();
  await Promise.all([...Array(6)].map(() => limiter.run('p', async () => undefined)));
  // 2 from the burst, 4 more at 50/s: at least ~80 ms.
  assert.ok(Date.now() - started >= 70, `took ${Date.now() - started} ms`);
});
