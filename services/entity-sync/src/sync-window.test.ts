import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incrementalSince, inWindow, nextWatermark } from './sync-window.ts';

const now = new Date('2026-11-23T12:00:00Z');

test('full runs read everything; the first incremental run goes back 30 days; later ones 25 h before the watermark', () => {
  assert.equal(incrementalSince('full', new Date(), now), null);
  assert.equal(incrementalSince('incremental', null, now)?.toISOString(), '2026-10-24T12:00:00.000Z');
  assert.equal(
    incrementalSince('incremental', new Date('2026-11-23T06:00:00Z'), now)?.toISOString(),
    '2026-11-22T05:00:00.000Z',
  );
});

test('window membership, with unknown update times always taken', () => {
  const since = new Date('2026-11-20T00:00:00Z');
  assert.equal(inWindow('2026-11-20T00:00:00Z', since), true);
  assert.equal(inWindow('2026-11-19T23:59:59Z', since), false);
  assert.equal(inWindow(null, since), true);
  assert.equal(inWindow('2026-01-01T00:00:00Z', null), true);
});

test('the watermark never moves backwards', () => {
  const prev = new Date('2026-11-20T00:00:00Z');
  assert.equal(nextWatermark(prev, Date.parse('2026-11-19T00:00:00Z')), prev);
  assert.equal(nextWatermark(prev, Date.parse('2026-11-21T00:00:00Z'))?.toISOString(), '2026-11-21T00:00:00.000Z');
  assert.equal(nextWatermark(null, null), null);
});
