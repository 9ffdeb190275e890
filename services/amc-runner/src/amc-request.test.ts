import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExecutionBody, lagWarning, mapStatus, windowProblems } from './amc-request.ts';

const now = new Date('2026-11-23T15:30:00Z');

test('without a window: EXPLICIT, the last 7 whole days AMC already has, UTC, CSV', () => {
  assert.deepEqual(buildExecutionBody({ workflowId: 'w' }, now), {
    workflowId: 'w',
    timeWindowType: 'EXPLICIT',
    timeWindowStart: '2026-11-14T00:00:00',
    timeWindowEnd: '2026-11-21T00:00:00',
    timeWindowTimeZone: 'UTC',
    outputFormat: 'CSV',
    parameterValues: {},
  });
  assert.equal(buildExecutionBody({ workflowId: 'w' }, now, 14).timeWindowStart, '2026-11-07T00:00:00');
});

test('given fields pass through exactly; relative windows carry no start or end', () => {
  const b = buildExecutionBody(
    {
      workflowId: 'w',
      timeWindowStart: '2026-10-01T00:00:00',
      timeWindowEnd: '2026-10-08T00:00:00',
      timeWindowTimeZone: 'America/New_York',
      outputFormat: 'PARQUET',
      parameterValues: { asin: 'B0X' },
    },
    now,
  );
  assert.equal(b.timeWindowTimeZone, 'America/New_York');
  assert.equal(b.outputFormat, 'PARQUET');
  assert.deepEqual(b.parameterValues, { asin: 'B0X' });
  const rel = buildExecutionBody({ workflowId: 'w', timeWindowType: 'MOST_RECENT_WEEK' }, now);
  assert.equal('timeWindowStart' in rel, false);
});

test('a window ending inside the 48-hour lag is warned about; an inverted one is a problem', () => {
  assert.match(
    lagWarning(
      buildExecutionBody(
        { workflowId: 'w', timeWindowStart: '2026-11-20T00:00:00', timeWindowEnd: '2026-11-22T00:00:00' },
        now,
      ),
      now,
    ) ?? '',
    /48-hour data lag/,
  );
  assert.equal(
    lagWarning(
      buildExecutionBody({ workflowId: 'w' }, new Date('2026-11-26T00:00:00Z')),
      new Date('2026-11-26T00:00:00Z'),
    ),
    null,
  );
  assert.deepEqual(
    windowProblems(
      buildExecutionBody(
        { workflowId: 'w', timeWindowStart: '2026-11-20T00:00:00', timeWindowEnd: '2026-11-19T00:00:00' },
        now,
      ),
      now,
    ),
    ['timeWindowStart must be before timeWindowEnd'],
  );
});

// how-amc-works.md: an instance "will always have the most recent 13 months of event-level information".
test("a window is refused when it reaches past AMC's 13 months or into the future, the limit named", () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const problems = (start: string, end: string, timeWindowTimeZone = 'UTC') =>
    windowProblems(
      buildExecutionBody({ workflowId: 'w', timeWindowStart: start, timeWindowEnd: end, timeWindowTimeZone }, now),
      now,
    );
  assert.deepEqual(problems('2026-11-01T00:00:00', '2026-11-24T00:00:00'), []);
  assert.deepEqual(problems('2025-10-27T00:00:00', '2025-11-01T00:00:00'), [], 'just inside 13 months');
  assert.match(
    problems('2015-01-01T00:00:00', '2026-11-24T00:00:00').join(),
    /before AMC's 13 months of data \(earliest 2025-10-26\)/,
  );
  assert.match(
    problems('2030-01-01T00:00:00', '2030-02-01T00:00:00').join(),
    /ends in the future \(2030-02-01T00:00:00.000Z\)/,
  );
  // 10:00 in Los Angeles on the 26th is 18:00 UTC: still ahead of 12:00 UTC.
  assert.match(
    problems('2026-11-25T00:00:00', '2026-11-26T10:00:00', 'America/Los_Angeles').join(),
    /ends in the future/,
  );
  assert.deepEqual(problems('2026-11-25T00:00:00', '2026-11-26T03:00:00', 'America/Los_Angeles'), []);
  // Times that do not exist are refused by name, never a crash (the fuzzer's 0000-00-00 was a 500).
  assert.deepEqual(problems('0000-00-00T00:00:00', '2026-11-24T00:00:00'), [
    'timeWindowStart 0000-00-00T00:00:00 is not a date and time that exists',
  ]);
  assert.deepEqual(problems('2026-02-30T00:00:00', '2026-03-02T24:00:00'), [
    'timeWindowStart 2026-02-30T00:00:00 is not a date and time that exists',
    'timeWindowEnd 2026-03-02T24:00:00 is not a date and time that exists',
  ]);
});

test('AMC statuses map to ours', () => {
  assert.deepEqual(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'].map(mapStatus), [
    'pending',
    'running',
    'completed',
    'failed',
    'failed',
  ]);
});
