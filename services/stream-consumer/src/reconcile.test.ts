import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from './reconcile.ts';

const sums = (o: Partial<Record<string, number>>) => ({
  impressions: 0,
  clicks: 0,
  cost_micros: 0,
  orders: 0,
  sales_micros: 0,
  units: 0,
  ...o,
});

test('differences within the tolerance pass; beyond it, each campaign metric is named with both values', () => {
  const t = { relative: 0.01, moneyMicros: 10_000 };
  const report = new Map([
    ['c1', sums({ impressions: 1000, clicks: 10, cost_micros: 5_000_000 })],
    ['c2', sums({ impressions: 50, orders: 2 })],
  ]);
  const stream = new Map([
    ['c1', sums({ impressions: 995, clicks: 9, cost_micros: 5_009_000 })],
    ['c3', sums({ clicks: 1 })],
  ]);
  assert.deepEqual(compare(report, stream, t), [
    { campaignId: 'c1', metric: 'clicks', reportValue: 10, streamValue: 9 },
    { campaignId: 'c2', metric: 'impressions', reportValue: 50, streamValue: 0 },
    { campaignId: 'c2', metric: 'orders', reportValue: 2, streamValue: 0 },
    { campaignId: 'c3', metric: 'clicks', reportValue: 0, streamValue: 1 },
  ]);
  assert.deepEqual(compare(report, report, { relative: 0, moneyMicros: 0 }), [], 'equal is equal');
});
