import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onCompletion, whileWaiting } from './data-gaps.ts';

const gap = [{ startTime: '2026-01-03T00:00:00', endTime: '2026-01-04T00:00:00', reason: 'DATA_NOT_AVAILABLE' }];
const limits = { waitedMs: 0, maxWaitMs: 7 * 86_400_000, recheckMs: 3600_000 };

test('nothing to decide without a gap, or when AMC runs the window anyway, or once it runs', () => {
  for (const policy of ['fail', 'run_anyway', 'wait_and_rerun'] as const) {
    assert.deepEqual(whileWaiting({ status: 'PENDING', gaps: [], ignoredGaps: false, policy, ...limits }), {
      action: 'keep_waiting',
    });
    assert.deepEqual(whileWaiting({ status: 'PENDING', gaps: gap, ignoredGaps: true, policy, ...limits }), {
      action: 'keep_waiting',
    });
    assert.deepEqual(whileWaiting({ status: 'RUNNING', gaps: gap, ignoredGaps: false, policy, ...limits }), {
      action: 'keep_waiting',
    });
    const done = onCompletion({ gaps: [], policy, ...limits });
    assert.deepEqual(done, { load: true, partial: false, rerunAfterMs: null, failReason: null, warning: null });
  }
});

test('while AMC waits for data: fail fails with the gap, run_anyway replaces at once ignoring gaps, wait_and_rerun later', () => {
  const fail = whileWaiting({ status: 'PENDING', gaps: gap, ignoredGaps: false, policy: 'fail', ...limits });
  assert.equal(fail.action, 'fail');
  assert.match((fail as { reason: string }).reason, /2026-01-03T00:00:00–2026-01-04T00:00:00 \(DATA_NOT_AVAILABLE\)/);
  assert.deepEqual(
    {
      ...whileWaiting({ status: 'PENDING', gaps: gap, ignoredGaps: false, policy: 'run_anyway', ...limits }),
      reason: '',
    },
    { action: 'replace', ignoreDataGaps: true, notBeforeMs: 0, reason: '' },
  );
  assert.deepEqual(
    {
      ...whileWaiting({ status: 'PENDING', gaps: gap, ignoredGaps: false, policy: 'wait_and_rerun', ...limits }),
      reason: '',
    },
    { action: 'replace', ignoreDataGaps: false, notBeforeMs: 3600_000, reason: '' },
  );
  const tooLong = whileWaiting({
    status: 'PENDING',
    gaps: gap,
    ignoredGaps: false,
    policy: 'wait_and_rerun',
    ...limits,
    waitedMs: limits.maxWaitMs,
  });
  assert.equal(tooLong.action, 'fail');
  assert.match((tooLong as { reason: string }).reason, /did not close within 168 h/);
});

test('a result with a gap: run_anyway loads it partial, wait_and_rerun loads it and runs the window again, fail does not load', () => {
  assert.deepEqual(
    { ...onCompletion({ gaps: gap, policy: 'run_anyway', ...limits }), warning: null },
    { load: true, partial: true, rerunAfterMs: null, failReason: null, warning: null },
  );
  assert.deepEqual(
    { ...onCompletion({ gaps: gap, policy: 'wait_and_rerun', ...limits }), warning: null },
    { load: true, partial: true, rerunAfterMs: 3600_000, failReason: null, warning: null },
  );
  const last = onCompletion({ gaps: gap, policy: 'wait_and_rerun', ...limits, waitedMs: limits.maxWaitMs });
  assert.equal(last.rerunAfterMs, null);
  assert.match(last.warning!, /this partial result stands/);
  const fail = onCompletion({ gaps: gap, policy: 'fail', ...limits });
  assert.equal(fail.load, false);
  assert.match(fail.failReason!, /not loaded/);
});
