import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from './reconcile.ts';
import { allowedSubscribeUrl } from './subscriptions.ts';

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

test('a SubscribeURL is fetched only from an allowed host, over https unless local', () => {
  const hosts = ['sns.*.amazonaws.com', '127.0.0.1'];
  assert.equal(allowedSubscribeUrl('https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription', hosts), true);
  assert.equal(allowedSubscribeUrl('http://127.0.0.1:18900/_sns/?Action=ConfirmSubscription', hosts), true);
  assert.equal(allowedSubscribeUrl('http://sns.us-east-1.amazonaws.com/', hosts), false, 'plain http to AWS');
  assert.equal(allowedSubscribeUrl('https://sns.us-east-1.amazonaws.com.evil.example/', hosts), false);
  assert.equal(allowedSubscribeUrl('https://169.254.169.254/latest/meta-data/', hosts), false);
  assert.equal(allowedSubscribeUrl('https://a.b.amazonaws.com/', hosts), false, '* is one label');
  assert.equal(allowedSubscribeUrl('file:///etc/passwd', hosts), false);
  assert.equal(allowedSubscribeUrl('not a url', hosts), false);
});
