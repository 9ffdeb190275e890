/**
 * The Amazon Attribution API (the Attribution model in packages/amazon-models; the guides
 * en-us/guides/amazon-attribution/*.md): a profile's advertisers, the publishers, the tags (macro
 * tags for publishers that support macros, template tags for the rest; calling them is what turns
 * measurement on, how-to.md), and the synchronous report, paged by count and cursorId.
 *
 * Rows come back as Amazon writes them; `attributionFact` turns one into our columns (money in
 * micros, dates as YYYY-MM-DD) and refuses a row it cannot read rather than guess.
 */
import type { AmazonAdsClient } from './ads-client.ts';
import { AmazonApiError } from './errors.ts';
import { moneyToMicros } from './currency.ts';
import { AppError } from '../runtime/errors.ts';
import {
  ATTRIBUTION_PERFORMANCE_METRICS,
  ATTRIBUTION_PRODUCTS_METRICS,
} from '@adsync/amazon-models/attribution-metrics';
import type {
  AttributionAdvertisers,
  AttributionPublishers,
  AttributionReportPage,
  AttributionReportRequest,
  AttributionTags,
} from './model-types.ts';

/** The model's largest page (ReportRequestBody.count maximum). */
export const ATTRIBUTION_PAGE = 5000;

export interface AttributionAdvertiser {
  advertiserId: string;
  advertiserName: string;
}

export interface AttributionPublisher {
  id: string;
  name: string;
  macroEnabled: boolean;
}

/**
 * Amazon refusing Amazon Attribution for a profile: 403 (troubleshooting.md: "This advertiser
 * profile may not be eligible"), or the 400 Airbyte's connector has met ("This profileID is not
 * authorized to use Amazon Attribution", source_amazon_ads/streams/attribution_report.py).
 */
export function isAttributionRefusal(err: unknown): boolean {
  if (!(err instanceof AmazonApiError)) return false;
  if (err.status === 403) return true;
  return err.status === 400 && /not authorized to use Amazon Attribution/i.test(err.message);
}

export async function listAttributionAdvertisers(
  client: AmazonAdsClient,
  profileId: string,
): Promise<AttributionAdvertiser[]> {
  const res = await client.call<AttributionAdvertisers>({
    method: 'GET',
    path: '/attribution/advertisers',
    profileId,
    what: `list the Amazon Attribution advertisers of profile ${profileId}`,
  });
  return (res.body.advertisers ?? [])
    .filter((a) => a.advertiserId)
    .map((a) => ({ advertiserId: String(a.advertiserId), advertiserName: a.advertiserName ?? '' }));
}

export async function listAttributionPublishers(
  client: AmazonAdsClient,
  profileId: string,
): Promise<AttributionPublisher[]> {
  const res = await client.call<AttributionPublishers & { publishers?: AttributionPublishers['publisher'] }>({
    method: 'GET',
    path: '/attribution/publishers',
    profileId,
    what: `list Amazon Attribution's publishers (profile ${profileId})`,
  });
  // The model names the list `publisher`; some clients read `publishers`: either is taken.
  const list = res.body.publisher ?? res.body.publishers ?? [];
  return list
    .filter((p) => p.id !== undefined && p.id !== null)
    .map((p) => ({ id: String(p.id as unknown), name: p.name ?? '', macroEnabled: p.macroEnabled === true }));
}

export interface AttributionTagRow {
  advertiserId: string;
  publisherId: string;
  macro: boolean;
  tag: string;
}

/**
 * The tags of every publisher for the advertisers named: macro tags for the macro publishers,
 * template tags for the others, one call each. The answer is the model's
 * `advertiserAttributionTagMap` (advertiser → publisher → tag); the bare map of the model's
 * example is read too.
 */
export async function attributionTags(
  client: AmazonAdsClient,
  profileId: string,
  publishers: AttributionPublisher[],
  advertiserIds: string[],
): Promise<AttributionTagRow[]> {
  const out: AttributionTagRow[] = [];
  for (const macro of [true, false]) {
    const ids = publishers.filter((p) => p.macroEnabled === macro).map((p) => p.id);
    if (!ids.length || !advertiserIds.length) continue;
    const res = await client.call<AttributionTags>({
      method: 'GET',
      path: macro ? '/attribution/tags/macroTag' : '/attribution/tags/nonMacroTemplateTag',
      profileId,
      query: { publisherIds: ids, advertiserIds },
      what: `get the ${macro ? 'macro' : 'template'} attribution tags of profile ${profileId}`,
    });
    const body = res.body as Record<string, unknown>;
    const map = (body.advertiserAttributionTagMap ?? body) as Record<string, unknown>;
    for (const [advertiserId, byPublisher] of Object.entries(map)) {
      if (!byPublisher || typeof byPublisher !== 'object') continue;
      for (const [publisherId, tag] of Object.entries(byPublisher as Record<string, unknown>))
        if (typeof tag === 'string') out.push({ advertiserId, publisherId, macro, tag });
    }
  }
  return out;
}

export type AttributionReportKind =
  'PERFORMANCE_CAMPAIGN' | 'PERFORMANCE_ADGROUP' | 'PERFORMANCE_CREATIVE' | 'PRODUCTS';

export const ATTRIBUTION_REPORT_KINDS: readonly AttributionReportKind[] = [
  'PERFORMANCE_CAMPAIGN',
  'PERFORMANCE_ADGROUP',
  'PERFORMANCE_CREATIVE',
  'PRODUCTS',
];

/**
 * Days back each report type reaches (how-to.md: performance the last 13 months, products 90
 * days), counted short of them: 13 calendar months are never fewer than 393 days.
 */
export const ATTRIBUTION_REACH_DAYS: Record<AttributionReportKind, number> = {
  PERFORMANCE_CAMPAIGN: 390,
  PERFORMANCE_ADGROUP: 390,
  PERFORMANCE_CREATIVE: 390,
  PRODUCTS: 90,
};

/**
 * Every metric each report documents (the model's ReportRequestBody.metrics); brb_bonus_amount is
 * asked for by name where the model allows it (attributionRequest).
 */
export const PERFORMANCE_METRICS = ATTRIBUTION_PERFORMANCE_METRICS.filter((m) => m !== 'brb_bonus_amount');
export const PRODUCTS_METRICS = ATTRIBUTION_PRODUCTS_METRICS;

/**
 * The request of one report kind: every documented metric, and brb_bonus_amount where the model
 * allows it (campaign and ad group; it must be asked for by name, and is left out of the answer
 * for an advertiser not enrolled).
 */
export function attributionRequest(
  kind: AttributionReportKind,
  o: { startDate: string; endDate: string; advertiserId: string },
): AttributionReportRequest {
  const compact = (d: string) => d.replaceAll('-', '');
  const performance = kind !== 'PRODUCTS';
  const metrics: string[] = performance ? [...PERFORMANCE_METRICS] : [...PRODUCTS_METRICS];
  if (kind === 'PERFORMANCE_CAMPAIGN' || kind === 'PERFORMANCE_ADGROUP') metrics.push('brb_bonus_amount');
  return {
    reportType: performance ? 'PERFORMANCE' : 'PRODUCTS',
    ...(performance ? { groupBy: kind.slice('PERFORMANCE_'.length) as 'CAMPAIGN' | 'ADGROUP' | 'CREATIVE' } : {}),
    advertiserIds: o.advertiserId,
    startDate: compact(o.startDate),
    endDate: compact(o.endDate),
    metrics: metrics.join(','),
    count: ATTRIBUTION_PAGE,
    cursorId: '',
  };
}

/** A report's pages, one at a time, until Amazon gives no further cursor. */
export async function* attributionReportPages(
  client: AmazonAdsClient,
  profileId: string,
  request: AttributionReportRequest,
): AsyncGenerator<Record<string, unknown>[]> {
  let cursorId = '';
  for (let page = 1; ; page++) {
    const res = await client.call<AttributionReportPage>({
      method: 'POST',
      path: '/attribution/report',
      profileId,
      contentType: 'application/json',
      body: { ...request, cursorId },
      what: `attribution report ${request.reportType}${request.groupBy ? ` by ${request.groupBy}` : ''} page ${page}`,
    });
    const rows = (res.body.reports ?? []) as Record<string, unknown>[];
    yield rows;
    const next = res.body.cursorId;
    if (!next || rows.length === 0) return;
    cursorId = next;
  }
}

/** A row Amazon wrote that cannot be read as its report says: kept out, with why. */
export class AttributionRowError extends AppError {
  constructor(message: string) {
    super('ADSYNC_ATTRIBUTION_ROW', message, { retriable: false });
    this.name = 'AttributionRowError';
  }
}

/** The day of a row: YYYYMMDD (as requests write it) or YYYY-MM-DD. */
export function attributionDate(v: unknown): string {
  const s = String(v ?? '');
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s);
  if (!m || Number.isNaN(Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`)))
    throw new AttributionRowError(`date ${JSON.stringify(v)} is not a day`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** A metric's value: a number, or text holding one (Airbyte reads every metric as text); absent is 0. */
export function attributionNumber(row: Record<string, unknown>, metric: string): number {
  const v = row[metric];
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v.trim());
  throw new AttributionRowError(`${metric} is ${JSON.stringify(v)}, not a number`);
}

/** Our columns of a performance row (every level: what a level lacks is ''). */
export function performanceFact(row: Record<string, unknown>, currency: string) {
  const n = (m: string) => attributionNumber(row, m);
  const money = (m: string) => moneyToMicros(n(m), currency);
  const text = (k: string) => (row[k] === undefined || row[k] === null ? '' : String(row[k]));
  if (!text('campaignId')) throw new AttributionRowError('the row names no campaignId');
  return {
    date: attributionDate(row.date),
    advertiser_name: text('advertiserName'),
    campaign_id: text('campaignId'),
    ad_group_id: text('adGroupId'),
    creative_id: text('creativeId'),
    publisher: text('publisher'),
    click_throughs: n('Click-throughs'),
    detail_page_views: n('attributedDetailPageViewsClicks14d'),
    add_to_carts: n('attributedAddToCartClicks14d'),
    purchases: n('attributedPurchases14d'),
    units_sold: n('unitsSold14d'),
    sales_micros: money('attributedSales14d'),
    total_detail_page_views: n('attributedTotalDetailPageViewsClicks14d'),
    total_add_to_carts: n('attributedTotalAddToCartClicks14d'),
    total_purchases: n('attributedTotalPurchases14d'),
    total_units_sold: n('totalUnitsSold14d'),
    total_sales_micros: money('totalAttributedSales14d'),
    brb_bonus_micros: money('brb_bonus_amount'),
    kenp_read: n('kindleEditionNormalizedPagesRead14d'),
    kenp_royalties_micros: money('kindleEditionNormalizedPagesRoyalties14d'),
  };
}

/** Our columns of a products row. */
export function productFact(row: Record<string, unknown>, currency: string) {
  const n = (m: string) => attributionNumber(row, m);
  const money = (m: string) => moneyToMicros(n(m), currency);
  const text = (k: string) => (row[k] === undefined || row[k] === null ? '' : String(row[k]));
  if (!text('campaignId')) throw new AttributionRowError('the row names no campaignId');
  if (!text('productAsin')) throw new AttributionRowError('the row names no productAsin');
  return {
    date: attributionDate(row.date),
    advertiser_name: text('advertiserName'),
    campaign_id: text('campaignId'),
    ad_group_id: text('adGroupId'),
    publisher: text('publisher'),
    product_asin: text('productAsin'),
    product_conversion_type: text('productConversionType'),
    product_name: text('productName'),
    brand_name: text('brandName'),
    product_group: text('productGroup'),
    product_category: text('productCategory'),
    product_subcategory: text('productSubcategory'),
    marketplace: text('marketplace'),
    detail_page_views: n('attributedDetailPageViewsClicks14d'),
    add_to_carts: n('attributedAddToCartClicks14d'),
    purchases: n('attributedPurchases14d'),
    units_sold: n('unitsSold14d'),
    sales_micros: money('attributedSales14d'),
    halo_detail_page_views: n('brandHaloDetailPageViewsClicks14d'),
    halo_add_to_carts: n('brandHaloAttributedAddToCartClicks14d'),
    halo_purchases: n('brandHaloAttributedPurchases14d'),
    halo_units_sold: n('brandHaloUnitsSold14d'),
    halo_sales_micros: money('brandHaloAttributedSales14d'),
    ntb_purchases: n('attributedNewToBrandPurchases14d'),
    ntb_units_sold: n('attributedNewToBrandUnitsSold14d'),
    ntb_sales_micros: money('attributedNewToBrandSales14d'),
    halo_ntb_purchases: n('brandHaloNewToBrandPurchases14d'),
    halo_ntb_units_sold: n('brandHaloNewToBrandUnitsSold14d'),
    halo_ntb_sales_micros: money('brandHaloNewToBrandSales14d'),
    kenp_read: n('kindleEditionNormalizedPagesRead14d'),
    kenp_royalties_micros: money('kindleEditionNormalizedPagesRoyalties14d'),
  };
}

export type PerformanceFact = ReturnType<typeof performanceFact>;
export type ProductFact = ReturnType<typeof productFact>;
