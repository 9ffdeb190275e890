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

test('a campaign recommendation as Amazon’s guide shows it (fields in messageBody, times as "… UTC") is one row with what it missed', () => {
  // guides/recommendations/partner-opportunities/how-to.md, trimmed.
  const wrapped = {
    advertiserId: 'A2B3WACBWPDWRJ',
    entityId: 'ENTITY1ITEBBD7GQJC8',
    marketplaceId: 'ATVPDKIKX0DER',
    datasetId: 'sponsored-ads-campaign-diagnostics-recommendations',
    messageBody: {
      recommendation_id: '1ea17717-c04c-4ef1-817b-1a0ef03a7e07',
      group_id: 'e3c38e01-4309-42d1-83dc-4b06aa2e997a',
      apply_endpoint: '/recommendations/apply',
      type: 'KEYWORD_BID',
      published_date: '2024-09-04T17:11:14 UTC',
      publish_metadata: { published_by: 'AMAZON_ADS_ACCOUNT_TEAM', published_to_amazon_ad_console: true },
      expiry_date: '2024-09-18T17:11:14 UTC',
      explanation: {
        description: 'Campaigns with high clickthrough rate, compared to similar campaigns.',
        missed_opportunities: null,
      },
      campaign_id: '211302794061744',
      campaign_name: 'ECI - Manual - SP',
      ad_product: 'SP',
      current_campaign_settings: { ad_groups: [{ adgroup_id: '172393940497616', targets: [{ bid: 0.75 }] }] },
      recommended_campaign_settings: { ad_groups: [{ adgroup_id: '172393940497616', targets: [{ bid: 0.95 }] }] },
    },
  };
  const parsed = parseMessage(JSON.stringify(wrapped));
  assert.equal(parsed.kind, 'record');
  if (parsed.kind !== 'record') return;
  assert.equal(parsed.dataset, 'sponsored-ads-campaign-diagnostics-recommendations');
  assert.equal(parsed.record.advertiser_id, 'A2B3WACBWPDWRJ');
  const row = normalise(parsed.dataset as never, parsed.record, 'p1', Date.parse('2024-09-05T00:00:00Z'));
  assert.ok('table' in row, JSON.stringify(row));
  assert.equal(row.table, 'stream_campaign_recommendations');
  assert.equal(row.values.published_at, '2024-09-04 17:11:14');
  assert.equal(row.values.expires_at, '2024-09-18 17:11:14');
  assert.equal(row.values.missed_clicks_upper, 0);
  assert.deepEqual(JSON.parse(String(row.values.recommended_settings)).ad_groups[0].targets[0].bid, 0.95);
  assert.match(String(row.values.extra), /publish_metadata/);
  // A budget recommendation's bounds, and what cannot be read refused with why.
  const budget = {
    ...parsed.record,
    type: 'CAMPAIGN_BUDGET',
    explanation: { missed_opportunities: { clicks: { lower_bound: 3, upper_bound: 9 }, time_period: 'LAST_7_DAYS' } },
  };
  const b = normalise(parsed.dataset as never, budget, 'p1', 0);
  assert.ok('table' in b && b.values.missed_clicks_lower === 3 && b.values.missed_clicks_upper === 9);
  for (const [bad, why] of [
    [{ ...budget, recommendation_id: undefined }, /recommendation_id/],
    [{ ...budget, published_date: 'last week' }, /published_date/],
    [{ ...budget, explanation: { missed_opportunities: { clicks: { upper_bound: 'nine' } } } }, /upper_bound/],
  ] as const)
    assert.match((normalise(parsed.dataset as never, bad, 'p1', 0) as { invalid: string }).invalid, why);
});

test('Sponsored Brands clickstream and rich media land in their own tables, every measure a column', () => {
  const base = { ...record, keyword_type: 'BROAD', placement_type: 'Top of Search on-Amazon' };
  const click = normalise(
    'sb-clickstream',
    {
      ...base,
      dataset_id: 'sb-clickstream',
      attributed_branded_searches_14d: 2,
      view_attributed_detail_page_views_14d: 7,
    },
    'p1',
    0,
  );
  assert.ok('table' in click);
  assert.equal(click.table, 'stream_sb_clickstream_hourly');
  assert.equal(click.values.branded_searches_14d, 2);
  assert.equal(click.values.view_detail_page_views_14d, 7);
  assert.equal(click.values.detail_page_views_14d, 0);
  assert.equal('dataset_id' in click.values, false);
  const video = normalise('sb-rich-media', { ...base, dataset_id: 'sb-rich-media', video_unmutes: 4 }, 'p1', 0);
  assert.ok('table' in video && video.table === 'stream_sb_rich_media_hourly' && video.values.video_unmutes === 4);
  const bad = normalise('sb-rich-media', { ...base, dataset_id: 'sb-rich-media', video_unmutes: '4' }, 'p1', 0);
  assert.match((bad as { invalid: string }).invalid, /video_unmutes must be a number/);
});
