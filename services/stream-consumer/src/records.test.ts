import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalise, parseMessage } from './records.ts';
import { signAsSns } from '@adsync/sandbox/sns-signing';

const record = {
  idempotency_id: 'abc-1',
  dataset_id: 'sp-traffic',
  marketplace_id: 'ATVPDKIKX0DER',
  currency: 'USD',
  advertiser_id: 'ENTITY1',
  campaign_id: 12345678901234,
  ad_group_id: '2',
  ad_id: '3',
  keyword_id: '4',
  keyword_text: 'red shoes',
  match_type: 'EXACT',
  placement: 'Top of Search on-Amazon',
  time_window_start: '2026-11-24T10:00:00-08:00',
  clicks: 3,
  impressions: 120,
  cost: 1.23,
};

const sns = (m: Record<string, string>) =>
  signAsSns(
    { MessageId: 'm1', TopicArn: 'arn:t', Timestamp: '2026-11-24T20:00:00.000Z', ...m } as never,
    'https://sns.us-east-1.amazonaws.com',
    '2',
  );

test('an SNS Notification, a raw record and a SubscriptionConfirmation are told apart, each with its envelope', () => {
  const notification = sns({ Type: 'Notification', Message: JSON.stringify(record) });
  assert.deepEqual(parseMessage(JSON.stringify(notification)), {
    kind: 'record',
    dataset: 'sp-traffic',
    record,
    envelope: notification,
  });
  assert.deepEqual(parseMessage(JSON.stringify(record)), {
    kind: 'record',
    dataset: 'sp-traffic',
    record,
    envelope: null,
  });
  const confirmation = sns({
    Type: 'SubscriptionConfirmation',
    SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?x',
    Token: 't',
    Message: 'confirm',
  });
  assert.deepEqual(parseMessage(JSON.stringify(confirmation)), {
    kind: 'confirmation',
    subscribeUrl: 'https://sns.us-east-1.amazonaws.com/?x',
    topicArn: 'arn:t',
    token: 't',
    envelope: confirmation,
  });
});

test('what cannot be a record says why', () => {
  const reason = (body: string) => (parseMessage(body) as { reason: string }).reason;
  assert.equal(reason('{'), 'the message body is not JSON');
  assert.equal(reason('[1]'), 'the message body is not a JSON object');
  assert.equal(
    reason(JSON.stringify(sns({ Type: 'Notification', Message: '{' }))),
    'the SNS Notification Message is not JSON',
  );
  assert.equal(
    reason(JSON.stringify(sns({ Type: 'UnsubscribeConfirmation', Message: 'bye', Token: 't', SubscribeURL: 'x' }))),
    'an SNS message of type UnsubscribeConfirmation, which carries no record',
  );
  // Nothing SNS sends is acted on unsigned: without the fields a signature needs, it is refused before it is read.
  assert.equal(
    reason(JSON.stringify({ Type: 'Notification', Message: JSON.stringify(record) })),
    'an SNS Notification without its signature fields',
  );
  assert.equal(reason(JSON.stringify({ idempotency_id: 'x' })), 'the record has no dataset_id');
  assert.equal(reason(JSON.stringify({ dataset_id: 'dsp-traffic' })), 'unknown dataset "dsp-traffic"');
});

test('a traffic record becomes a row: micros, ids as strings, the UTC hour and the local day and hour', () => {
  const row = normalise('sp-traffic', record, '1000', Date.parse('2026-11-24T20:00:00Z'));
  assert.ok('table' in row);
  assert.equal(row.table, 'stream_traffic_hourly');
  assert.deepEqual(
    {
      campaign_id: row.values.campaign_id,
      hour: row.values.hour,
      local_date: row.values.local_date,
      local_hour: row.values.local_hour,
      cost_micros: row.values.cost_micros,
      clicks: row.values.clicks,
      target_id: row.values.target_id,
      target_text: row.values.target_text,
      extra: row.values.extra,
    },
    {
      campaign_id: '12345678901234',
      hour: '2026-11-24 18:00:00',
      local_date: '2026-11-24',
      local_hour: 10,
      cost_micros: 1_230_000,
      clicks: 3,
      target_id: '4',
      target_text: 'red shoes',
      extra: '{}',
    },
  );
});

test('conversion fields map to their columns; fields Amazon adds later are kept in extra; negative deltas stay negative', () => {
  const row = normalise(
    'sd-conversion',
    {
      ...record,
      dataset_id: 'sd-conversion',
      target_id: '9',
      keyword_id: undefined,
      attributed_sales_14d: -2.5,
      view_attributed_units_ordered_new_to_brand_14d: 1,
      attributed_detail_page_view_14d: 7,
    },
    '1',
    0,
  );
  assert.ok('table' in row);
  assert.equal(row.values.sales_micros_14d, -2_500_000);
  assert.equal(row.values.view_ntb_units_14d, 1);
  assert.equal(row.values.target_id, '9');
  assert.deepEqual(JSON.parse(String(row.values.extra)), {
    clicks: 3,
    impressions: 120,
    cost: 1.23,
    attributed_detail_page_view_14d: 7,
  });
});

test('impossible records are refused with the reason', () => {
  const bad = (r: Record<string, unknown>, dataset: 'sp-traffic' | 'budget-usage' = 'sp-traffic') =>
    (normalise(dataset, r, '1', 0) as { invalid: string }).invalid;
  assert.equal(bad({ ...record, idempotency_id: '' }), 'a record without idempotency_id');
  assert.equal(bad({ ...record, campaign_id: undefined }), 'a record without campaign_id');
  assert.match(bad({ ...record, time_window_start: '2026-11-24T10:30:00-08:00' }), /is not the start of an hour/);
  assert.match(bad({ ...record, time_window_start: '2026-11-24T10:00:00' }), /ISO 8601 with offset/);
  assert.equal(bad({ ...record, clicks: '3' }), 'clicks must be a number, not "3"');
  assert.equal(
    bad({ budget_scope_id: '1', budget_scope_type: 'CAMPAIGN' }, 'budget-usage'),
    'budget-usage record without usage_updated_timestamp',
  );
});
