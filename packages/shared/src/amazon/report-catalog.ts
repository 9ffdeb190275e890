/**
 * Every sponsored-ads report of the Reporting API v3 that adsync loads: Amazon's report
 * type and groupBy, the columns we ask for (identifying dimensions and every additive
 * metric Amazon documents for it, each attribution window kept), which of them are
 * money, the window that fills the headline sales/orders/units columns, the longest
 * window one report may span and how far back Amazon keeps data. `reference` names the
 * page of Amazon's docs (idealerror/amazon-ads-api-docs) each entry was read from.
 *
 * Rows land in one of three ClickHouse tables by their key: ads_metrics_daily (one row
 * per entity and day), ads_purchased_products (advertised × purchased ASIN) and
 * ads_traffic_quality (gross and invalid traffic per campaign). Rates and ratios are not
 * loaded: they are recomputed from their parts, so they sum correctly over any range.
 *
 * The measures are named in report-measures.ts, each set once; `money` follows from them.
 */
import {
  MONEY,
  SB_AD_GROUP_MEASURES,
  SB_AD_MEASURES,
  SB_CAMPAIGN_MEASURES,
  SB_PLACEMENT_MEASURES,
  SB_AUDIENCE_MEASURES,
  SP_AUDIENCE_MEASURES,
  SB_PURCHASED_PRODUCT_MEASURES,
  SB_SEARCH_TERM_MEASURES,
  SB_TARGETING_MEASURES,
  SD_AD_GROUP_MEASURES,
  SD_ADVERTISED_PRODUCT_MEASURES,
  SD_CAMPAIGN_MEASURES,
  SD_PURCHASED_PRODUCT_MEASURES,
  SP_ADVERTISED_PRODUCT_MEASURES,
  SP_CAMPAIGN_MEASURES,
  SP_PURCHASED_PRODUCT_MEASURES,
  SP_TARGETING_MEASURES,
  ST_CAMPAIGN_MEASURES,
  ST_TARGETING_MEASURES,
  TRAFFIC_QUALITY_MEASURES,
} from './report-measures.ts';
import { DSP_REPORT_COLUMNS } from './dsp-report-columns.ts';

export type AdProduct =
  | 'SPONSORED_PRODUCTS'
  | 'SPONSORED_BRANDS'
  | 'SPONSORED_DISPLAY'
  | 'SPONSORED_TELEVISION'
  | 'DEMAND_SIDE_PLATFORM'
  // Cross-product reports (conversion paths): every ad product of the brand at once.
  | 'ALL';
export type FactTable =
  | 'ads_metrics_daily'
  | 'ads_purchased_products'
  | 'ads_traffic_quality'
  | 'ads_audience_daily'
  | 'ads_conversion_paths'
  | 'dsp_metrics_daily';
export type EntityLevel =
  | 'campaign'
  | 'ad_group'
  | 'ad'
  | 'target'
  | 'search_term'
  | 'purchased_product'
  // A brand's path of ad touchpoints to a purchase (conversion paths).
  | 'conversion_path'
  // DSP: report `order` is Ads API v1's campaign, `lineItem` its ad group.
  | 'advertiser'
  | 'order'
  | 'line_item'
  | 'creative';

export interface ReportTypeSpec {
  /** Ours, unique; spAdGroups is Amazon's spCampaigns grouped by ad group. */
  reportTypeId: string;
  amazonReportTypeId: string;
  adProduct: AdProduct;
  groupBy: string[];
  table: FactTable;
  /** The level of the rows, used to key them. */
  entityLevel: EntityLevel;
  /** Non-metric columns we request (ids, names, states). */
  dimensions: string[];
  /**
   * Metric columns we request: every additive one, each attribution window Amazon offers; DSP
   * reach and frequency as each row states them.
   */
  measures: string[];
  /** The measures that are amounts of money (stored as integer micros). */
  money: string[];
  /**
   * Decimal measures that are not money (DSP frequencies and reach rates), stored as integer
   * millionths. With reach, they are the row's own figures: never summed across rows or days.
   */
  millionths: string[];
  /** The window behind the headline sales/orders/units columns; null where there are none. */
  headline: { sales: string; orders: string; units: string } | null;
  /**
   * The longest date range one of our reports spans (inclusive days): Amazon's limit, or one
   * day for a type Amazon gives only as a SUMMARY, so that each row is a day.
   */
  maxDays: number;
  /** DAILY (a `date` per row) or SUMMARY (one row per entity over the report's range). */
  timeUnit: 'DAILY' | 'SUMMARY';
  /**
   * Columns that tell a report's rows apart under one entity (DSP breakdowns: country, supply
   * source and site, device, audience segment, ASIN; sponsored ads: the placement): with the
   * entity's id they key the row, and a row without them is refused.
   */
  splits: string[];
  /** Days of history Amazon keeps for this report type. */
  retentionDays: number;
  reference: string;
  /**
   * Asked unless REPORT_TYPES names the types to ask (true), or only when it names this one
   * (false: DSP breakdowns that ask a type again; Amazon asks for few reports per type and day).
   */
  byDefault: boolean;
  /** Everything requested: date, dimensions and measures. */
  columns: string[];
  /**
   * Why a day without rows is normal for this type even when the profile has campaigns that can
   * deliver (completeness does not call it a gap): audiences exist only where bid-boost segments do.
   */
  emptyIsNormal?: string;
}

type Entry = Omit<ReportTypeSpec, 'money' | 'millionths' | 'columns' | 'timeUnit' | 'splits' | 'byDefault'> &
  Partial<Pick<ReportTypeSpec, 'money' | 'millionths' | 'timeUnit' | 'splits' | 'byDefault'>>;

// Describing columns many report types share; each entry lists its dimensions alphabetically.
/** The campaign's id, name, status and budget. */
const CAMPAIGN_DIMENSIONS = [
  'campaignBudgetCurrencyCode',
  'campaignBudgetType',
  'campaignId',
  'campaignName',
  'campaignStatus',
];
/** The keyword a row is for, and how it matches. */
const KEYWORD_DIMENSIONS = ['keyword', 'keywordId', 'keywordType', 'matchType'];

/** How often each channel touched the shoppers of a conversion path: the path's own, never summed. */
const CONVERSION_PATH_FREQUENCIES = [
  'sponsoredBrandsDisplayFrequency',
  'sponsoredDisplayDisplayFrequency',
  'amazonDspDisplayFrequency',
  'sponsoredBrandsVideoFrequency',
  'sponsoredDisplayOnlineVideoFrequency',
  'amazonDspOnlineVideoFrequency',
  'sponsoredTvStreamingTvFrequency',
  'amazonDspStreamingTvFrequency',
  'amazonDspAudioFrequency',
  'sponsoredProductsFrequency',
  'sponsoredDisplayFrequency',
];

const ENTRIES: Record<string, Entry> = {
  spCampaigns: {
    reportTypeId: 'spCampaigns',
    amazonReportTypeId: 'spCampaigns',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: [
      'campaignApplicableBudgetRuleId',
      'campaignApplicableBudgetRuleName',
      'campaignBiddingStrategy',
      ...CAMPAIGN_DIMENSIONS,
    ],
    measures: SP_CAMPAIGN_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  spAdGroups: {
    reportTypeId: 'spAdGroups',
    amazonReportTypeId: 'spCampaigns',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign', 'adGroup'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad_group',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adStatus',
      'campaignApplicableBudgetRuleId',
      'campaignApplicableBudgetRuleName',
      'campaignBiddingStrategy',
      ...CAMPAIGN_DIMENSIONS,
    ],
    measures: SP_CAMPAIGN_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  // Placement (top of search, product pages, the rest): what SP bid multipliers are tuned on. Amazon
  // has no SP placement type; it is spCampaigns grouped by campaign and placement, a row per
  // campaign, placementClassification and day. Amazon refuses topOfSearchImpressionShare here
  // (a rate; not loaded anyway).
  spCampaignPlacement: {
    reportTypeId: 'spCampaignPlacement',
    amazonReportTypeId: 'spCampaigns',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign', 'campaignPlacement'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: [
      'campaignApplicableBudgetRuleId',
      'campaignApplicableBudgetRuleName',
      'campaignBiddingStrategy',
      ...CAMPAIGN_DIMENSIONS,
      'placementClassification',
    ],
    measures: SP_CAMPAIGN_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    splits: ['placementClassification'],
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  spTargeting: {
    reportTypeId: 'spTargeting',
    amazonReportTypeId: 'spTargeting',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['targeting'],
    table: 'ads_metrics_daily',
    entityLevel: 'target',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      ...CAMPAIGN_DIMENSIONS,
      ...KEYWORD_DIMENSIONS,
      'portfolioId',
      'targeting',
    ],
    measures: SP_TARGETING_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/targeting.md',
  },
  spSearchTerm: {
    reportTypeId: 'spSearchTerm',
    amazonReportTypeId: 'spSearchTerm',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['searchTerm'],
    table: 'ads_metrics_daily',
    entityLevel: 'search_term',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      ...CAMPAIGN_DIMENSIONS,
      ...KEYWORD_DIMENSIONS,
      'portfolioId',
      'searchTerm',
      'targeting',
    ],
    measures: SP_TARGETING_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/search-term.md',
  },
  spAdvertisedProduct: {
    reportTypeId: 'spAdvertisedProduct',
    amazonReportTypeId: 'spAdvertisedProduct',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['advertiser'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adId',
      'advertisedAsin',
      'advertisedSku',
      ...CAMPAIGN_DIMENSIONS,
      'portfolioId',
    ],
    measures: SP_ADVERTISED_PRODUCT_MEASURES,
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/advertised-product.md',
  },
  spPurchasedProduct: {
    reportTypeId: 'spPurchasedProduct',
    amazonReportTypeId: 'spPurchasedProduct',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['asin'],
    table: 'ads_purchased_products',
    entityLevel: 'purchased_product',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'advertisedAsin',
      'advertisedSku',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      ...KEYWORD_DIMENSIONS,
      'portfolioId',
      'purchasedAsin',
    ],
    measures: SP_PURCHASED_PRODUCT_MEASURES,
    headline: { sales: 'salesOtherSku7d', orders: 'purchasesOtherSku7d', units: 'unitsSoldOtherSku7d' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/purchased-product.md',
  },
  spGrossAndInvalids: {
    reportTypeId: 'spGrossAndInvalids',
    amazonReportTypeId: 'spGrossAndInvalids',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign'],
    table: 'ads_traffic_quality',
    entityLevel: 'campaign',
    dimensions: ['campaignName', 'campaignStatus'],
    measures: TRAFFIC_QUALITY_MEASURES,
    headline: null,
    maxDays: 365,
    retentionDays: 365,
    reference: 'en-us/guides/reporting/v3/report-types/gross-and-invalid-traffic.md',
  },
  sbCampaigns: {
    reportTypeId: 'sbCampaigns',
    amazonReportTypeId: 'sbCampaigns',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['campaign'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: [...CAMPAIGN_DIMENSIONS, 'costType'],
    measures: SB_CAMPAIGN_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  // SB's own placement type (in preview at Amazon: campaigns without multiple ad groups are missing).
  sbCampaignPlacement: {
    reportTypeId: 'sbCampaignPlacement',
    amazonReportTypeId: 'sbCampaignPlacement',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['campaignPlacement'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: [...CAMPAIGN_DIMENSIONS, 'costType', 'placementClassification'],
    measures: SB_PLACEMENT_MEASURES,
    emptyIsNormal: 'in preview at Amazon: campaigns without multiple ad groups are missing',
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    splits: ['placementClassification'],
    reference: 'en-us/guides/reporting/v3/report-types/placement.md',
  },
  sbAdGroup: {
    reportTypeId: 'sbAdGroup',
    amazonReportTypeId: 'sbAdGroup',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['adGroup'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad_group',
    dimensions: ['adGroupId', 'adGroupName', 'adStatus', ...CAMPAIGN_DIMENSIONS, 'costType'],
    measures: SB_AD_GROUP_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    reference: 'en-us/guides/reporting/v3/report-types/ad-group.md',
  },
  sbAds: {
    reportTypeId: 'sbAds',
    amazonReportTypeId: 'sbAds',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['ads'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad',
    dimensions: ['adGroupId', 'adGroupName', 'adId', ...CAMPAIGN_DIMENSIONS, 'costType'],
    measures: SB_AD_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    reference: 'en-us/guides/reporting/v3/report-types/ad.md',
  },
  sbTargeting: {
    reportTypeId: 'sbTargeting',
    amazonReportTypeId: 'sbTargeting',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['targeting'],
    table: 'ads_metrics_daily',
    entityLevel: 'target',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      ...CAMPAIGN_DIMENSIONS,
      'costType',
      'keywordId',
      'keywordText',
      'keywordType',
      'matchType',
      'targetingExpression',
      'targetingId',
      'targetingText',
      'targetingType',
    ],
    measures: SB_TARGETING_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    reference: 'en-us/guides/reporting/v3/report-types/targeting.md',
  },
  sbSearchTerm: {
    reportTypeId: 'sbSearchTerm',
    amazonReportTypeId: 'sbSearchTerm',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['searchTerm'],
    table: 'ads_metrics_daily',
    entityLevel: 'search_term',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      ...CAMPAIGN_DIMENSIONS,
      'costType',
      'keywordId',
      'keywordText',
      'matchType',
      'searchTerm',
    ],
    measures: SB_SEARCH_TERM_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 60,
    reference: 'en-us/guides/reporting/v3/report-types/search-term.md',
  },
  sbPurchasedProduct: {
    reportTypeId: 'sbPurchasedProduct',
    amazonReportTypeId: 'sbPurchasedProduct',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['purchasedAsin'],
    table: 'ads_purchased_products',
    entityLevel: 'purchased_product',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'attributionType',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      'campaignPriceTypeCode',
      'productCategory',
      'productName',
      'purchasedAsin',
    ],
    measures: SB_PURCHASED_PRODUCT_MEASURES,
    headline: { sales: 'sales14d', orders: 'orders14d', units: 'unitsSold14d' },
    maxDays: 731,
    retentionDays: 731,
    reference: 'en-us/guides/reporting/v3/report-types/purchased-product.md',
  },
  sbGrossAndInvalids: {
    reportTypeId: 'sbGrossAndInvalids',
    amazonReportTypeId: 'sbGrossAndInvalids',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['campaign'],
    table: 'ads_traffic_quality',
    entityLevel: 'campaign',
    dimensions: ['campaignName', 'campaignStatus'],
    measures: TRAFFIC_QUALITY_MEASURES,
    headline: null,
    maxDays: 365,
    retentionDays: 365,
    reference: 'en-us/guides/reporting/v3/report-types/gross-and-invalid-traffic.md',
  },
  sdCampaigns: {
    reportTypeId: 'sdCampaigns',
    amazonReportTypeId: 'sdCampaigns',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['campaign'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: ['campaignBudgetCurrencyCode', 'campaignId', 'campaignName', 'campaignStatus', 'costType'],
    measures: SD_CAMPAIGN_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 65,
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  sdAdGroup: {
    reportTypeId: 'sdAdGroup',
    amazonReportTypeId: 'sdAdGroup',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['adGroup'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad_group',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'bidOptimization',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
    ],
    measures: SD_AD_GROUP_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 65,
    reference: 'en-us/guides/reporting/v3/report-types/ad-group.md',
  },
  sdTargeting: {
    reportTypeId: 'sdTargeting',
    amazonReportTypeId: 'sdTargeting',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['targeting'],
    table: 'ads_metrics_daily',
    entityLevel: 'target',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      'targetingExpression',
      'targetingId',
      'targetingText',
    ],
    measures: SD_AD_GROUP_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 65,
    reference: 'en-us/guides/reporting/v3/report-types/targeting.md',
  },
  sdAdvertisedProduct: {
    reportTypeId: 'sdAdvertisedProduct',
    amazonReportTypeId: 'sdAdvertisedProduct',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['advertiser'],
    table: 'ads_metrics_daily',
    entityLevel: 'ad',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adId',
      'bidOptimization',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      'promotedAsin',
      'promotedSku',
    ],
    measures: SD_ADVERTISED_PRODUCT_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 65,
    reference: 'en-us/guides/reporting/v3/report-types/advertised-product.md',
  },
  sdPurchasedProduct: {
    reportTypeId: 'sdPurchasedProduct',
    amazonReportTypeId: 'sdPurchasedProduct',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['asin'],
    table: 'ads_purchased_products',
    entityLevel: 'purchased_product',
    dimensions: [
      'adGroupId',
      'adGroupName',
      'asinBrandHalo',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      'promotedAsin',
      'promotedSku',
    ],
    measures: SD_PURCHASED_PRODUCT_MEASURES,
    headline: { sales: 'salesBrandHalo', orders: 'conversionsBrandHalo', units: 'unitsSoldBrandHalo' },
    maxDays: 31,
    retentionDays: 65,
    reference: 'en-us/guides/reporting/v3/report-types/purchased-product.md',
  },
  sdGrossAndInvalids: {
    reportTypeId: 'sdGrossAndInvalids',
    amazonReportTypeId: 'sdGrossAndInvalids',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['campaign'],
    table: 'ads_traffic_quality',
    entityLevel: 'campaign',
    dimensions: ['campaignName', 'campaignStatus'],
    measures: TRAFFIC_QUALITY_MEASURES,
    headline: null,
    maxDays: 365,
    retentionDays: 365,
    reference: 'en-us/guides/reporting/v3/report-types/gross-and-invalid-traffic.md',
  },
  stCampaigns: {
    reportTypeId: 'stCampaigns',
    amazonReportTypeId: 'stCampaigns',
    adProduct: 'SPONSORED_TELEVISION',
    groupBy: ['campaign'],
    table: 'ads_metrics_daily',
    entityLevel: 'campaign',
    dimensions: [...CAMPAIGN_DIMENSIONS, 'portfolioId'],
    measures: ST_CAMPAIGN_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/campaign.md',
  },
  // Audiences: SP and SB campaigns by the bid-boost segment a shopper was in, a row per campaign,
  // segment and day (audience.md). `spend` is not asked: columns.md defines it as cost.
  spAudiences: {
    reportTypeId: 'spAudiences',
    amazonReportTypeId: 'spAudiences',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign_bid_boost_segment'],
    table: 'ads_audience_daily',
    entityLevel: 'campaign',
    dimensions: [
      'campaignBiddingStrategy',
      'campaignBudgetType',
      'campaignId',
      'campaignName',
      'campaignStatus',
      'marketplaceId',
      'segmentClassCode',
      'segmentName',
    ],
    measures: SP_AUDIENCE_MEASURES,
    emptyIsNormal: 'only campaigns with bid-boost audience segments have rows',
    headline: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
    maxDays: 31,
    retentionDays: 95,
    splits: ['segmentName'],
    reference: 'en-us/guides/reporting/v3/report-types/audience.md',
  },
  sbAudiences: {
    reportTypeId: 'sbAudiences',
    amazonReportTypeId: 'sbAudiences',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['campaign_bid_boost_segment'],
    table: 'ads_audience_daily',
    entityLevel: 'campaign',
    dimensions: [
      'campaignBudgetType',
      'campaignId',
      'campaignName',
      'campaignStatus',
      'marketplaceId',
      'segmentClassCode',
      'segmentName',
    ],
    measures: SB_AUDIENCE_MEASURES,
    emptyIsNormal: 'only campaigns with bid-boost audience segments have rows',
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    // Amazon keeps SB audiences 95 days (audience.md), longer than SB's other reports.
    retentionDays: 95,
    splits: ['segmentName'],
    reference: 'en-us/guides/reporting/v3/report-types/audience.md',
  },
  // The brand's 30-day paths to conversion across SP, SB, SD, ST and DSP (conversion-path.md): a
  // SUMMARY only, so asked a day at a time (the conversions of that day by the path that led to
  // them). Amazon serves it to brand owners and their representatives only, so it is asked when
  // REPORT_TYPES names it: a refusal (403) marks the profile inaccessible for every report.
  conversionPath: {
    reportTypeId: 'conversionPath',
    amazonReportTypeId: 'conversionPath',
    adProduct: 'ALL',
    groupBy: ['brandConversionPath'],
    table: 'ads_conversion_paths',
    entityLevel: 'conversion_path',
    dimensions: ['brandName', 'simplifiedPath'],
    measures: ['sales', 'purchases', 'newToBrandSales', 'newToBrandPurchases', ...CONVERSION_PATH_FREQUENCIES],
    millionths: CONVERSION_PATH_FREQUENCIES,
    emptyIsNormal: 'a brand has paths only on days with conversions',
    headline: { sales: 'sales', orders: 'purchases', units: '' },
    maxDays: 1,
    timeUnit: 'SUMMARY',
    retentionDays: 95,
    splits: ['simplifiedPath'],
    byDefault: false,
    reference: 'en-us/guides/reporting/v3/report-types/conversion-path.md',
  },
  stTargeting: {
    reportTypeId: 'stTargeting',
    amazonReportTypeId: 'stTargeting',
    adProduct: 'SPONSORED_TELEVISION',
    groupBy: ['campaign', 'adGroup', 'targeting'],
    table: 'ads_metrics_daily',
    entityLevel: 'target',
    // The campaign and adGroup group-bys bring the ids every row is keyed under.
    dimensions: [
      'adGroupId',
      'adGroupName',
      'adKeywordStatus',
      'campaignBudgetCurrencyCode',
      'campaignId',
      'campaignName',
      'campaignStatus',
      ...KEYWORD_DIMENSIONS,
      'portfolioId',
      'targetingText',
    ],
    measures: ST_TARGETING_MEASURES,
    headline: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
    maxDays: 31,
    retentionDays: 95,
    reference: 'en-us/guides/reporting/v3/report-types/targeting.md',
  },
  // A creative can serve several line items (creative associations), a row each: keyed with its line item.
  ...dsp('dspCampaign', 'creative', ['lineItemId'], 'campaign.md'),
  ...dsp('dspAudience', 'line_item', ['segmentId'], 'audience.md'),
  // Amazon keeps audio and video 395 days and gives it only as a SUMMARY: one report per day.
  ...dsp(
    'dspAudioAndVideo',
    'creative',
    ['supplySourceId', 'contentTitle', 'contentType', 'lineItemId'],
    'audio-and-video.md',
    {
      timeUnit: 'SUMMARY',
      maxDays: 1,
      retentionDays: 395,
    },
  ),
  ...dsp('dspGeo', 'line_item', ['country'], 'geo.md'),
  ...dsp('dspInventory', 'line_item', ['supplySource', 'site'], 'inventory.md'),
  ...dsp('dspProduct', 'line_item', ['asin', 'conversionType'], 'product.md'),
  ...dsp('dspTech', 'line_item', ['deviceName', 'operatingSystemName'], 'tech.md'),
  // More breakdowns the geo, inventory and tech pages document, each its own report, asked only
  // when named in REPORT_TYPES: Amazon asks for one or two reports per advertiser, type and day
  // (DSP FAQ), and these ask its types again. Keyed by every value that tells their rows apart.
  ...breakdown('dspGeoByRegion', 'dspGeo', ['country', 'region'], 'geo.md'),
  ...breakdown('dspGeoByCity', 'dspGeo', ['country', 'region', 'city'], 'geo.md'),
  ...breakdown('dspGeoByPostalCode', 'dspGeo', ['country', 'postalCode'], 'geo.md'),
  ...breakdown('dspGeoByDma', 'dspGeo', ['dmaCode', 'dmaName'], 'geo.md'),
  ...breakdown(
    'dspInventoryByPlacement',
    'dspInventory',
    ['supplySource', 'site', 'placementSize', 'placement'],
    'inventory.md',
  ),
  // The open auction has no deal id: the deal's type and name tell it apart.
  ...breakdown('dspInventoryByDeal', 'dspInventory', ['supplySource', 'dealId', 'dealType', 'deal'], 'inventory.md'),
  ...breakdown('dspTechByBrowser', 'dspTech', ['browserName', 'browserVersion'], 'tech.md'),
  ...breakdown('dspTechByEnvironment', 'dspTech', ['environmentName'], 'tech.md'),
  // Reach and frequency: Amazon's one dspReachFrequency type, asked per advertiser and apart by
  // supply source and by frequency group (its three documented groupBy sets), a row per day.
  ...dsp('dspReachFrequency', 'advertiser', [], 'reach.md'),
  ...dsp('dspReachFrequencyBySupplySource', 'advertiser', ['supplySourceId'], 'reach.md', {
    amazonReportTypeId: 'dspReachFrequency',
  }),
  ...dsp('dspReachFrequencyByFrequencyGroup', 'advertiser', ['frequencyGroupId'], 'reach.md', {
    amazonReportTypeId: 'dspReachFrequency',
  }),
  // Bids and win rate per line item, bid adjustment rule and matched terms; kept 395 days. Only
  // line items with bid adjustments have rows (the default traffic's terms are "[]").
  ...dsp('dspBidAdjustment', 'line_item', ['bidAdjustmentRuleId', 'bidAdjustmentMatchedTermIds'], 'bid-adjustment.md', {
    retentionDays: 395,
  }),
};

/**
 * A DSP report type (Reporting v3, adProduct DEMAND_SIDE_PLATFORM): its groupBys, columns and
 * money from Amazon's pages (dsp-report-columns.ts). Asked per DSP profile for the advertisers
 * selected under it (filter advertiserId, at most 100 per report); 31 days a report, 95 kept.
 */
function dsp(
  id: string,
  entityLevel: EntityLevel,
  splits: string[],
  page: string,
  over: Partial<Entry> = {},
): Record<string, Entry> {
  const c = DSP_REPORT_COLUMNS[id]!;
  const has = (m: string) => (c.measures.includes(m) ? m : undefined);
  const sales = has('sales');
  return {
    [id]: {
      reportTypeId: id,
      amazonReportTypeId: id,
      adProduct: 'DEMAND_SIDE_PLATFORM',
      groupBy: c.groupBy,
      table: 'dsp_metrics_daily',
      entityLevel,
      dimensions: c.dimensions,
      measures: c.measures,
      money: c.money,
      millionths: c.millionths,
      // Promoted-product purchases (14 days, clicks and views); total* adds brand halo.
      headline: sales ? { sales, orders: has('purchases') ?? '', units: has('unitsSold') ?? '' } : null,
      maxDays: 31,
      retentionDays: 95,
      splits,
      reference: `en-us/guides/reporting/v3/report-types/${page}`,
      ...over,
    },
  };
}

/** One more breakdown of a DSP type: its own report of that type, a row per line item and value, asked when named. */
function breakdown(id: string, of: string, splits: string[], page: string): Record<string, Entry> {
  return dsp(id, 'line_item', splits, page, { amazonReportTypeId: of, byDefault: false });
}

export const REPORT_TYPES: Record<string, ReportTypeSpec> = Object.fromEntries(
  Object.entries(ENTRIES).map(([id, entry]) => {
    const {
      headline,
      maxDays,
      retentionDays,
      reference,
      money: dspMoney,
      millionths: dspMillionths = [],
      timeUnit = 'DAILY',
      splits = [],
      byDefault = true,
      ...e
    } = entry;
    // Report types share measure lists: each spec gets its own copy, so no caller can change
    // another type's. The keys keep the interface's order.
    const measures = [...e.measures];
    const money = dspMoney ? [...dspMoney] : measures.filter((m) => MONEY.has(m));
    const millionths = [...dspMillionths];
    const columns = [...(timeUnit === 'DAILY' ? ['date'] : []), ...e.dimensions, ...measures];
    return [
      id,
      {
        ...e,
        measures,
        money,
        millionths,
        headline,
        maxDays,
        timeUnit,
        splits,
        retentionDays,
        reference,
        byDefault,
        columns,
      },
    ];
  }),
);

export const REPORT_TYPE_IDS = Object.keys(REPORT_TYPES);

/** What is asked when nothing names the report types: all but the DSP breakdowns that ask a type again. */
export const DEFAULT_REPORT_TYPE_IDS = REPORT_TYPE_IDS.filter((t) => REPORT_TYPES[t]!.byDefault);

/** Whether a report type of ours is a DSP one: asked per advertiser, stored in dsp_metrics_daily. */
export const isDspReportType = (reportTypeId: string): boolean =>
  REPORT_TYPES[reportTypeId]?.adProduct === 'DEMAND_SIDE_PLATFORM';

/** The longest range any report type accepts: planning splits windows by each type's own limit. */
export const MAX_REPORT_DAYS = 31;

/** How a measure is stored: a count as it comes, money in micros, other decimals in millionths. */
export type MeasureKind = 'count' | 'money' | 'millionths';

export const measureKind = (spec: Pick<ReportTypeSpec, 'money' | 'millionths'>, measure: string): MeasureKind =>
  spec.money.includes(measure) ? 'money' : spec.millionths.includes(measure) ? 'millionths' : 'count';

/**
 * The ClickHouse column a measure lands in: snake case, money with a `_micros` suffix, other
 * decimals with `_millionths` (salesOtherSku7d → sales_other_sku_7d_micros, video5SecondViews →
 * video_5_second_views, frequencyAverage → frequency_average_millionths).
 */
export function measureColumn(measure: string, kind: MeasureKind): string {
  // Called for every measure of every report row: three regular expressions each time
  // were a tenth of a report's parse time, and the catalogue's names are few.
  const key = `${kind}:${measure}`;
  let column = MEASURE_COLUMNS.get(key);
  if (column === undefined) {
    // A leading digit is no SQL identifier: 3PFees → third_party_fees.
    const snake = measure
      .replace(/^3[pP]/, 'thirdParty')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .replace(/([a-zA-Z])(\d)/g, '$1_$2')
      .replace(/(\d)([A-Z])/g, '$1_$2')
      .replace(/([A-Z])([A-Z][a-z]{2})/g, '$1_$2')
      .toLowerCase();
    column = kind === 'money' ? `${snake}_micros` : kind === 'millionths' ? `${snake}_millionths` : snake;
    if (MEASURE_COLUMNS.size < 10_000) MEASURE_COLUMNS.set(key, column);
  }
  return column;
}
const MEASURE_COLUMNS = new Map<string, string>();

/** Every measure column of a fact table, across the report types that write it. */
export function measureColumnsOf(table: FactTable): string[] {
  const out = new Set<string>();
  for (const spec of Object.values(REPORT_TYPES))
    if (spec.table === table) for (const m of spec.measures) out.add(measureColumn(m, measureKind(spec, m)));
  return [...out].sort();
}
