import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.ts';

test('full jitter stays within [0, min(cap, base*2^n))', () => {
  const policy = { baseMs: 100, maxMs: 1000 };
  assert.equal(
    backoffDelay(0, policy, () => 0.999999),
    99,
  );
  assert.equal(
    backoffDelay(3, policy, () => 0.5),
    400,
  );
  assert.equal(
    backoffDelay(10, policy, () => 0.5),
    500,
    'capped at maxMs',
  );
  assert.equal(
    backoffDelay(5, policy, () => 0),
    0,
  );
});
