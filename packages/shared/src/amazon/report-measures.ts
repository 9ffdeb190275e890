/**
 * The additive measures of the sponsored-ads reports (report-catalog.ts), each set named
 * once and every report type's list composed from them. A list keeps the order of its
 * report's page in Amazon's docs, so it reads against the page line by line and the
 * columns we request stay as they were; where a page orders a set its own way, that part
 * is spelled out in place.
 */

/** Measures in each of Sponsored Products' attribution windows: `purchases` → purchases1d, …7d, …14d, …30d. */
const windows = (...measures: string[]): string[] =>
  measures.flatMap((m) => ['1d', '7d', '14d', '30d'].map((w) => `${m}${w}`));

/** Book measures, list adds and Kindle Unlimited borrows (from clicks and views together). */
const BOOK = ['addToList', 'qualifiedBorrows', 'royaltyQualifiedBorrows'];
const BOOK_FROM_CLICKS = ['addToListFromClicks', 'qualifiedBorrowsFromClicks', 'royaltyQualifiedBorrowsFromClicks'];
/** Each book measure then its click-only part, as the SB pages and SP purchased product list them. */
const BOOK_WITH_CLICKS = [
  'addToList',
  'addToListFromClicks',
  'qualifiedBorrows',
  'qualifiedBorrowsFromClicks',
  'royaltyQualifiedBorrows',
  'royaltyQualifiedBorrowsFromClicks',
];
/** Each book measure then its click-only and view-only parts (Sponsored Display). */
const BOOK_WITH_CLICKS_AND_VIEWS = [
  'addToList',
  'addToListFromClicks',
  'addToListFromViews',
  'qualifiedBorrows',
  'qualifiedBorrowsFromClicks',
  'qualifiedBorrowsFromViews',
  'royaltyQualifiedBorrows',
  'royaltyQualifiedBorrowsFromClicks',
  'royaltyQualifiedBorrowsFromViews',
];
/** Kindle Edition Normalized Pages read, and the royalties they earned, 14 days after the click. */
const KINDLE_PAGES = ['kindleEditionNormalizedPagesRead14d', 'kindleEditionNormalizedPagesRoyalties14d'];

/** SP orders, units and sales in every window: all products of the ad, and its advertised SKU alone. */
const SP_CONVERSIONS = windows('purchases', 'purchasesSameSku', 'unitsSoldClicks', 'sales', 'attributedSalesSameSku');
const SP_UNITS_SAME_SKU = windows('unitsSoldSameSku');

// Sponsored Brands, Display and Television count most measures in total and from clicks;
// Display and Television from views too.
const SB_ADD_TO_CART = ['addToCart', 'addToCartClicks'];
const ADD_TO_CART = ['addToCart', 'addToCartClicks', 'addToCartViews'];
const SB_TRAFFIC = [
  'brandedSearches',
  'brandedSearchesClicks',
  'clicks',
  'cost',
  'detailPageViews',
  'detailPageViewsClicks',
  'impressions',
];
const ST_TRAFFIC = [
  'brandedSearches',
  'brandedSearchesClicks',
  'brandedSearchesViews',
  'clicks',
  'cost',
  'detailPageViews',
  'detailPageViewsClicks',
  'impressions',
];
const SD_TRAFFIC = [...ST_TRAFFIC, 'impressionsViews'];
const SB_CONVERSIONS = [
  'purchases',
  'purchasesClicks',
  'purchasesPromoted',
  'sales',
  'salesClicks',
  'salesPromoted',
  'unitsSold',
  'unitsSoldClicks',
];
const SD_CONVERSIONS = [
  'purchases',
  'purchasesClicks',
  'purchasesPromotedClicks',
  'sales',
  'salesClicks',
  'salesPromotedClicks',
  'unitsSold',
  'unitsSoldClicks',
];
const ST_CONVERSIONS = [
  'purchases',
  'purchasesClicks',
  'purchasesViews',
  'sales',
  'salesClicks',
  'salesViews',
  'unitsSold',
  'unitsSoldClicks',
  'unitsSoldViews',
];

/** Shoppers new to the brand (SB and SD); SB also counts their detail page views, spelt its own way. */
const NEW_TO_BRAND = [
  'newToBrandPurchases',
  'newToBrandPurchasesClicks',
  'newToBrandSales',
  'newToBrandSalesClicks',
  'newToBrandUnitsSold',
  'newToBrandUnitsSoldClicks',
];
const SB_NEW_TO_BRAND = ['newToBrandDetailPageViews', 'newToBrandDetailPageViewsClicks', ...NEW_TO_BRAND];
const NEW_TO_BRAND_DETAIL_PAGE_VIEWS = [
  'newToBrandDetailPageViewClicks',
  'newToBrandDetailPageViews',
  'newToBrandDetailPageViewViews',
];
const ST_NEW_TO_BRAND = [
  'newToBrandPurchases',
  'newToBrandPurchasesClicks',
  'newToBrandPurchasesViews',
  'newToBrandSales',
  'newToBrandSalesClicks',
  'newToBrandSalesViews',
];

const VIDEO_QUARTILES = [
  'videoCompleteViews',
  'videoFirstQuartileViews',
  'videoMidpointViews',
  'videoThirdQuartileViews',
];
const VIDEO = [...VIDEO_QUARTILES, 'videoUnmutes'];
const SB_VIDEO = ['video5SecondViews', ...VIDEO];

/** Gross and invalid traffic, the same for every ad product. */
export const TRAFFIC_QUALITY_MEASURES = [
  'clicks',
  'grossClickThroughs',
  'grossImpressions',
  'impressions',
  'invalidClickThroughs',
  'invalidImpressions',
];

export const SP_CAMPAIGN_MEASURES = [
  'impressions',
  ...BOOK,
  'clicks',
  'cost',
  ...SP_CONVERSIONS,
  ...SP_UNITS_SAME_SKU,
  ...KINDLE_PAGES,
];
/** Targets and search terms add the sales and units of other SKUs than the advertised one. */
export const SP_TARGETING_MEASURES = [...SP_CAMPAIGN_MEASURES, 'salesOtherSku7d', 'unitsSoldOtherSku7d'];
export const SP_ADVERTISED_PRODUCT_MEASURES = [
  ...BOOK,
  'impressions',
  'clicks',
  'cost',
  ...SP_CONVERSIONS,
  'salesOtherSku7d',
  ...SP_UNITS_SAME_SKU,
  'unitsSoldOtherSku7d',
  ...KINDLE_PAGES,
];
export const SP_PURCHASED_PRODUCT_MEASURES = [
  ...BOOK_WITH_CLICKS,
  ...windows('unitsSoldClicks', 'sales', 'purchases', 'unitsSoldOtherSku', 'salesOtherSku', 'purchasesOtherSku'),
  ...KINDLE_PAGES,
];

/** What SB campaigns, ad groups and ads count after their traffic, in the same order. */
const SB_TAIL = [...KINDLE_PAGES, ...SB_NEW_TO_BRAND, ...SB_CONVERSIONS, ...SB_VIDEO];
export const SB_AD_GROUP_MEASURES = [...SB_ADD_TO_CART, ...BOOK_WITH_CLICKS, ...SB_TRAFFIC, ...SB_TAIL];
export const SB_CAMPAIGN_MEASURES = [...SB_AD_GROUP_MEASURES, 'viewableImpressions', 'longTermSales'];
/** SP audiences (bid boost segments, audience.md): traffic and every window of conversions. */
export const SP_AUDIENCE_MEASURES = ['impressions', 'clicks', 'cost', ...SP_CONVERSIONS, ...SP_UNITS_SAME_SKU];
/** SB audiences: traffic, conversions in total and from clicks. */
export const SB_AUDIENCE_MEASURES = [
  'impressions',
  'clicks',
  'cost',
  'purchases',
  'sales',
  'salesClicks',
  'unitsSold',
  'unitsSoldClicks',
];
/** SB by placement: the campaign's measures but long-term sales (placement.md does not list it). */
export const SB_PLACEMENT_MEASURES = [...SB_AD_GROUP_MEASURES, 'viewableImpressions'];
export const SB_AD_MEASURES = [
  ...SB_ADD_TO_CART,
  ...BOOK,
  ...BOOK_FROM_CLICKS,
  ...SB_TRAFFIC,
  ...SB_TAIL,
  'viewableImpressions',
];
export const SB_TARGETING_MEASURES = [
  ...SB_ADD_TO_CART,
  ...BOOK_WITH_CLICKS,
  ...SB_TRAFFIC,
  ...SB_NEW_TO_BRAND,
  // Never requested for SB targeting, though its page lists it.
  ...SB_CONVERSIONS.filter((m) => m !== 'unitsSoldClicks'),
];
export const SB_SEARCH_TERM_MEASURES = [
  ...BOOK_WITH_CLICKS,
  'clicks',
  'cost',
  'impressions',
  ...KINDLE_PAGES,
  'purchases',
  'purchasesClicks',
  'sales',
  'salesClicks',
  'unitsSold',
  ...SB_VIDEO,
  'viewableImpressions',
];
/** SB purchased products come with a 14-day window only. */
export const SB_PURCHASED_PRODUCT_MEASURES = [
  'ordersClicks14d',
  'sales14d',
  'salesClicks14d',
  'orders14d',
  'unitsSold14d',
  'newToBrandSales14d',
  'newToBrandPurchases14d',
  'newToBrandUnitsSold14d',
  'unitsSoldClicks14d',
  ...KINDLE_PAGES,
];

export const SD_AD_GROUP_MEASURES = [
  ...ADD_TO_CART,
  ...BOOK_WITH_CLICKS_AND_VIEWS,
  ...SD_TRAFFIC,
  ...NEW_TO_BRAND,
  ...SD_CONVERSIONS,
  ...VIDEO,
  ...NEW_TO_BRAND_DETAIL_PAGE_VIEWS,
];
/** The campaign page lists newToBrandSales last, after longTermSales. */
export const SD_CAMPAIGN_MEASURES = [
  ...ADD_TO_CART,
  ...BOOK_WITH_CLICKS_AND_VIEWS,
  ...SD_TRAFFIC,
  ...NEW_TO_BRAND.filter((m) => m !== 'newToBrandSales'),
  ...SD_CONVERSIONS,
  ...VIDEO,
  'longTermSales',
  ...NEW_TO_BRAND_DETAIL_PAGE_VIEWS,
  'newToBrandSales',
];
/** The advertised-product page orders add-to-cart and the book measures its own way. */
export const SD_ADVERTISED_PRODUCT_MEASURES = [
  'addToCart',
  'addToCartViews',
  'addToCartClicks',
  'addToList',
  'addToListFromClicks',
  'qualifiedBorrows',
  'royaltyQualifiedBorrows',
  'addToListFromViews',
  'qualifiedBorrowsFromClicks',
  'qualifiedBorrowsFromViews',
  'royaltyQualifiedBorrowsFromClicks',
  'royaltyQualifiedBorrowsFromViews',
  ...SD_TRAFFIC,
  ...NEW_TO_BRAND_DETAIL_PAGE_VIEWS,
  ...NEW_TO_BRAND,
  ...SD_CONVERSIONS,
  ...VIDEO,
];
/** Purchased products count the brand halo (the brand's other products); the book measures in the page's order. */
export const SD_PURCHASED_PRODUCT_MEASURES = [
  'addToList',
  'addToListFromClicks',
  'qualifiedBorrowsFromClicks',
  'royaltyQualifiedBorrowsFromClicks',
  'addToListFromViews',
  'qualifiedBorrows',
  'qualifiedBorrowsFromViews',
  'royaltyQualifiedBorrows',
  'royaltyQualifiedBorrowsFromViews',
  'conversionsBrandHalo',
  'conversionsBrandHaloClicks',
  'salesBrandHalo',
  'salesBrandHaloClicks',
  'unitsSoldBrandHalo',
  'unitsSoldBrandHaloClicks',
];

export const ST_TARGETING_MEASURES = [
  ...ADD_TO_CART,
  ...ST_TRAFFIC,
  ...NEW_TO_BRAND_DETAIL_PAGE_VIEWS,
  ...ST_NEW_TO_BRAND,
  ...ST_CONVERSIONS,
  ...VIDEO_QUARTILES,
];
export const ST_CAMPAIGN_MEASURES = [...ST_TARGETING_MEASURES, 'longTermSales'];

/**
 * The measures that are amounts of money, from which each report type's `money` follows:
 * the ones Amazon types Decimal (columns.md). It types salesBrandHalo and
 * salesBrandHaloClicks Integer, so they are not among them.
 */
export const MONEY = new Set([
  'cost',
  ...windows('sales', 'attributedSalesSameSku', 'salesOtherSku'),
  'kindleEditionNormalizedPagesRoyalties14d',
  'longTermSales',
  'sales',
  'salesClicks',
  'salesClicks14d',
  'salesPromoted',
  'salesPromotedClicks',
  'salesViews',
  'newToBrandSales',
  'newToBrandSales14d',
  'newToBrandSalesClicks',
  'newToBrandSalesViews',
]);
