/**
 * Amazon Attribution's data in the sandbox, deterministic per (seed, profile, day): who may use
 * it, its advertisers, the publishers (the same for every advertiser), the tags, and the rows of
 * the performance and products reports (the Attribution model, packages/amazon-models; the guides
 * en-us/guides/amazon-attribution/*.md).
 *
 * - Eligible: sellers and vendors in the marketplaces overview.md names (of the sandbox's: US,
 *   UK, DE; not JP). Amazon Attribution's own legacy profiles (subType AMAZON_ATTRIBUTION) answer
 *   too (get-started.md: "the same endpoints for both"); DSP profiles do not.
 * - An ad console profile (seller or vendor) has one advertiser; a legacy Amazon Attribution
 *   profile (an agency one, subType AMAZON_ATTRIBUTION) two (how-to.md: "Ad console profiles will
 *   only have a single advertiser"; get-started.md: legacy profiles could hold more than one).
 * - Each advertiser's tags landed on four campaigns of its own ids (aa_campaignid), each on one
 *   publisher, with two ad groups of two creatives; every count is a creative's, so an ad group
 *   or campaign row is the sum of its creatives (troubleshooting.md's masking of rows under ten
 *   clicks is not played: every row here is past it).
 * - Restated: a day's first pull carries four fifths of its conversions, every later pull all of
 *   them (how-to.md: restated after 1, 7 and 28 days; clicks do not change). With the
 *   restateAwayEvery fault, a later pull leaves out one creative in n (and its ad group's and
 *   campaign's rows lose it too), as a restatement that takes traffic away.
 * - Measured only once a tag resource was called for the profile (how-to.md's warning): before,
 *   every report is empty.
 * - Money is in the profile's currency with cents; metric values are sent as text, as Airbyte's
 *   source-amazon-ads declares every attribution metric (schemas/attribution_report.py).
 */
import type { Dataset as SandboxDataset } from './dataset.ts';
import { intBetween } from './hash-random.ts';
import {
  ATTRIBUTION_PERFORMANCE_METRICS,
  ATTRIBUTION_PRODUCTS_METRICS,
} from '@adsync/amazon-models/attribution-metrics';

export interface AttributionPublisher {
  id: string;
  name: string;
  macroEnabled: boolean;
}

/** The publishers Amazon lists (how-to.md names the macro ones; the others are the console's "… - Other"). */
export const PUBLISHERS: readonly AttributionPublisher[] = [
  { id: '1', name: 'Google Ads', macroEnabled: true },
  { id: '2', name: 'Facebook', macroEnabled: true },
  { id: '3', name: 'Microsoft Ads', macroEnabled: true },
  { id: '4', name: 'Pinterest', macroEnabled: true },
  { id: '5', name: 'Display - Other', macroEnabled: false },
  { id: '6', name: 'Blogpost - Other', macroEnabled: false },
  { id: '7', name: 'Email - Other', macroEnabled: false },
];

const ATTRIBUTION_COUNTRIES = new Set(['US', 'CA', 'MX', 'UK', 'DE', 'FR', 'IT', 'ES', 'NL']);

export function attributionEligible(ds: SandboxDataset, p: number): boolean {
  const profile = ds.profiles()[p];
  if (!profile) return false;
  if (profile.accountInfo.subType === 'AMAZON_ATTRIBUTION') return true;
  return profile.accountInfo.type !== 'agency' && ATTRIBUTION_COUNTRIES.has(profile.countryCode);
}

export interface AttributionAdvertiser {
  advertiserId: string;
  advertiserName: string;
}

export function attributionAdvertisers(ds: SandboxDataset, p: number): AttributionAdvertiser[] {
  if (!attributionEligible(ds, p)) return [];
  const profile = ds.profiles()[p]!;
  const n = profile.accountInfo.subType === 'AMAZON_ATTRIBUTION' ? 2 : 1;
  return Array.from({ length: n }, (_, i) => ({
    advertiserId: String(7_000_000_000 + p * 10 + i),
    advertiserName: i === 0 ? profile.accountInfo.name : `${profile.accountInfo.name} (brand ${i + 1})`,
  }));
}

/** A tag as the tag resources return it (how-to.md's shapes; the advertiser and publisher in the maas value). */
export function attributionTag(advertiserId: string, pub: AttributionPublisher): string {
  return pub.macroEnabled
    ? `?maas=maas_adg_api_${advertiserId}_macro_${pub.id}_99&ref_=aa_maas&tag=maas&aa_campaignid={campaignid}&aa_adgroupid={adgroupid}&aa_creativeid=ad-{creative}_{targetid}_dev-{device}_ext-{feeditemid}`
    : `?maas=maas_adg_api_${advertiserId}_static_${pub.id}_99&ref_=aa_maas&tag=maas&aa_campaignid={insertCampaignId}&aa_adgroupid={insertAdGroupId}&aa_creativeid={insertAdiD}`;
}

/** The reports' metrics as Amazon's model lists them. */
export const PERFORMANCE_METRICS = ATTRIBUTION_PERFORMANCE_METRICS;
export const PRODUCTS_METRICS = ATTRIBUTION_PRODUCTS_METRICS;

const MONEY = new Set([
  'attributedSales14d',
  'totalAttributedSales14d',
  'brb_bonus_amount',
  'kindleEditionNormalizedPagesRoyalties14d',
  'brandHaloAttributedSales14d',
  'attributedNewToBrandSales14d',
  'brandHaloNewToBrandSales14d',
]);

export const CAMPAIGNS_PER_ADVERTISER = 4;
const AD_GROUPS = 2;
const CREATIVES = 2;

export interface Creative {
  advertiserId: string;
  advertiserName: string;
  campaignId: string;
  adGroupId: string;
  creativeId: string;
  publisher: AttributionPublisher;
}

export function attributionCreatives(ds: SandboxDataset, p: number, advertiserIds?: Set<string>): Creative[] {
  const out: Creative[] = [];
  for (const [a, adv] of attributionAdvertisers(ds, p).entries()) {
    if (advertiserIds && !advertiserIds.has(adv.advertiserId)) continue;
    for (let c = 0; c < CAMPAIGNS_PER_ADVERTISER; c++) {
      const pub = PUBLISHERS[(p + a * 3 + c) % PUBLISHERS.length]!;
      for (let g = 0; g < AD_GROUPS; g++)
        for (let k = 0; k < CREATIVES; k++)
          out.push({
            advertiserId: adv.advertiserId,
            advertiserName: adv.advertiserName,
            campaignId: `aa${adv.advertiserId.slice(-3)}-${pub.name.split(' ')[0]!.toLowerCase()}-${c + 1}`,
            adGroupId: `adgroup-${c + 1}-${g + 1}`,
            creativeId: `creative-${c + 1}-${g + 1}-${k + 1}`,
            publisher: pub,
          });
    }
  }
  return out;
}

/** A creative's counts and cents on one day, final (every restatement in) or as first reported. */
export function creativeDay(ds: SandboxDataset, cr: Creative, day: string, final: boolean): Record<string, number> {
  const key = `attr:${cr.advertiserId}:${cr.creativeId}:${cr.campaignId}:${day}`;
  const r = (what: string, min: number, max: number) => intBetween(ds.seed, `${key}:${what}`, min, max);
  const clicks = r('clicks', 10, 80);
  const dpv = Math.floor((clicks * r('dpv', 30, 60)) / 100);
  const atc = Math.floor((dpv * r('atc', 20, 50)) / 100);
  const buys = Math.floor((atc * r('buy', 30, 70)) / 100);
  const extraUnits = r('units', 0, 3);
  const halo = { dpv: r('hdpv', 0, 8), atc: r('hatc', 0, 4), buy: r('hbuy', 0, 2), units: r('hunits', 0, 1) };
  // A first report of the day has four fifths of each conversion count; clicks are all in.
  const share = (n: number) => (final ? n : Math.floor((n * 4) / 5));
  const purchases = share(buys);
  const units = purchases + share(extraUnits);
  const priceCents = r('price', 999, 4999);
  const haloUnits = share(halo.buy) + share(halo.units);
  return {
    'Click-throughs': clicks,
    attributedDetailPageViewsClicks14d: share(dpv),
    attributedAddToCartClicks14d: share(atc),
    attributedPurchases14d: purchases,
    unitsSold14d: units,
    attributedSales14d: units * priceCents,
    attributedTotalDetailPageViewsClicks14d: share(dpv) + share(halo.dpv),
    attributedTotalAddToCartClicks14d: share(atc) + share(halo.atc),
    attributedTotalPurchases14d: purchases + share(halo.buy),
    totalUnitsSold14d: units + haloUnits,
    totalAttributedSales14d: (units + haloUnits) * priceCents,
    brb_bonus_amount: Math.floor((units * priceCents) / 10),
    kindleEditionNormalizedPagesRead14d: 0,
    kindleEditionNormalizedPagesRoyalties14d: 0,
    // Products: the promoted ASIN carries the promoted measures, the brand's other ASIN the halo.
    brandHaloDetailPageViewsClicks14d: share(halo.dpv),
    brandHaloAttributedAddToCartClicks14d: share(halo.atc),
    brandHaloAttributedPurchases14d: share(halo.buy),
    brandHaloUnitsSold14d: haloUnits,
    brandHaloAttributedSales14d: haloUnits * priceCents,
    attributedNewToBrandPurchases14d: Math.floor(purchases / 2),
    attributedNewToBrandUnitsSold14d: Math.floor(units / 2),
    attributedNewToBrandSales14d: Math.floor(units / 2) * priceCents,
    brandHaloNewToBrandPurchases14d: Math.floor(share(halo.buy) / 2),
    brandHaloNewToBrandUnitsSold14d: Math.floor(haloUnits / 2),
    brandHaloNewToBrandSales14d: Math.floor(haloUnits / 2) * priceCents,
  };
}

/** A metric's value as the report writes it: text, money with two decimals. */
export const metricText = (metric: string, v: number): string => (MONEY.has(metric) ? (v / 100).toFixed(2) : String(v));

export const isMoneyMetric = (metric: string) => MONEY.has(metric);

/** The ASINs of an ad group's products report: the promoted one and a brand-halo one. */
export function productsOf(ds: SandboxDataset, cr: Creative): { asin: string; type: 'PROMOTED' | 'BRAND_HALO' }[] {
  const n = intBetween(ds.seed, `attr-asin:${cr.advertiserId}:${cr.campaignId}:${cr.adGroupId}`, 0, 999);
  return [
    { asin: ds.asin(n), type: 'PROMOTED' },
    { asin: ds.asin(n + 1), type: 'BRAND_HALO' },
  ];
}
