import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleEvent } from '@adsync/shared/kafka/sample-events';
import { rowsParsedProblem } from './rows-check.ts';

const event = (patch: Record<string, unknown>) => {
  const ev = sampleEvent('rows.parsed', 'x');
  return { ...ev, rows: [ev.rows[0]!, { ...ev.rows[0]!, ...patch }] };
};

test('a well-formed batch passes', () => {
  assert.equal(rowsParsedProblem(sampleEvent('rows.parsed', 'x')), null);
});

test('negative counts, fractional counts, negative money and impossible days are named, with the row', () => {
  assert.equal(
    rowsParsedProblem(event({ clicks: -5 })),
    'impossible rows in report rep-1 batch 0: row 1: clicks -5 is not a count (a whole number ≥ 0)',
  );
  assert.match(rowsParsedProblem(event({ units: 1.5 }))!, /row 1: units 1.5 is not a count/);
  assert.match(rowsParsedProblem(event({ costMicros: -1 }))!, /row 1: costMicros -1 is not an amount in micros/);
  assert.match(rowsParsedProblem(event({ date: '2026-02-30' }))!, /row 1: date "2026-02-30" is not a calendar day/);
  assert.match(rowsParsedProblem(event({ entityId: '' }))!, /row 1: entityId is empty/);
  assert.match(
    rowsParsedProblem({ ...sampleEvent('rows.parsed', 'x'), pulledAt: 'yesterday' })!,
    /pulledAt "yesterday"/,
  );
});

test('an unknown report type and a measure its table has no column for are named', () => {
  assert.equal(
    rowsParsedProblem({ ...sampleEvent('rows.parsed', 'x'), reportType: 'spMystery' }),
    'unknown report type "spMystery"',
  );
  const ev = sampleEvent('rows.parsed', 'x');
  const bad = { ...ev, rows: [{ ...ev.rows[0]!, measures: { ...ev.rows[0]!.measures, 'x); DROP TABLE t; --': 1 } }] };
  assert.match(rowsParsedProblem(bad)!, /row 0: measure "x\); DROP TABLE t; --" has no column in ads_metrics_daily/);
  // Every measure the catalogue gives a report type is storable.
  assert.equal(rowsParsedProblem(ev), null);
});

test('in the compact form, a measure column with no column in the table, or a row with the wrong number of values, is named', () => {
  const ev = sampleEvent('rows.parsed', 'x');
  const compact = (columns: string[], values: number[][]) => ({
    ...ev,
    measureColumns: columns,
    rows: values.map((v) => ({ ...ev.rows[0]!, measures: {}, measureValues: v })),
  });
  assert.equal(rowsParsedProblem(compact(['sales_7d_micros', 'purchases_7d'], [[1, 2]])), null);
  assert.match(
    rowsParsedProblem(compact(['sales_7d_micros', 'not_a_measure'], [[1, 2]]))!,
    /measure column "not_a_measure" has no column in ads_metrics_daily/,
  );
  assert.match(
    rowsParsedProblem(compact(['sales_7d_micros', 'purchases_7d'], [[1, 2], [3]]))!,
    /row 1: 1 measure values for 2 measure columns/,
  );
});
