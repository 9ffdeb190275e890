/**
 * What the Reporting API v3 accepts per report type: its ad product, groupBy,
 * the columns it accepts, and how far back data is kept. Amazon rejects the whole
 * request for a single column the report type does not accept, so requesters plan
 * from this table and the sandbox enforces it.
 */
export type AdProduct = 'SPONSORED_PRODUCTS' | 'SPONSORED_BRANDS' | 'SPONSORED_DISPLAY';

export interface ReportTypeSpec {
  reportTypeId: string;
  adProduct: AdProduct;
  groupBy: string[];
  /** The level of the rows, used to key them in ClickHouse. */
  entityLevel: 'campaign' | 'ad' | 'target' | 'search_term';
  /** The columns we request (all accepted by Amazon for this type). */
  columns: string[];
  /** Columns Amazon accepts beyond the ones we request. */
  alsoAccepted: string[];
  /** Days of history Amazon keeps for this ad product. */
  retentionDays: number;
  /** Report columns that carry attributed sales, orders and units for our normalised row. */
  metrics: { sales: string; orders: string; units: string };
}

const SP_METRICS = [
  'impressions',
  'clicks',
  'cost',
  'sales1d',
  'sales7d',
  'sales14d',
  'sales30d',
  'purchases1d',
  'purchases7d',
  'purchases14d',
  'purchases30d',
  'unitsSoldClicks1d',
  'unitsSoldClicks7d',
  'unitsSoldClicks14d',
  'unitsSoldClicks30d',
];
const SB_SD_METRICS = ['impressions', 'clicks', 'cost', 'sales', 'purchases', 'unitsSold'];

export const REPORT_TYPES: Record<string, ReportTypeSpec> = {
  spCampaigns: {
    reportTypeId: 'spCampaigns',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['campaign'],
    entityLevel: 'campaign',
    columns: [
      'date',
      'campaignId',
      'campaignName',
      'campaignStatus',
      'campaignBudgetCurrencyCode',
      'impressions',
      'clicks',
      'cost',
      'sales7d',
      'purchases7d',
      'unitsSoldClicks7d',
    ],
    alsoAccepted: [...SP_METRICS, 'campaignBudgetAmount', 'campaignBudgetType', 'startDate', 'endDate'],
    retentionDays: 95,
    metrics: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
  },
  spAdvertisedProduct: {
    reportTypeId: 'spAdvertisedProduct',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['advertiser'],
    entityLevel: 'ad',
    columns: [
      'date',
      'campaignId',
      'adGroupId',
      'adId',
      'advertisedAsin',
      'advertisedSku',
      'campaignBudgetCurrencyCode',
      'impressions',
      'clicks',
      'cost',
      'sales7d',
      'purchases7d',
      'unitsSoldClicks7d',
    ],
    alsoAccepted: [...SP_METRICS, 'campaignName', 'adGroupName', 'startDate', 'endDate'],
    retentionDays: 95,
    metrics: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
  },
  spTargeting: {
    reportTypeId: 'spTargeting',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['targeting'],
    entityLevel: 'target',
    columns: [
      'date',
      'campaignId',
      'adGroupId',
      'keywordId',
      'keyword',
      'matchType',
      'targeting',
      'keywordType',
      'campaignBudgetCurrencyCode',
      'impressions',
      'clicks',
      'cost',
      'sales7d',
      'purchases7d',
      'unitsSoldClicks7d',
    ],
    alsoAccepted: [...SP_METRICS, 'campaignName', 'adGroupName', 'startDate', 'endDate'],
    retentionDays: 95,
    metrics: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
  },
  spSearchTerm: {
    reportTypeId: 'spSearchTerm',
    adProduct: 'SPONSORED_PRODUCTS',
    groupBy: ['searchTerm'],
    entityLevel: 'search_term',
    columns: [
      'date',
      'campaignId',
      'adGroupId',
      'keywordId',
      'keyword',
      'searchTerm',
      'matchType',
      'campaignBudgetCurrencyCode',
      'impressions',
      'clicks',
      'cost',
      'sales7d',
      'purchases7d',
      'unitsSoldClicks7d',
    ],
    alsoAccepted: [...SP_METRICS, 'campaignName', 'adGroupName', 'targeting', 'startDate', 'endDate'],
    retentionDays: 95,
    metrics: { sales: 'sales7d', orders: 'purchases7d', units: 'unitsSoldClicks7d' },
  },
  sbCampaigns: {
    reportTypeId: 'sbCampaigns',
    adProduct: 'SPONSORED_BRANDS',
    groupBy: ['campaign'],
    entityLevel: 'campaign',
    columns: ['date', 'campaignId', 'campaignName', 'campaignStatus', 'campaignBudgetCurrencyCode', ...SB_SD_METRICS],
    alsoAccepted: ['campaignBudgetAmount', 'campaignBudgetType', 'startDate', 'endDate', 'newToBrandPurchases'],
    retentionDays: 60,
    metrics: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
  },
  sdCampaigns: {
    reportTypeId: 'sdCampaigns',
    adProduct: 'SPONSORED_DISPLAY',
    groupBy: ['campaign'],
    entityLevel: 'campaign',
    columns: ['date', 'campaignId', 'campaignName', 'campaignStatus', 'campaignBudgetCurrencyCode', ...SB_SD_METRICS],
    alsoAccepted: ['campaignBudgetAmount', 'startDate', 'endDate', 'viewabilityRate'],
    retentionDays: 65,
    metrics: { sales: 'sales', orders: 'purchases', units: 'unitsSold' },
  },
};

export const REPORT_TYPE_IDS = Object.keys(REPORT_TYPES);

/** Amazon's limit on one report's date range (inclusive days). */
export const MAX_REPORT_DAYS = 31;

export function acceptedColumns(spec: ReportTypeSpec): Set<string> {
  return new Set([...spec.columns, ...spec.alsoAccepted]);
}

/** The columns of a request a report type would reject; empty when all are accepted. */
export function rejectedColumns(reportTypeId: string, columns: string[]): string[] {
  const spec = REPORT_TYPES[reportTypeId];
  if (!spec) return columns;
  const ok = acceptedColumns(spec);
  return columns.filter((c) => !ok.has(c));
}
