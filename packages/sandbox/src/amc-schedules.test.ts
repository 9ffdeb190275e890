import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTimes } from './amc-routes.ts';
import type { AmcSchedule } from './amc-state.ts';

const base: AmcSchedule = {
  instanceId: 'i',
  scheduleId: 's',
  workflowId: 'w',
  aggregationPeriod: 'Weekly',
  aggregationHourUtc: 16,
  aggregationStartDay: 'Tuesday',
  scheduleEnabled: true,
  lastRunAt: 0,
  headers: {},
};
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('schedule-workflow.md: weekly on the start day at aggregationHourUtc, strictly after the last run', () => {
  // 2026-11-24 is a Tuesday.
  assert.deepEqual(runTimes(base, at('2026-11-24T16:00:00Z'), at('2026-12-09T00:00:00Z')).map(iso), [
    '2026-12-01T16:00:00.000Z',
    '2026-12-08T16:00:00.000Z',
  ]);
  assert.deepEqual(runTimes(base, at('2026-11-24T15:59:59Z'), at('2026-11-24T16:00:00Z')).map(iso), [
    '2026-11-24T16:00:00.000Z',
  ]);
});

test('daily runs every day at the hour, and never more than asked for', () => {
  const daily = { ...base, aggregationPeriod: 'Daily' as const, aggregationHourUtc: 0 };
  assert.deepEqual(runTimes(daily, at('2026-11-24T08:00:00Z'), at('2026-11-27T00:00:00Z')).map(iso), [
    '2026-11-25T00:00:00.000Z',
    '2026-11-26T00:00:00.000Z',
    '2026-11-27T00:00:00.000Z',
  ]);
  assert.equal(runTimes(daily, 0, at('2026-11-27T00:00:00Z'), 5).length, 5);
});
