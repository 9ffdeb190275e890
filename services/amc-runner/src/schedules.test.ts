import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestOf, scheduleOf, toAmc } from './schedules.ts';

test("a run belongs to the workflow's schedule whose period is its window (a workflow may run daily and weekly)", () => {
  const schedules = [
    { schedule_id: 'd', aggregation_period: 'Daily' as const },
    { schedule_id: 'w', aggregation_period: 'Weekly' as const },
  ];
  const week = { timeWindowStart: '2026-11-10T05:00:00Z', timeWindowEnd: '2026-11-17T05:00:00Z' };
  const day = { timeWindowStart: '2026-11-16T05:00:00Z', timeWindowEnd: '2026-11-17T05:00:00Z' };
  assert.equal(scheduleOf(schedules, week), 'w');
  assert.equal(scheduleOf(schedules, day), 'd');
  assert.equal(scheduleOf(schedules, { ...day, scheduleId: 'w' }), 'w', 'AMC naming the schedule wins');
  assert.equal(scheduleOf([schedules[1]!], day), 'w', 'the only schedule, whatever the window');
  assert.equal(scheduleOf([], day), null);
});

test("a run's window becomes a request adsync could send again, in the caller's zone", () => {
  assert.deepEqual(
    requestOf(
      {
        workflowExecutionId: 'x',
        workflowId: 'wf',
        status: 'SUCCEEDED',
        timeWindowStart: '2026-11-10T05:00:00Z',
        timeWindowEnd: '2026-11-17T05:00:00Z',
        timeWindowStartOriginal: '2026-11-10T00:00:00',
        timeWindowEndOriginal: '2026-11-17T00:00:00',
        timeWindowTimeZoneOriginal: 'America/New_York',
      },
      'PARQUET',
    ),
    {
      workflowId: 'wf',
      timeWindowType: 'EXPLICIT',
      timeWindowStart: '2026-11-10T00:00:00',
      timeWindowEnd: '2026-11-17T00:00:00',
      timeWindowTimeZone: 'America/New_York',
      outputFormat: 'PARQUET',
      parameterValues: {},
    },
  );
  const utcOnly = requestOf(
    {
      workflowExecutionId: 'x',
      workflowId: 'wf',
      status: 'PENDING',
      timeWindowStart: '2026-11-10T05:00:00Z',
      timeWindowEnd: '2026-11-17T05:00:00Z',
    },
    'CSV',
  );
  assert.deepEqual(
    [utcOnly.timeWindowStart, utcOnly.timeWindowEnd, utcOnly.timeWindowTimeZone],
    ['2026-11-10T05:00:00', '2026-11-17T05:00:00', 'UTC'],
  );
});

test('AMC gets the whole schedule: a weekly one always names its day, a daily one never does', () => {
  assert.deepEqual(
    toAmc({
      scheduleId: 's',
      workflowId: 'w',
      aggregationPeriod: 'Weekly',
      aggregationHourUtc: 5,
      aggregationStartDay: 'Friday',
      enabled: true,
    }),
    {
      scheduleId: 's',
      workflowId: 'w',
      aggregationPeriod: 'Weekly',
      aggregationHourUtc: 5,
      aggregationStartDay: 'Friday',
      scheduleEnabled: true,
    },
  );
  assert.match(
    toAmc({ scheduleId: 's', workflowId: 'w', aggregationPeriod: 'Weekly', aggregationHourUtc: 5, enabled: true })
      .aggregationStartDay!,
    /day$/,
  );
  assert.deepEqual(
    toAmc({
      scheduleId: 's',
      workflowId: 'w',
      aggregationPeriod: 'Daily',
      aggregationHourUtc: 0,
      aggregationStartDay: 'Friday',
      enabled: false,
    }),
    { scheduleId: 's', workflowId: 'w', aggregationPeriod: 'Daily', aggregationHourUtc: 0, scheduleEnabled: false },
  );
});
