/**
 * Values of the report columns that describe rather than measure and that no sandbox entity
 * carries (DSP segments, geography, inventory, technology, content; a few sponsored-ads names).
 * Each list follows en-us/guides/reporting/v3/columns.md: its examples where it gives them
 * ("behavioral or user agent", "PG-13", "web or app", "promoted or brand halo"), real-world
 * spellings otherwise. Member m of a split row takes the m-th value, so a row's country,
 * region, city and postal code belong together. Pure.
 */
import { hash32 } from '../hash-random.ts';

const LISTS: Record<string, readonly string[]> = {
  segmentName: ['In-market coffee buyers', 'Lifestyle home baristas', 'Remarketing cart abandoners'],
  segmentClassCode: ['behavioral', 'user agent', 'lifestyle'],
  segmentSource: ['AAX', '1P', '3P'],
  segmentType: ['in-market', 'lifestyle', 'remarketing'],
  targetingMethod: ['segments', 'content categories', 'untargeted'],
  marketplace: ['Amazon.com', 'Amazon.ca', 'Amazon.com.mx'],
  supplySource: ['Amazon Publisher Services', 'Twitch', 'Real-time bidding exchanges'],
  showTitle: ['The Morning Brew', 'Night Market', 'Coast to Coast'],
  contentTitle: ['The Morning Brew S1E1', 'Night Market S2E4', 'Coast to Coast'],
  contentGenre: ['Drama', 'Comedy', 'Horror'],
  contentRating: ['PG', 'PG-13', 'R'],
  contentType: ['Episode', 'Movie', 'Live'],
  bidAdjustmentRule: ['Boost mobile evenings', 'Weekend premium inventory', 'Default'],
  // dsp/bid-adjustments/reports.md's examples: a term's id and what it matches; unmatched traffic last.
  bidAdjustmentMatchedTerms: [
    '[{id:1, slotSize: ["728x90"]}]',
    '[{id:2, deviceType: ["PHONE"]}]',
    'Default traffic (no adjustments)',
  ],
  targetDemographic: ['A18-49', 'P25-54', 'W18+'],
  lineItemComment: ['', 'raised frequency cap', 'narrowed geography'],
  lineItemStatus: ['RUNNING', 'ENDED', 'PAUSED'],
  lineItemApprovalStatus: ['APPROVED', 'PENDING_REVIEW', 'APPROVED'],
  lineItemLanguageTargeting: ['English', 'Spanish', 'English'],
  creativeLanguage: ['English', 'Spanish', 'English'],
  brandName: ['Sandbox Roasters', 'Sandbox Kitchen', 'Sandbox Outdoors'],
  simplifiedPath: [
    'Sponsored Products click > Purchase',
    'Sponsored Brands view > Sponsored Products click > Purchase',
    'DSP view > Sponsored Products click > Purchase',
  ],
  country: ['United States', 'Canada', 'Mexico'],
  region: ['Washington', 'Ontario', 'Jalisco'],
  city: ['Seattle', 'Toronto', 'Guadalajara'],
  postalCode: ['98109', 'M5V 2T6', '44100'],
  dmaName: ['Seattle-Tacoma', 'Toronto', 'Guadalajara'],
  dmaCode: ['819', '0', '0'],
  site: ['amazon.com', 'imdb.com', 'twitch.tv'],
  placement: ['Desktop top banner', 'Mobile in-feed', 'Connected TV pre-roll'],
  deal: ['Sandbox private deal', 'Sandbox preferred deal', 'Open auction'],
  dealType: ['Private Marketplace', 'Preferred Deal', 'Open Auction'],
  conversionType: ['Promoted', 'Brand Halo', 'Promoted'],
  productName: ['Sandbox cold brew 1 l', 'Sandbox pour-over kettle', 'Sandbox grinder'],
  productGroup: ['Grocery', 'Kitchen', 'Home'],
  productCategory: ['Coffee', 'Kettles', 'Grinders'],
  productSubCategory: ['Ground coffee', 'Electric kettles', 'Burr grinders'],
  frequencyGroupName: ['Weekly cap 3', 'Daily cap 1', 'Uncapped'],
  operatingSystemName: ['iOS', 'Android', 'Windows'],
  browserName: ['Safari', 'Chrome', 'Edge'],
  browserVersion: ['17.4', '124.0', '123.0'],
  deviceName: ['Phone', 'Desktop', 'Connected TV'],
  environmentName: ['App', 'Web', 'App'],
  reportGranularity: ['LINE_ITEM', 'LINE_ITEM', 'LINE_ITEM'],
};

/** ASIN-valued columns: ten characters, B0 and eight more, as Amazon's are. */
const ASIN_COLUMNS = new Set(['asin', 'parentAsin', 'featuredAsin']);

/** A describing column's value for member m of a row (null when the sandbox has nothing to say of it). */
export function describingValue(seed: number, col: string, m: number, rowKey: string): string | null {
  const list = LISTS[col];
  if (list) return list[m % list.length]!;
  if (ASIN_COLUMNS.has(col))
    return `B0${(hash32(seed, `${col}:${rowKey}:${m}`) % 36 ** 8).toString(36).toUpperCase().padStart(8, '0')}`;
  // Identifiers and codes: digits, as Amazon's are (kindleDetailPageView is a count typed String).
  if (/(Id|Ids|Code|PageView)$/.test(col)) {
    const n = String(100_000 + (hash32(seed, `${col}:${rowKey}`) % 800_000) + m);
    return col.endsWith('Ids') ? `[${n}]` : n;
  }
  return null;
}
