import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterDeath, HEALTHY_AFTER_MS, MAX_DELAY_MS, restartDelayMs } from './restart-policy.ts';

test('a process that dies is started again at once, then after doubling delays up to a ceiling', () => {
  let d = { inARow: 0 };
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    d = afterDeath(d, 500);
    delays.push(restartDelayMs(d));
  }
  assert.deepEqual(delays, [0, 1000, 2000, 4000, 8000, 16000, MAX_DELAY_MS, MAX_DELAY_MS]);
});

test('a run that stayed up a minute resets the count', () => {
  const d = afterDeath({ inARow: 6 }, HEALTHY_AFTER_MS);
  assert.deepEqual(d, { inARow: 1 });
  assert.equal(restartDelayMs(d), 0);
  assert.equal(restartDelayMs(afterDeath({ inARow: 6 }, HEALTHY_AFTER_MS - 1)), MAX_DELAY_MS);
});
