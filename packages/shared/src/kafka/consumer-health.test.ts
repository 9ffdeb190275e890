import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterCrash, afterFetch } from './consumer-health.ts';

test('a consumer crash loop makes it not ready; one crash it restarts from does not', () => {
  const t0 = 1_000_000;
  assert.deepEqual(afterCrash([t0], t0, true).status, 'degraded');
  assert.deepEqual(afterCrash([t0, t0 + 1_000], t0 + 1_000, true).status, 'degraded');
  const loop = afterCrash([t0, t0 + 1_000, t0 + 2_000], t0 + 2_000, true);
  assert.equal(loop.status, 'error');
  assert.match(loop.detail, /crash loop \(3 crashes within a minute\)/);
  // Crashes spread over more than a minute are not a loop.
  assert.equal(afterCrash([t0, t0 + 40_000, t0 + 80_000], t0 + 80_000, true).status, 'degraded');
  assert.equal(afterCrash([t0], t0, false).status, 'error');
});

test('a consumer that fetches again after its crashes is ready again, with nothing else to read', () => {
  const t0 = 1_000_000;
  const loop = afterCrash([t0, t0 + 1_000, t0 + 2_000], t0 + 2_000, true);
  assert.equal(loop.status, 'error');
  assert.deepEqual(afterFetch(loop, true), { status: 'ok', detail: 'running again after a crash' });
  // A fetch with no crash before it leaves the state as it was (a retry's "degraded", say).
  const retrying = { status: 'degraded' as const, detail: 'retrying 2 message(s)' };
  assert.equal(afterFetch(retrying, false), retrying);
});
