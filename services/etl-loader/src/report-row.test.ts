import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseRow } from './report-row.ts';

const ctx = { reportTypeId: 'spTargeting', currency: 'USD', startDate: '2026-11-01', endDate: '2026-11-07' };
const base = {
  date: '2026-11-02',
  campaignId: 100000000000001,
  adGroupId: 400000000000002,
  keywordId: 600000000000003,
  keyword: 'coffee',
  matchType: 'EXACT',
  campaignBudgetCurrencyCode: 'USD',
  impressions: 100,
  clicks: 3,
  cost: 1.29,
  sales7d: 19.99,
  purchases7d: 1,
  unitsSoldClicks7d: 2,
};

test('ids become strings, money micros, the target id keys a targeting row', () => {
  const r = normaliseRow(base, ctx);
  assert.ok(r.ok);
  assert.equal(r.row.entityId, '600000000000003');
  assert.equal(r.row.campaignId, '100000000000001');
  assert.equal(r.row.costMicros, 1_290_000);
  assert.equal(r.row.salesMicros, 19_990_000);
  assert.equal(r.row.units, 2);
  assert.equal(r.row.attributes.keyword, 'coffee');
});

test('zero-decimal currencies', () => {
  const r = normaliseRow({ ...base, campaignBudgetCurrencyCode: 'JPY', cost: 129, sales7d: 1999 }, ctx);
  assert.ok(r.ok);
  assert.equal(r.row.costMicros, 129_000_000);
  assert.equal(r.row.currency, 'JPY');
});

test('rows that cannot be trusted are refused with the reason', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, date: '02/11/2026' }, /date/],
    [{ ...base, date: '2026-12-01' }, /outside the report window/],
    [{ ...base, campaignId: null }, /campaignId/],
    [{ ...base, keywordId: 'abc' }, /target id/],
    [{ ...base, clicks: -1 }, /clicks/],
    [{ ...base, cost: 'lots' }, /cost/],
  ];
  for (const [row, reason] of cases) {
    const r = normaliseRow(row, ctx);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, reason);
  }
});
