import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttributionRowError,
  attributionDate,
  attributionNumber,
  attributionRequest,
  isAttributionRefusal,
  performanceFact,
  productFact,
} from './attribution.ts';
import { AmazonApiError } from './errors.ts';

test('a row’s day is read from YYYYMMDD or YYYY-MM-DD, and nothing else', () => {
  assert.equal(attributionDate('20261130'), '2026-11-30');
  assert.equal(attributionDate('2026-11-30'), '2026-11-30');
  for (const bad of ['2026-13-40x', '', undefined, '30/11/2026', 20261130.5])
    assert.throws(() => attributionDate(bad), AttributionRowError, String(bad));
});

test('metric values: numbers or text holding one; absent is 0; anything else is refused, never read as 0', () => {
  assert.equal(attributionNumber({ a: '12' }, 'a'), 12);
  assert.equal(attributionNumber({ a: ' 12.50 ' }, 'a'), 12.5);
  assert.equal(attributionNumber({ a: 7 }, 'a'), 7);
  assert.equal(attributionNumber({}, 'a'), 0);
  assert.equal(attributionNumber({ a: null }, 'a'), 0);
  for (const bad of ['1,234', 'n/a', '12abc', Number.NaN, true])
    assert.throws(() => attributionNumber({ a: bad }, 'a'), AttributionRowError, String(bad));
});

test('a performance row: money in micros by the currency’s minor unit, what a level lacks empty', () => {
  const f = performanceFact(
    {
      date: '20261201',
      campaignId: 'c1',
      'Click-throughs': '40',
      attributedPurchases14d: '3',
      attributedSales14d: '59.97',
      totalAttributedSales14d: 79.96,
      brb_bonus_amount: '6.00',
    },
    'USD',
  );
  assert.equal(f.date, '2026-12-01');
  assert.equal(f.ad_group_id, '');
  assert.equal(f.publisher, '');
  assert.equal(f.click_throughs, 40);
  assert.equal(f.sales_micros, 59_970_000);
  assert.equal(f.total_sales_micros, 79_960_000);
  assert.equal(f.brb_bonus_micros, 6_000_000);
  assert.equal(f.kenp_read, 0);
  assert.equal(
    performanceFact({ date: '20261201', campaignId: 'c', attributedSales14d: '1500' }, 'JPY').sales_micros,
    1_500_000_000,
  );
  assert.throws(() => performanceFact({ date: '20261201' }, 'USD'), /campaignId/);
});

test('a products row needs its ASIN and keeps promoted and brand-halo measures apart', () => {
  const f = productFact(
    {
      date: '2026-12-01',
      campaignId: 'c1',
      adGroupId: 'g1',
      productAsin: 'B0TEST0001',
      productConversionType: 'Brand Halo',
      brandHaloAttributedSales14d: '10.00',
      attributedSales14d: '0',
    },
    'EUR',
  );
  assert.equal(f.halo_sales_micros, 10_000_000);
  assert.equal(f.sales_micros, 0);
  assert.equal(f.product_conversion_type, 'Brand Halo');
  assert.throws(() => productFact({ date: '20261201', campaignId: 'c' }, 'USD'), /productAsin/);
});

test('requests: every documented metric, brb_bonus_amount only at campaign and ad group, no groupBy for products', () => {
  const w = { startDate: '2026-11-01', endDate: '2026-11-30', advertiserId: '42' };
  const creative = attributionRequest('PERFORMANCE_CREATIVE', w);
  assert.equal(creative.groupBy, 'CREATIVE');
  assert.equal(creative.startDate, '20261101');
  assert.ok(!creative.metrics!.split(',').includes('brb_bonus_amount'));
  assert.ok(attributionRequest('PERFORMANCE_CAMPAIGN', w).metrics!.split(',').includes('brb_bonus_amount'));
  const products = attributionRequest('PRODUCTS', w);
  assert.equal(products.reportType, 'PRODUCTS');
  assert.equal('groupBy' in products, false);
  assert.ok(products.metrics!.split(',').includes('brandHaloAttributedSales14d'));
  assert.equal(products.advertiserIds, '42');
});

test('Amazon refusing Amazon Attribution is told apart from other failures', () => {
  const err = (status: number, message: string) =>
    new AmazonApiError(status === 403 ? 'forbidden' : 'bad_request', message, { status, hint: '' });
  assert.equal(isAttributionRefusal(err(403, 'Forbidden')), true);
  assert.equal(isAttributionRefusal(err(400, 'This profileID is not authorized to use Amazon Attribution')), true);
  assert.equal(isAttributionRefusal(err(400, 'Invalid metric')), false);
  assert.equal(isAttributionRefusal(new Error('socket hang up')), false);
});
