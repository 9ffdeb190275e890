import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localToday, zonedToUtc } from './calendar.ts';

test("a profile's today is its zone's, asked many times with one formatter per zone", () => {
  const at = new Date('2026-12-06T03:30:00Z');
  assert.equal(localToday('UTC', at), '2026-12-06');
  assert.equal(localToday('America/Los_Angeles', at), '2026-12-05');
  assert.equal(localToday('Asia/Tokyo', at), '2026-12-06');
  for (let i = 0; i < 1000; i++) assert.equal(localToday('America/Los_Angeles', at), '2026-12-05');
  assert.throws(() => localToday('Not/AZone', at), RangeError);
});

test('a wall-clock time in a zone is the UTC instant AMC expects (execute-workflow.md: 00:00 New York → 04:00Z)', () => {
  assert.equal(zonedToUtc('2024-06-01T00:00:00', 'America/New_York'), '2024-06-01T04:00:00Z');
  assert.equal(zonedToUtc('2024-12-01T00:00:00', 'America/New_York'), '2024-12-01T05:00:00Z');
  assert.equal(zonedToUtc('2024-12-01T00:00:00Z', 'America/New_York'), '2024-12-01T00:00:00Z');
});
