import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amcLocalTime, executionRequest, resultColumns, toCsv, windowOf } from '../web/src/amc.ts';

const form = {
  workflowId: 'wf',
  instanceId: 'amc1',
  timeWindowType: 'EXPLICIT',
  start: '2026-11-01T00:00',
  end: '2026-11-08T00:00',
  timeZone: 'America/New_York',
  outputFormat: 'CSV',
  parameters: '',
};

test("amcLocalTime: a datetime-local value becomes AMC's yyyy-MM-ddTHH:mm:ss", () => {
  assert.equal(amcLocalTime('2026-11-01T00:00'), '2026-11-01T00:00:00');
  assert.equal(amcLocalTime('2026-11-01T05:06:07'), '2026-11-01T05:06:07');
  assert.equal(amcLocalTime('2026-11-01T05:06:07.250'), '2026-11-01T05:06:07');
  assert.equal(amcLocalTime(''), null);
  assert.equal(amcLocalTime('2026-11-01'), null);
});

test('executionRequest: an explicit window with its zone and format, as AMC takes it (seed 003)', () => {
  assert.deepEqual(executionRequest(form), {
    body: {
      workflowId: 'wf',
      instanceId: 'amc1',
      timeWindowType: 'EXPLICIT',
      timeWindowTimeZone: 'America/New_York',
      outputFormat: 'CSV',
      timeWindowStart: '2026-11-01T00:00:00',
      timeWindowEnd: '2026-11-08T00:00:00',
    },
  });
});

test('executionRequest: a relative window sends no start or end; an empty zone is UTC; parameters pass as an object', () => {
  const r = executionRequest({
    ...form,
    timeWindowType: 'MOST_RECENT_WEEK',
    start: '',
    end: '',
    timeZone: ' ',
    parameters: '{"campaign_ids":["1"]}',
  });
  assert.deepEqual(r, {
    body: {
      workflowId: 'wf',
      instanceId: 'amc1',
      timeWindowType: 'MOST_RECENT_WEEK',
      timeWindowTimeZone: 'UTC',
      outputFormat: 'CSV',
      parameterValues: { campaign_ids: ['1'] },
    },
  });
});

test('executionRequest: what is wrong is said in words, nothing is sent', () => {
  assert.match((executionRequest({ ...form, end: '' }) as { problem: string }).problem, /start and an end/);
  assert.match((executionRequest({ ...form, end: form.start }) as { problem: string }).problem, /before it ends/);
  assert.match((executionRequest({ ...form, parameters: '{oops' }) as { problem: string }).problem, /JSON object/);
  assert.match((executionRequest({ ...form, parameters: '[1]' }) as { problem: string }).problem, /JSON object/);
});

test('toCsv: RFC 4180 quoting, CRLF, empty for null, formulas defused, numbers kept', () => {
  const csv = toCsv(
    ['a', 'b', 'c'],
    [
      { a: 'x,y', b: 'say "hi"', c: null },
      { a: '=SUM(A1)', b: -3.5, c: 'line\nbreak' },
    ],
  );
  assert.equal(csv, 'a,b,c\r\n"x,y","say ""hi""",\r\n\'=SUM(A1),-3.5,"line\nbreak"\r\n');
});

test("resultColumns: the execution's declared columns, else the first row's", () => {
  assert.deepEqual(resultColumns(['b', 'a'], [{ a: 1, b: 2 }]), ['b', 'a']);
  assert.deepEqual(resultColumns(null, [{ a: 1, b: 2 }]), ['a', 'b']);
  assert.deepEqual(resultColumns(undefined, []), []);
});

test('windowOf: an explicit window in its zone; a relative one by its name', () => {
  const e = {
    request: { timeWindowType: 'EXPLICIT', timeWindowTimeZone: 'Europe/Berlin' },
    timeWindowStart: '2026-11-01T00:00:00',
    timeWindowEnd: '2026-11-08T00:00:00',
  };
  assert.equal(windowOf(e as never), '2026-11-01T00:00:00 – 2026-11-08T00:00:00 Europe/Berlin');
  assert.equal(
    windowOf({ request: { timeWindowType: 'MOST_RECENT_WEEK' }, timeWindowStart: null, timeWindowEnd: null } as never),
    'most recent week (UTC)',
  );
});
