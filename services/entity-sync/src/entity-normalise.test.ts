import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '@adsync/sandbox';
import * as views from '@adsync/sandbox/amazon/views';
import * as n from './entity-normalise.ts';
import {
  expressionText,
  sdCampaign,
  spCampaign,
  spKeyword,
  spProductTarget,
  toDate,
  toMicros,
  EntityShapeError,
} from './entity-normalise.ts';

test('money to integer micros without float drift', () => {
  assert.equal(toMicros(0.29), 290_000);
  assert.equal(toMicros(1.1), 1_100_000);
  assert.equal(toMicros('12.34'), 12_340_000);
  assert.equal(toMicros(undefined), null);
});

test('dates from both API generations', () => {
  assert.equal(toDate('20260315'), '2026-03-15');
  assert.equal(toDate('2026-03-15'), '2026-03-15');
  assert.equal(toDate(''), null);
});

test('an SP v3 campaign: state upper case, bidding in the one shape every source shares', () => {
  const row = spCampaign('p1', {
    campaignId: '123',
    name: 'C',
    state: 'ARCHIVED',
    targetingType: 'MANUAL',
    budget: { budget: 50.5, budgetType: 'DAILY' },
    dynamicBidding: { strategy: 'AUTO_FOR_SALES' },
    startDate: '2026-01-02',
    extendedData: { lastUpdateDateTime: '2026-11-01T00:00:00Z' },
  });
  assert.equal(row.state, 'ARCHIVED');
  assert.equal(row.budget_micros, 50_500_000);
  assert.deepEqual(row.bidding, { strategy: 'AUTO_FOR_SALES', placements: [], costType: null });
  assert.equal(row.amazon_updated_at, '2026-11-01T00:00:00Z');
});

test('an SD campaign: numeric id becomes a string, its lower-case state upper case like every other source', () => {
  const row = sdCampaign('p1', {
    campaignId: 300000000000001,
    name: 'D',
    state: 'enabled',
    budget: 10,
    budgetType: 'daily',
    startDate: '20260101',
    lastUpdatedDate: 1767225600000,
  });
  assert.equal(row.campaign_id, '300000000000001');
  assert.equal(row.state, 'ENABLED');
  assert.equal(row.budget_type, 'DAILY');
  assert.equal(row.start_date, '2026-01-01');
  assert.equal(row.amazon_updated_at, '2026-01-01T00:00:00.000Z');
});

test('a keyword becomes a target: keywordId → target id, text and match type → expression', () => {
  const t = spKeyword('p1', {
    keywordId: '9',
    adGroupId: '8',
    campaignId: '7',
    keywordText: 'coffee beans',
    matchType: 'EXACT',
    bid: 0.75,
    state: 'ENABLED',
  });
  assert.equal(t.target_id, '9');
  assert.equal(t.target_type, 'KEYWORD');
  assert.deepEqual(t.expression, { type: 'KEYWORD', text: 'coffee beans', matchType: 'EXACT' });
  assert.equal(t.bid_micros, 750_000);
});

test("a product target keeps Amazon's expression and gets readable text", () => {
  const t = spProductTarget('p1', {
    targetId: '5',
    adGroupId: '6',
    campaignId: '7',
    expression: [{ type: 'ASIN_SAME_AS', value: 'B0ABC' }],
    resolvedExpression: [{ type: 'ASIN_SAME_AS', value: 'B0ABC' }],
    expressionType: 'MANUAL',
    state: 'PAUSED',
  });
  assert.equal(t.target_type, 'PRODUCT');
  assert.equal(t.expression_text, 'asin="B0ABC"');
  assert.equal(expressionText([{ type: 'QUERY_BROAD_REL_MATCHES' }]), 'query_broad_rel_matches');
});

test('an entity without its id is refused with the reason', () => {
  assert.throws(() => spCampaign('p1', { name: 'no id' } as never), EntityShapeError);
});

// A full sync reads the export, an incremental one the lists: the same entity must land as the same row.
const untimed = (r: object) => ({ ...r, amazon_created_at: null, amazon_updated_at: null });

test('every entity normalises to the same row from its list API and from the export', () => {
  const ds = new Dataset(5, {
    profiles: 1,
    campaignsPerProfile: 12,
    sbCampaignsPerProfile: 5,
    sdCampaignsPerProfile: 5,
  });
  const adGroups = new Map(
    (['sp', 'sb', 'sd'] as const).flatMap((p) => [...ds.all(p, 'adGroup', 0)].map((g) => [g.id, g.campaignId!])),
  );
  const campaignOf = (id: string) => adGroups.get(id) ?? null;
  const cases: [string, () => unknown[], () => unknown[]][] = [
    [
      'SP campaigns',
      () => [...ds.all('sp', 'campaign', 0)].map((e) => n.spCampaign('p', views.spV3(e, true) as never)),
      () => [...ds.all('sp', 'campaign', 0)].map((e) => n.exportCampaign('p', views.exported(e, 'USD'))),
    ],
    [
      'SB campaigns',
      () => [...ds.all('sb', 'campaign', 0)].map((e) => n.sbCampaign('p', views.sbV4(e, true) as never)),
      () => [...ds.all('sb', 'campaign', 0)].map((e) => n.exportCampaign('p', views.exported(e, 'USD'))),
    ],
    [
      'SD campaigns',
      () => [...ds.all('sd', 'campaign', 0)].map((e) => n.sdCampaign('p', views.sd(e, true) as never)),
      () => [...ds.all('sd', 'campaign', 0)].map((e) => n.exportCampaign('p', views.exported(e, 'USD'))),
    ],
    [
      'SP ad groups',
      () => [...ds.all('sp', 'adGroup', 0)].map((e) => n.spAdGroup('p', views.spV3(e, true) as never)),
      () => [...ds.all('sp', 'adGroup', 0)].map((e) => n.exportAdGroup('p', views.exported(e, 'USD'))),
    ],
    [
      'SP ads',
      () => [...ds.all('sp', 'ad', 0)].map((e) => n.spProductAd('p', views.spV3(e, true) as never)),
      () => [...ds.all('sp', 'ad', 0)].map((e) => n.exportAd('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SP keywords',
      () => [...ds.all('sp', 'keyword', 0)].map((e) => n.spKeyword('p', views.spV3(e, true) as never)),
      () => [...ds.all('sp', 'keyword', 0)].map((e) => n.exportTarget('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SP product targets',
      () => [...ds.all('sp', 'productTarget', 0)].map((e) => n.spProductTarget('p', views.spV3(e, true) as never)),
      () => [...ds.all('sp', 'productTarget', 0)].map((e) => n.exportTarget('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SB ad groups',
      () => [...ds.all('sb', 'adGroup', 0)].map((e) => n.sbAdGroup('p', views.sbV4(e, true) as never)),
      () => [...ds.all('sb', 'adGroup', 0)].map((e) => n.exportAdGroup('p', views.exported(e, 'USD'))),
    ],
    [
      'SD ad groups',
      () => [...ds.all('sd', 'adGroup', 0)].map((e) => n.sdAdGroup('p', views.sd(e, true) as never)),
      () => [...ds.all('sd', 'adGroup', 0)].map((e) => n.exportAdGroup('p', views.exported(e, 'USD'))),
    ],
    [
      'SB ads',
      () => [...ds.all('sb', 'ad', 0)].map((e) => n.sbAd('p', views.sbV4(e, true) as never)),
      () => [...ds.all('sb', 'ad', 0)].map((e) => n.exportAd('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SD ads',
      () => [...ds.all('sd', 'ad', 0)].map((e) => n.sdProductAd('p', views.sd(e, true) as never)),
      () => [...ds.all('sd', 'ad', 0)].map((e) => n.exportAd('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SD targets, similar-product audiences included',
      () => [...ds.all('sd', 'productTarget', 0)].map((e) => n.sdTarget('p', views.sd(e, true) as never)),
      () => [...ds.all('sd', 'productTarget', 0)].map((e) => n.exportTarget('p', views.exported(e, 'USD'), campaignOf)),
    ],
    [
      'SB keywords (the v3 list has no timestamps)',
      () => [...ds.all('sb', 'keyword', 0)].map((e) => untimed(n.sbKeyword('p', views.sbV3(e) as never))),
      () =>
        [...ds.all('sb', 'keyword', 0)].map((e) => untimed(n.exportTarget('p', views.exported(e, 'USD'), campaignOf))),
    ],
    [
      'SB product targets (the v3 list has no timestamps)',
      () => [...ds.all('sb', 'productTarget', 0)].map((e) => untimed(n.sbProductTarget('p', views.sbV3(e) as never))),
      () =>
        [...ds.all('sb', 'productTarget', 0)].map((e) =>
          untimed(n.exportTarget('p', views.exported(e, 'USD'), campaignOf)),
        ),
    ],
    [
      'SP negatives, ad-group and campaign level',
      () => [
        ...[...ds.all('sp', 'negativeKeyword', 0)].map((e) => n.spNegativeKeyword('p', views.spV3(e, true) as never)),
        ...[...ds.all('sp', 'negativeTarget', 0)].map((e) => n.spNegativeTarget('p', views.spV3(e, true) as never)),
        ...[...ds.all('sp', 'campaignNegativeKeyword', 0)].map((e) =>
          n.spCampaignNegativeKeyword('p', views.spV3(e, true) as never),
        ),
      ],
      () =>
        (['negativeKeyword', 'negativeTarget', 'campaignNegativeKeyword'] as const).flatMap((k) =>
          [...ds.all('sp', k, 0)].map((e) => n.exportNegativeTarget('p', views.exported(e, 'USD'), campaignOf)),
        ),
    ],
    [
      'SB negative keywords and targets (the v3 lists have no timestamps)',
      () => [
        ...[...ds.all('sb', 'negativeKeyword', 0)].map((e) =>
          untimed(n.sbNegativeKeyword('p', views.sbV3(e) as never)),
        ),
        ...[...ds.all('sb', 'negativeTarget', 0)].map((e) => untimed(n.sbNegativeTarget('p', views.sbV3(e) as never))),
      ],
      () =>
        (['negativeKeyword', 'negativeTarget'] as const).flatMap((k) =>
          [...ds.all('sb', k, 0)].map((e) =>
            untimed(n.exportNegativeTarget('p', views.exported(e, 'USD'), campaignOf)),
          ),
        ),
    ],
    [
      'SD negative targets',
      () => [...ds.all('sd', 'negativeTarget', 0)].map((e) => n.sdNegativeTarget('p', views.sd(e, true) as never)),
      () =>
        [...ds.all('sd', 'negativeTarget', 0)].map((e) =>
          n.exportNegativeTarget('p', views.exported(e, 'USD'), campaignOf),
        ),
    ],
  ];
  const instant = (r: unknown) => {
    const o = { ...(r as Record<string, unknown>) };
    for (const k of ['amazon_created_at', 'amazon_updated_at'])
      o[k] = o[k] ? new Date(String(o[k])).toISOString() : null;
    return o;
  };
  for (const [what, fromList, fromExport] of cases) {
    assert.ok(fromList().length > 0, `${what}: the dataset has some`);
    assert.deepEqual(fromExport().map(instant), fromList().map(instant), what);
  }
  assert.ok(
    [...ds.all('sd', 'productTarget', 0)].some((e) => e.expression?.[0]?.type === 'SIMILAR_PRODUCT'),
    'the SD case covers a similar-product audience',
  );
});
