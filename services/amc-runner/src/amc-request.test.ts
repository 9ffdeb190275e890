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
    ),
    ['timeWindowStart must be before timeWindowEnd'],
  );
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
