import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entityRow } from './entity-records.ts';

// Shapes from datasets/sponsored-ads-campaign-management.md (schema tables and sample payloads).
const audit = { creationDateTime: '2026-01-01T00:00:00Z', lastUpdatedDateTime: '2026-12-01T10:00:00.000Z' };

test('a campaign record becomes the row a full sync writes: micros, upper case, dates, SP bidding', () => {
  const r = entityRow(
    'campaigns',
    {
      dataset_id: 'campaigns',
      campaignId: 123,
      adProduct: 'SPONSORED_PRODUCTS',
      name: 'Brand – exact',
      state: 'paused',
      targetingSettings: 'MANUAL',
      startDateTime: '2026-01-05T00:00:00Z',
      budget: {
        budgetCap: { monetaryBudget: { amount: 12.5, currencyCode: 'USD' }, recurrence: { recurrenceType: 'daily' } },
      },
      // The sample payload nests bidSetting inside budget; the schema puts it beside.
      bidSetting: {
        bidStrategy: 'AUTO_FOR_SALES',
        placementBidAdjustment: [{ placement: 'PLACEMENT_TOP', percentage: 35 }],
      },
      audit,
    },
    'p1',
  );
  assert.ok('entity' in r);
  assert.equal(r.entity, 'campaigns');
  assert.deepEqual(r.values, {
    profile_id: 'p1',
    ad_product: 'SPONSORED_PRODUCTS',
    state: 'PAUSED',
    campaign_id: '123',
    name: 'Brand – exact',
    targeting_type: 'MANUAL',
    budget_micros: 12_500_000,
    budget_type: 'DAILY',
    bidding: { strategy: 'AUTO_FOR_SALES', placements: [{ placement: 'PLACEMENT_TOP', percentage: 35 }] },
    start_date: '2026-01-05',
    end_date: null,
    portfolio_id: null,
    amazon_created_at: '2026-01-01T00:00:00.000Z',
    amazon_updated_at: '2026-12-01T10:00:00.000Z',
  });
  const nested = entityRow(
    'campaigns',
    { campaignId: '9', adProduct: 'SPONSORED_PRODUCTS', budget: { bidSetting: { bidStrategy: 'MANUAL' } }, audit },
    'p1',
  );
  assert.ok('entity' in nested);
  // Only what the record states: no adjustments named, the stored ones stay.
  assert.deepEqual(nested.values.bidding, { strategy: 'MANUAL' });
  const bare = entityRow('campaigns', { campaignId: '9', adProduct: 'SPONSORED_PRODUCTS', audit }, 'p1');
  assert.ok('entity' in bare);
  assert.equal(bare.values.bidding, null, 'no bidSetting: the stored bidding stays');
  // SB and SD bidding is not the record's to say (the full sync keeps SP's only): left as stored.
  const sb = entityRow('campaigns', { campaignId: '7', adProduct: 'SPONSORED_BRANDS', name: 'x', audit }, 'p1');
  assert.ok('entity' in sb);
  assert.equal(sb.values.bidding, null);
});

test('ad groups, ads and keyword targets as the full sync writes them; a product target keeps its stored expression', () => {
  const g = entityRow(
    'adgroups',
    {
      adGroupId: 5,
      campaignId: 4,
      adProduct: 'SPONSORED_PRODUCTS',
      bidValue: { defaultBid: { value: 0.73 } },
      state: 'ENABLED',
      audit,
    },
    'p1',
  );
  assert.ok('entity' in g);
  assert.equal(g.entity, 'ad_groups');
  assert.equal(g.values.default_bid_micros, 730_000);
  const ad = entityRow(
    'ads',
    { adId: 8, adGroupId: 5, campaignId: 4, adProduct: 'SPONSORED_PRODUCTS', asin: 'B0X', state: 'archived', audit },
    'p1',
  );
  assert.ok('entity' in ad);
  assert.deepEqual([ad.values.asin, ad.values.state, ad.values.creative], ['B0X', 'ARCHIVED', null]);
  const kw = entityRow(
    'targets',
    {
      targetId: 9,
      adGroupId: 5,
      campaignId: 4,
      adProduct: 'SPONSORED_PRODUCTS',
      targetType: 'KEYWORD',
      negative: false,
      bid: 1.05,
      keywordTarget: { keyword: 'cold brew', matchType: 'exact' },
      state: 'ENABLED',
      audit,
    },
    'p1',
  );
  assert.ok('entity' in kw);
  assert.deepEqual(
    [
      kw.values.target_type,
      kw.values.expression,
      kw.values.expression_text,
      kw.values.match_type,
      kw.values.bid_micros,
    ],
    ['KEYWORD', { type: 'KEYWORD', text: 'cold brew', matchType: 'EXACT' }, 'cold brew', 'EXACT', 1_050_000],
  );
  const pt = entityRow(
    'targets',
    {
      targetId: 10,
      adProduct: 'SPONSORED_PRODUCTS',
      targetType: 'EXPRESSION',
      bid: 0.5,
      productTarget: { targetingClause: 'asin="B0Y"' },
      audit,
    },
    'p1',
  );
  assert.ok('entity' in pt);
  assert.deepEqual([pt.values.expression, pt.values.target_type, pt.values.bid_micros], [null, null, 500_000]);
});

test('a negative target is left to its own table (the full sync keeps it): not applied, not a dead letter', () => {
  const r = entityRow('targets', { targetId: 1, adProduct: 'SPONSORED_PRODUCTS', negative: true, audit }, 'p1');
  assert.deepEqual(r, { ignored: 'target 1 is negative' });
});

test('a record that cannot be placed or trusted is refused with the reason', () => {
  const cases: [Parameters<typeof entityRow>[0], Record<string, unknown>, RegExp][] = [
    ['campaigns', { adProduct: 'SPONSORED_PRODUCTS', audit }, /without campaignId/],
    ['campaigns', { campaignId: 1, adProduct: 'DSP', audit }, /not a sponsored-ads product/],
    ['campaigns', { campaignId: 1, adProduct: 'SPONSORED_PRODUCTS' }, /without audit.lastUpdatedDateTime/],
    [
      'campaigns',
      { campaignId: 1, adProduct: 'SPONSORED_PRODUCTS', audit: { lastUpdatedDateTime: 'yesterday' } },
      /not an ISO 8601 time/,
    ],
    [
      'campaigns',
      {
        campaignId: 1,
        adProduct: 'SPONSORED_PRODUCTS',
        budget: { budgetCap: { monetaryBudget: { amount: 'ten' } } },
        audit,
      },
      /must be a non-negative number/,
    ],
    ['adgroups', { adGroupId: 1, adProduct: 'SPONSORED_PRODUCTS', audit }, /without campaignId/],
    [
      'targets',
      { targetId: 1, adProduct: 'SPONSORED_PRODUCTS', targetType: 'KEYWORD', keywordTarget: {}, audit },
      /without keywordTarget.keyword/,
    ],
    [
      'targets',
      { targetId: 1, adProduct: 'SPONSORED_PRODUCTS', keywordTarget: { keyword: 'x', matchType: 'FUZZY' }, audit },
      /EXACT, PHRASE or BROAD/,
    ],
  ];
  for (const [dataset, record, reason] of cases) {
    const r = entityRow(dataset, record, 'p1');
    assert.ok('invalid' in r, `${dataset} ${JSON.stringify(record)} refused`);
    assert.match(r.invalid, reason);
  }
});
