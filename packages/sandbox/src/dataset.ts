/**
 * The sandbox's advertising world, generated from a seed at any scale. Every
 * entity is a pure function of (seed, profile, kind, index), so listing 200,000
 * targets streams them without building them, and a test can ask for exactly
 * what the sandbox serves.
 *
 * Entities live here in one canonical shape; the wire views (amazon/views.ts)
 * render them the way each Amazon API family does — SP v3 strings and upper-case
 * states, SD's numeric ids and lower-case states, the Exports common model — so a
 * difference between two APIs is a difference in one renderer, never in the data.
 */
import { addDays } from '@adsync/shared/calendar';
import { hash32, intBetween, pick, unit } from './hash-random.ts';

export interface Scale {
  profiles: number;
  portfoliosPerProfile: number;
  campaignsPerProfile: number;
  adGroupsPerCampaign: number;
  adsPerAdGroup: number;
  keywordsPerAdGroup: number;
  productTargetsPerAdGroup: number;
  spNegativeKeywordsPerAdGroup: number;
  spNegativeTargetsPerAdGroup: number;
  spCampaignNegativeKeywordsPerCampaign: number;
  spCampaignNegativeTargetsPerCampaign: number;
  sbCampaignsPerProfile: number;
  sbAdGroupsPerCampaign: number;
  sbAdsPerAdGroup: number;
  sbKeywordsPerAdGroup: number;
  sbProductTargetsPerAdGroup: number;
  sbNegativeKeywordsPerAdGroup: number;
  sbNegativeTargetsPerAdGroup: number;
  sdCampaignsPerProfile: number;
  sdAdGroupsPerCampaign: number;
  sdAdsPerAdGroup: number;
  sdTargetsPerAdGroup: number;
  sdNegativeTargetsPerAdGroup: number;
  sdCreativesPerAdGroup: number;
  stCampaignsPerProfile: number;
  stAdGroupsPerCampaign: number;
  stTargetsPerAdGroup: number;
  budgetRulesPerAdProduct: number;
  searchTermsPerKeyword: number;
  purchasedAsinsPerAd: number;
  matchedTargetsPerAdGroup: number;
}

export const DEFAULT_SCALE: Scale = {
  profiles: 2,
  portfoliosPerProfile: 3,
  campaignsPerProfile: 4,
  adGroupsPerCampaign: 2,
  adsPerAdGroup: 2,
  keywordsPerAdGroup: 3,
  productTargetsPerAdGroup: 1,
  spNegativeKeywordsPerAdGroup: 1,
  spNegativeTargetsPerAdGroup: 1,
  spCampaignNegativeKeywordsPerCampaign: 1,
  spCampaignNegativeTargetsPerCampaign: 1,
  sbCampaignsPerProfile: 2,
  sbAdGroupsPerCampaign: 1,
  sbAdsPerAdGroup: 1,
  sbKeywordsPerAdGroup: 2,
  sbProductTargetsPerAdGroup: 1,
  sbNegativeKeywordsPerAdGroup: 1,
  sbNegativeTargetsPerAdGroup: 1,
  sdCampaignsPerProfile: 2,
  sdAdGroupsPerCampaign: 1,
  sdAdsPerAdGroup: 2,
  sdTargetsPerAdGroup: 2,
  sdNegativeTargetsPerAdGroup: 1,
  sdCreativesPerAdGroup: 1,
  stCampaignsPerProfile: 1,
  stAdGroupsPerCampaign: 1,
  stTargetsPerAdGroup: 1,
  budgetRulesPerAdProduct: 1,
  searchTermsPerKeyword: 2,
  purchasedAsinsPerAd: 2,
  matchedTargetsPerAdGroup: 2,
};

const MARKETPLACES = [
  {
    countryCode: 'US',
    currencyCode: 'USD',
    timezone: 'America/Los_Angeles',
    marketplaceStringId: 'ATVPDKIKX0DER',
    region: 'NA',
  },
  {
    // Amazon's Profiles model names the United Kingdom UK, not ISO's GB.
    countryCode: 'UK',
    currencyCode: 'GBP',
    timezone: 'Europe/London',
    marketplaceStringId: 'A1F83G8C2ARO7P',
    region: 'EU',
  },
  {
    countryCode: 'DE',
    currencyCode: 'EUR',
    timezone: 'Europe/Paris',
    marketplaceStringId: 'A1PA6795UKMFR9',
    region: 'EU',
  },
  {
    countryCode: 'JP',
    currencyCode: 'JPY',
    timezone: 'Asia/Tokyo',
    marketplaceStringId: 'A1VC38T7YXB528',
    region: 'FE',
  },
] as const;

const WORDS = [
  'organic',
  'coffee',
  'beans',
  'espresso',
  'grinder',
  'mug',
  'travel',
  'ceramic',
  'arabica',
  'decaf',
  'filter',
  'pour',
  'over',
  'kettle',
  'cold',
  'brew',
  'dark',
  'roast',
  'gift',
  'set',
];
const STATES = ['ENABLED', 'ENABLED', 'ENABLED', 'PAUSED', 'ARCHIVED'] as const;
const MATCH_TYPES = ['EXACT', 'PHRASE', 'BROAD'] as const;

export const BASE_DATE = '2026-01-01';
/** Creation times, one per day after BASE_DATE: computed once each, not per entity. */
const CREATED_AT: string[] = [];

export type AdProductKind = 'sp' | 'sb' | 'sd' | 'st';
export const AD_PRODUCT_NAMES: Record<AdProductKind, string> = {
  sp: 'SPONSORED_PRODUCTS',
  sb: 'SPONSORED_BRANDS',
  sd: 'SPONSORED_DISPLAY',
  st: 'SPONSORED_TELEVISION',
};

export type EntityKind =
  | 'portfolio'
  | 'campaign'
  | 'adGroup'
  | 'ad'
  | 'keyword'
  | 'productTarget'
  | 'negativeKeyword'
  | 'negativeTarget'
  | 'campaignNegativeKeyword'
  | 'campaignNegativeTarget'
  | 'creative'
  | 'budgetRule';

export type EntityState = 'ENABLED' | 'PAUSED' | 'ARCHIVED';

/** A targeting expression in one neutral spelling (SP's); SB and SD views camel-case the types. */
export interface Expression {
  type: string;
  value?: string;
}

/** Every entity of every ad product, in one shape. Fields a kind does not have stay undefined. */
export interface Entity {
  product: AdProductKind;
  kind: EntityKind;
  profileIndex: number;
  index: number;
  id: string;
  campaignId?: string;
  adGroupId?: string;
  portfolioId?: string;
  state: EntityState;
  name?: string;
  createdAt: string;
  updatedAt: string;
  // campaigns
  startDate?: string;
  endDate?: string;
  budget?: number;
  targetingType?: 'MANUAL' | 'AUTO';
  biddingStrategy?: string;
  placementTopPercentage?: number;
  /** SP bid adjustments for product pages and the rest of search (0: none set, left out as Amazon does). */
  placementProductPagePercentage?: number;
  placementRestOfSearchPercentage?: number;
  tactic?: string;
  costType?: 'CPC' | 'VCPM';
  brandEntityId?: string;
  isMultiAdGroupsEnabled?: boolean;
  // ad groups
  defaultBid?: number;
  creativeType?: 'IMAGE' | 'VIDEO';
  bidOptimization?: string;
  // ads and creatives
  asin?: string;
  sku?: string;
  asins?: string[];
  headline?: string;
  // keywords and targets
  keywordText?: string;
  matchType?: string;
  bid?: number;
  expression?: Expression[];
  expressionType?: 'MANUAL' | 'AUTO';
  // portfolios and budget rules
  amount?: number;
  ruleType?: string;
  increasePercent?: number;
}

/** Which kinds each ad product has. */
export const KINDS_OF: Record<AdProductKind, EntityKind[]> = {
  sp: [
    'campaign',
    'adGroup',
    'ad',
    'keyword',
    'productTarget',
    'negativeKeyword',
    'negativeTarget',
    'campaignNegativeKeyword',
    'campaignNegativeTarget',
    'budgetRule',
  ],
  sb: ['campaign', 'adGroup', 'ad', 'keyword', 'productTarget', 'negativeKeyword', 'negativeTarget', 'budgetRule'],
  sd: ['campaign', 'adGroup', 'ad', 'productTarget', 'negativeTarget', 'creative', 'budgetRule'],
  st: ['campaign', 'adGroup', 'productTarget'],
};

/** Id spaces: 10^13 apart per (product, kind), 10^9 per profile. All ids stay below 2^53. */
const KIND_CODE: Record<string, number> = {};
['portfolio', ...(['sp', 'sb', 'sd', 'st'] as const).flatMap((p) => KINDS_OF[p].map((k) => `${p}.${k}`))].forEach(
  (k, i) => (KIND_CODE[k] = 10 + i),
);

export function entityId(product: AdProductKind | null, kind: EntityKind, p: number, i: number): string {
  const code = KIND_CODE[product ? `${product}.${kind}` : kind];
  if (code === undefined) throw new Error(`no id space for ${product}.${kind}`);
  return String(code * 1e13 + p * 1e9 + i);
}

export const idOf = {
  profile: (p: number) => String(1_000_000_000_000 + p * 1_111),
  campaign: (kind: AdProductKind, p: number, c: number) => entityId(kind, 'campaign', p, c),
};

export interface Profile {
  index: number;
  profileId: string;
  countryCode: string;
  currencyCode: string;
  timezone: string;
  marketplaceStringId: string;
  region: string;
  accountInfo: {
    marketplaceStringId: string;
    id: string;
    type: 'seller' | 'vendor' | 'agency';
    subType?: 'AMAZON_ATTRIBUTION';
    name: string;
    validPaymentMethod?: boolean;
  };
}

/** An Amazon DSP advertiser's delivery tree: orders (DSP campaigns), their line items and creatives. */
export interface DspAdvertiser {
  advertiserId: string;
  name: string;
  orders: {
    orderId: string;
    name: string;
    budget: number;
    startDate: string;
    endDate: string;
    lineItems: {
      lineItemId: string;
      name: string;
      type: string;
      budget: number;
      creatives: { creativeId: string; name: string; type: string; size: string }[];
    }[];
  }[];
}

export interface Change {
  kind: string;
  profileId: string;
  id: string;
  patch: Record<string, unknown>;
  /** Where the changed entity lives (its ad product and kind), to read it back as it now is. */
  product: AdProductKind;
  entityKind: EntityKind;
}

/** SP's predefined (auto-targeting) expression types, as its v3 model spells them. */
export const AUTO_EXPRESSIONS = [
  'QUERY_HIGH_REL_MATCHES',
  'QUERY_BROAD_REL_MATCHES',
  'ASIN_SUBSTITUTE_RELATED',
  'ASIN_ACCESSORY_RELATED',
] as const;

const titleWords = (seed: number, key: string, n: number) =>
  Array.from({ length: n }, (_, i) => pick(seed, `${key}:w${i}`, WORDS)).join(' ');
const money = (v: number) => Math.round(v * 100) / 100;

export class Dataset {
  readonly seed: number;
  readonly scale: Scale;
  /** Entity update times are fixed relative to this instant, so repeated lists agree. */
  readonly epochMs: number;
  /** Changes applied after generation (see mutate), keyed by entity id. */
  private readonly overrides = new Map<string, Partial<Entity>>();

  constructor(seed: number, scale: Partial<Scale> = {}, epochMs = Math.floor(Date.now() / 1000) * 1000) {
    this.seed = seed >>> 0;
    this.scale = { ...DEFAULT_SCALE, ...scale };
    this.epochMs = epochMs;
  }

  /**
   * The DSP advertiser a profile's authorisation reaches, with two orders of two line
   * items of two creatives each: enough to give every DSP report grain several rows.
   */
  dspAdvertisers(p: number): DspAdvertiser[] {
    const seed = this.seed;
    const num = (key: string, digits: number) =>
      String(10 ** (digits - 1) + (hash32(seed, key) % (9 * 10 ** (digits - 1))));
    const advertiserId = num(`dsp:${p}`, 12);
    const start = new Date(this.epochMs - 120 * 86_400_000).toISOString().slice(0, 10);
    const end = new Date(this.epochMs + 240 * 86_400_000).toISOString().slice(0, 10);
    return [
      {
        advertiserId,
        name: `Sandbox DSP advertiser ${p + 1}`,
        orders: [0, 1].map((o) => ({
          orderId: num(`dsp:${p}:o${o}`, 13),
          name: `Order ${titleWords(seed, `dsp:${p}:o${o}`, 2)} ${o + 1}`,
          budget: intBetween(seed, `dsp:${p}:o${o}:b`, 5_000, 50_000),
          startDate: start,
          endDate: end,
          lineItems: [0, 1].map((l) => ({
            lineItemId: num(`dsp:${p}:o${o}:l${l}`, 13),
            name: `Line item ${titleWords(seed, `dsp:${p}:o${o}:l${l}`, 2)} ${l + 1}`,
            type: pick(seed, `dsp:${p}:o${o}:l${l}:t`, ['STANDARD_DISPLAY', 'VIDEO', 'AAP_MOBILE_APP']),
            budget: intBetween(seed, `dsp:${p}:o${o}:l${l}:b`, 1_000, 10_000),
            creatives: [0, 1].map((c) => ({
              creativeId: num(`dsp:${p}:o${o}:l${l}:c${c}`, 13),
              name: `Creative ${c + 1} of line item ${l + 1}`,
              type: c === 0 ? 'IMAGE' : 'VIDEO',
              size: c === 0 ? '300x250' : '1920x1080',
            })),
          })),
        })),
      },
    ];
  }

  profiles(): Profile[] {
    return Array.from({ length: this.scale.profiles }, (_, p) => {
      const m = MARKETPLACES[p % MARKETPLACES.length]!;
      // Every third profile a vendor, every fifth a DSP entity's (agency: "associated with DSP", the Profiles model).
      const type = p % 5 === 4 ? 'agency' : p % 3 === 2 ? 'vendor' : 'seller';
      return {
        index: p,
        profileId: idOf.profile(p),
        ...m,
        accountInfo: {
          marketplaceStringId: m.marketplaceStringId,
          id: `A${hash32(this.seed, `acct${p}`).toString(36).toUpperCase()}`,
          type,
          name: `Sandbox Brand ${p + 1}`,
          ...(type === 'vendor' ? { validPaymentMethod: true } : {}),
          // Every second agency profile (the tenth, twentieth…) is Amazon Attribution's, not a DSP entity.
          ...(p % 10 === 9 ? { subType: 'AMAZON_ATTRIBUTION' as const } : {}),
        },
      };
    });
  }

  profileIndex(profileId: string): number | null {
    const p = (Number(profileId) - 1_000_000_000_000) / 1_111;
    return Number.isInteger(p) && p >= 0 && p < this.scale.profiles ? p : null;
  }

  /** The creative type of an SB campaign, which SB v3's creativeType filters name (productCollection or video). */
  sbCreativeType(campaignId: string): 'productCollection' | 'video' {
    // Every third SB campaign is a video campaign.
    return this.indexOf(campaignId) % 3 === 2 ? 'video' : 'productCollection';
  }

  /** The profile whose authorisation reaches a DSP advertiser account (Amazon-Ads-AccountId), if any. */
  dspAccountIndex(accountId: string): number | null {
    if (!this.dspAccounts) {
      this.dspAccounts = new Map();
      for (let p = 0; p < this.scale.profiles; p++)
        for (const a of this.dspAdvertisers(p)) this.dspAccounts.set(a.advertiserId, p);
    }
    return this.dspAccounts.get(accountId) ?? null;
  }
  private dspAccounts: Map<string, number> | null = null;

  // ---- structure: how many of each kind, and each entity's parents ----

  private perCampaign(product: AdProductKind): number {
    const s = this.scale;
    return {
      sp: s.adGroupsPerCampaign,
      sb: s.sbAdGroupsPerCampaign,
      sd: s.sdAdGroupsPerCampaign,
      st: s.stAdGroupsPerCampaign,
    }[product];
  }

  private campaigns(product: AdProductKind): number {
    const s = this.scale;
    return {
      sp: s.campaignsPerProfile,
      sb: s.sbCampaignsPerProfile,
      sd: s.sdCampaignsPerProfile,
      st: s.stCampaignsPerProfile,
    }[product];
  }

  /** Children per ad group (or per campaign, for campaign-level kinds). */
  private perParent(
    product: AdProductKind,
    kind: EntityKind,
  ): { per: number; level: 'campaign' | 'adGroup' | 'profile' } {
    const s = this.scale;
    const table: Record<string, [number, 'campaign' | 'adGroup' | 'profile']> = {
      'sp.ad': [s.adsPerAdGroup, 'adGroup'],
      'sp.keyword': [s.keywordsPerAdGroup, 'adGroup'],
      'sp.productTarget': [s.productTargetsPerAdGroup, 'adGroup'],
      'sp.negativeKeyword': [s.spNegativeKeywordsPerAdGroup, 'adGroup'],
      'sp.negativeTarget': [s.spNegativeTargetsPerAdGroup, 'adGroup'],
      'sp.campaignNegativeKeyword': [s.spCampaignNegativeKeywordsPerCampaign, 'campaign'],
      'sp.campaignNegativeTarget': [s.spCampaignNegativeTargetsPerCampaign, 'campaign'],
      'sb.ad': [s.sbAdsPerAdGroup, 'adGroup'],
      'sb.keyword': [s.sbKeywordsPerAdGroup, 'adGroup'],
      'sb.productTarget': [s.sbProductTargetsPerAdGroup, 'adGroup'],
      'sb.negativeKeyword': [s.sbNegativeKeywordsPerAdGroup, 'adGroup'],
      'sb.negativeTarget': [s.sbNegativeTargetsPerAdGroup, 'adGroup'],
      'sd.ad': [s.sdAdsPerAdGroup, 'adGroup'],
      'sd.productTarget': [s.sdTargetsPerAdGroup, 'adGroup'],
      'sd.negativeTarget': [s.sdNegativeTargetsPerAdGroup, 'adGroup'],
      'sd.creative': [s.sdCreativesPerAdGroup, 'adGroup'],
      'st.productTarget': [s.stTargetsPerAdGroup, 'adGroup'],
      'sp.budgetRule': [s.budgetRulesPerAdProduct, 'profile'],
      'sb.budgetRule': [s.budgetRulesPerAdProduct, 'profile'],
      'sd.budgetRule': [s.budgetRulesPerAdProduct, 'profile'],
    };
    const t = table[`${product}.${kind}`];
    if (!t) throw new Error(`${product} has no ${kind}`);
    return { per: t[0], level: t[1] };
  }

  /** How many entities of a kind a profile has (all profiles have the same shape). */
  count(product: AdProductKind | null, kind: EntityKind): number {
    if (kind === 'portfolio') return this.scale.portfoliosPerProfile;
    const p = product!;
    if (!KINDS_OF[p].includes(kind)) return 0;
    if (kind === 'campaign') return this.campaigns(p);
    if (kind === 'adGroup') return this.campaigns(p) * this.perCampaign(p);
    const { per, level } = this.perParent(p, kind);
    return level === 'profile'
      ? per
      : level === 'campaign'
        ? this.campaigns(p) * per
        : this.campaigns(p) * this.perCampaign(p) * per;
  }

  /**
   * The entity ids a complete sync of one profile must hold, per adsync entity table:
   * every level of Sponsored Products, Brands and Display (archived included), their
   * negatives at both levels, SD creatives, portfolios and budget rules. Tests and the
   * chaos judge compare against this.
   */
  expectedEntityIds(
    p: number,
  ): Record<
    'campaigns' | 'ad_groups' | 'ads' | 'targets' | 'negative_targets' | 'creatives' | 'portfolios' | 'budget_rules',
    string[]
  > {
    const ids = (pairs: [AdProductKind | null, EntityKind][]) =>
      pairs.flatMap(([product, kind]) => [...this.all(product, kind, p)].map((e) => e.id)).sort();
    const products: AdProductKind[] = ['sp', 'sb', 'sd'];
    return {
      campaigns: ids(products.map((x) => [x, 'campaign'])),
      ad_groups: ids(products.map((x) => [x, 'adGroup'])),
      ads: ids(products.map((x) => [x, 'ad'])),
      targets: ids([
        ['sp', 'keyword'],
        ['sp', 'productTarget'],
        ['sb', 'keyword'],
        ['sb', 'productTarget'],
        ['sd', 'productTarget'],
      ]),
      negative_targets: ids([
        ['sp', 'negativeKeyword'],
        ['sp', 'negativeTarget'],
        ['sp', 'campaignNegativeKeyword'],
        ['sp', 'campaignNegativeTarget'],
        ['sb', 'negativeKeyword'],
        ['sb', 'negativeTarget'],
        ['sd', 'negativeTarget'],
      ]),
      creatives: ids([['sd', 'creative']]),
      portfolios: ids([[null, 'portfolio']]),
      budget_rules: ids(products.map((x) => [x, 'budgetRule'])),
    };
  }

  /** Every entity of a kind in a profile, in id order. */
  *all(product: AdProductKind | null, kind: EntityKind, p: number): Generator<Entity> {
    const n = this.count(product, kind);
    for (let i = 0; i < n; i++) yield this.entity(product, kind, p, i);
  }

  private parents(
    product: AdProductKind,
    kind: EntityKind,
    p: number,
    i: number,
  ): { campaignIndex?: number; adGroupIndex?: number } {
    if (kind === 'campaign' || kind === 'budgetRule') return {};
    if (kind === 'adGroup') return { campaignIndex: Math.floor(i / this.perCampaign(product)) };
    const { per, level } = this.perParent(product, kind);
    if (level === 'campaign') return { campaignIndex: Math.floor(i / per) };
    const g = Math.floor(i / per);
    return { adGroupIndex: g, campaignIndex: Math.floor(g / this.perCampaign(product)) };
  }

  /** Last-update time of an entity: spread over the 60 days before the epoch, fixed per entity. */
  private updatedAt(key: string): string {
    const back = unit(this.seed, `${key}:upd`) * 60 * 86_400_000;
    return new Date(Math.floor((this.epochMs - back) / 1000) * 1000).toISOString();
  }

  private createdAt(key: string): string {
    const n = intBetween(this.seed, `${key}:created`, 0, 200);
    return (CREATED_AT[n] ??= `${addDays(BASE_DATE, n)}T08:00:00.000Z`);
  }

  asin(n: number): string {
    return `B0${(0x1000000 + n * 7919).toString(36).toUpperCase().padStart(8, '0')}`.slice(0, 10);
  }

  /** The entity at (product, kind, profile, index), with any recorded change applied. */
  entity(product: AdProductKind | null, kind: EntityKind, p: number, i: number): Entity {
    const id = entityId(product, kind, p, i);
    const base = this.generate(product, kind, p, i, id);
    const o = this.overrides.get(id);
    return o ? { ...base, ...o } : base;
  }

  private generate(product: AdProductKind | null, kind: EntityKind, p: number, i: number, id: string): Entity {
    const seed = this.seed;
    const e: Entity = {
      product: product ?? 'sp',
      kind,
      profileIndex: p,
      index: i,
      id,
      state: pick(seed, `${id}:state`, STATES),
      createdAt: this.createdAt(id),
      updatedAt: this.updatedAt(id),
    };
    if (kind === 'portfolio') {
      return {
        ...e,
        state: 'ENABLED',
        name: `Portfolio ${titleWords(seed, id, 2)} ${i + 1}`,
        amount: intBetween(seed, `${id}:budget`, 500, 5000),
      };
    }
    const prod = product!;
    const { campaignIndex, adGroupIndex } = this.parents(prod, kind, p, i);
    if (campaignIndex !== undefined) e.campaignId = entityId(prod, 'campaign', p, campaignIndex);
    if (adGroupIndex !== undefined) e.adGroupId = entityId(prod, 'adGroup', p, adGroupIndex);
    switch (kind) {
      case 'campaign': {
        const auto = prod === 'sp' && unit(seed, `${id}:auto`) < 0.3;
        const pf =
          this.scale.portfoliosPerProfile > 0 && unit(seed, `${id}:pf`) < 0.5
            ? entityId(null, 'portfolio', p, i % this.scale.portfoliosPerProfile)
            : undefined;
        const label = {
          sp: `SP ${auto ? 'Auto' : 'Manual'}`,
          sb: 'SB Brand',
          sd: 'SD Retargeting',
          st: 'ST Awareness',
        }[prod];
        return {
          ...e,
          name: `${label} – ${titleWords(seed, id, 3)} #${i + 1}`,
          portfolioId: pf,
          startDate: this.createdAt(id).slice(0, 10),
          budget: intBetween(seed, `${id}:budget`, 10, 500),
          targetingType: prod === 'sp' ? (auto ? 'AUTO' : 'MANUAL') : undefined,
          biddingStrategy:
            prod === 'sp' ? pick(seed, `${id}:strat`, ['LEGACY_FOR_SALES', 'AUTO_FOR_SALES', 'MANUAL']) : undefined,
          placementTopPercentage: prod === 'sp' ? intBetween(seed, `${id}:top`, 0, 50) : undefined,
          placementProductPagePercentage: prod === 'sp' ? intBetween(seed, `${id}:product-page`, 0, 30) : undefined,
          placementRestOfSearchPercentage: prod === 'sp' ? intBetween(seed, `${id}:rest-of-search`, 0, 20) : undefined,
          tactic: prod === 'sd' ? pick(seed, `${id}:tactic`, ['T00020', 'T00030']) : undefined,
          costType: prod === 'sb' || prod === 'sd' ? 'CPC' : prod === 'st' ? 'VCPM' : undefined,
          brandEntityId: prod === 'sb' ? `ENTITY${hash32(seed, `brand${p}`).toString(36).toUpperCase()}` : undefined,
          // Every third SB campaign predates multi-ad-group campaigns (created through SB v3).
          isMultiAdGroupsEnabled: prod === 'sb' ? i % 3 !== 2 : undefined,
        };
      }
      case 'adGroup':
        return {
          ...e,
          name: `Ad group ${titleWords(seed, id, 2)} ${i + 1}`,
          defaultBid: prod === 'sb' ? undefined : money(0.2 + unit(seed, `${id}:bid`) * 2.3),
          creativeType: prod === 'sd' ? pick(seed, `${id}:ct`, ['IMAGE', 'VIDEO'] as const) : undefined,
          bidOptimization: prod === 'sd' ? 'clicks' : undefined,
          tactic: prod === 'sd' ? this.entity('sd', 'campaign', p, campaignIndexOr(campaignIndex)).tactic : undefined,
        };
      case 'ad': {
        const asin = this.asin(hash32(seed, `${id}:asin`) % 500);
        return {
          ...e,
          asin,
          sku: `SKU-${asin.slice(-6)}`,
          name: prod === 'sb' ? `Brand ad ${i + 1}` : undefined,
          asins: prod === 'sb' ? [asin, this.asin((hash32(seed, `${id}:a2`) % 500) + 1)] : undefined,
          headline: prod === 'sb' ? `The best ${titleWords(seed, id, 2)}` : undefined,
        };
      }
      case 'keyword':
        return {
          ...e,
          keywordText: titleWords(seed, id, intBetween(seed, `${id}:len`, 1, 4)),
          matchType: pick(seed, `${id}:match`, MATCH_TYPES),
          bid: money(0.2 + unit(seed, `${id}:bid`) * 3),
        };
      case 'productTarget': {
        // An SP auto campaign targets by Amazon's four predefined expressions (close match, loose
        // match, substitutes, complements); reports call those TARGETING_EXPRESSION_PREDEFINED.
        const auto = prod === 'sp' && this.entity('sp', 'campaign', p, campaignIndex!).targetingType === 'AUTO';
        const expression = auto
          ? [{ type: pick(seed, `${id}:auto`, AUTO_EXPRESSIONS) }]
          : prod === 'sd' && unit(seed, `${id}:sim`) < 0.5
            ? [{ type: 'SIMILAR_PRODUCT' }]
            : [{ type: 'ASIN_SAME_AS', value: this.asin(hash32(seed, `${id}:asin`) % 500) }];
        return {
          ...e,
          expression,
          expressionType: auto ? 'AUTO' : 'MANUAL',
          bid: money(0.3 + unit(seed, `${id}:bid`) * 2),
        };
      }
      case 'negativeKeyword':
      case 'campaignNegativeKeyword':
        return {
          ...e,
          state: pick(seed, `${id}:state`, ['ENABLED', 'ENABLED', 'ARCHIVED'] as const),
          keywordText: `${titleWords(seed, id, 1)} free`,
          matchType: pick(seed, `${id}:match`, ['NEGATIVE_EXACT', 'NEGATIVE_PHRASE']),
        };
      case 'negativeTarget':
      case 'campaignNegativeTarget':
        return {
          ...e,
          state: pick(seed, `${id}:state`, ['ENABLED', 'ENABLED', 'ARCHIVED'] as const),
          expression: [
            {
              type: unit(seed, `${id}:brand`) < 0.3 ? 'ASIN_BRAND_SAME_AS' : 'ASIN_SAME_AS',
              value: this.asin((hash32(seed, `${id}:asin`) % 500) + 250),
            },
          ],
        };
      case 'creative':
        return {
          ...e,
          state: 'ENABLED',
          creativeType: this.entity('sd', 'adGroup', p, adGroupIndex!).creativeType,
          headline: `Discover ${titleWords(seed, id, 2)}`,
        };
      case 'budgetRule':
        return {
          ...e,
          state: 'ENABLED',
          name: `${prod.toUpperCase()} weekend boost ${i + 1}`,
          ruleType: 'SCHEDULE',
          increasePercent: intBetween(seed, `${id}:pct`, 10, 50),
        };
      default:
        return e;
    }
  }

  /** Campaign ids a budget rule is associated with: every third campaign of its ad product, by rule. */
  budgetRuleCampaigns(product: AdProductKind, p: number, ruleIndex: number): string[] {
    const out: string[] = [];
    for (let c = ruleIndex; c < this.campaigns(product); c += 3) out.push(entityId(product, 'campaign', p, c));
    return out;
  }

  /** Whether an entity and every parent it has are ENABLED: only then does it deliver impressions. */
  delivering(e: Entity): boolean {
    if (e.state !== 'ENABLED') return false;
    const p = e.profileIndex;
    if (e.adGroupId) {
      const g = this.entity(e.product, 'adGroup', p, this.indexOf(e.adGroupId));
      if (g.state !== 'ENABLED') return false;
    }
    if (e.campaignId) {
      const c = this.entity(e.product, 'campaign', p, this.indexOf(e.campaignId));
      if (c.state !== 'ENABLED') return false;
    }
    return true;
  }

  /** The index within its (product, kind, profile) of an id this dataset made. */
  indexOf(id: string): number {
    return Number(id) % 1e9;
  }

  /** Records a change to one entity, the way an advertiser editing in the console would. */
  override(id: string, patch: Partial<Entity>): void {
    this.overrides.set(id, { ...this.overrides.get(id), ...patch });
    this.revision++;
  }

  /** Counts recorded changes: whatever was built from the data at one revision holds until the next. */
  revision = 0;

  /**
   * Changes a deterministic share of every SP entity type and of SB campaigns: new
   * bids, budgets, names, states, each with a fresh update time. Returns what changed,
   * so a test can check values, not just counts.
   */
  mutate(fraction: number, at: Date, round = 1, only?: (kind: string) => boolean): Change[] {
    const changed: Change[] = [];
    const updatedAt = new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
    const chosen = (id: string) => unit(this.seed, `${id}:mutate${round}`) < fraction;
    const nextState = (st: EntityState): EntityState => (st === 'ENABLED' ? 'PAUSED' : 'ENABLED');
    const plan: [AdProductKind, EntityKind, string, (e: Entity) => Partial<Entity>][] = [
      ['sp', 'campaign', 'campaign', (e) => ({ name: `${e.name} (edited ${round})`, budget: (e.budget ?? 0) + 7 })],
      ['sp', 'adGroup', 'ad_group', (e) => ({ defaultBid: money((e.defaultBid ?? 0) + 0.11) })],
      ['sp', 'ad', 'ad', (e) => ({ state: nextState(e.state) })],
      ['sp', 'keyword', 'keyword', (e) => ({ bid: money((e.bid ?? 0) + 0.05), state: nextState(e.state) })],
      ['sp', 'productTarget', 'product_target', (e) => ({ bid: money((e.bid ?? 0) + 0.07) })],
      ['sb', 'campaign', 'sb_campaign', (e) => ({ name: `${e.name} (edited ${round})` })],
      ['sb', 'adGroup', 'sb_ad_group', (e) => ({ name: `${e.name} (edited ${round})` })],
      ['sb', 'keyword', 'sb_keyword', (e) => ({ bid: money((e.bid ?? 0) + 0.04) })],
      ['sd', 'campaign', 'sd_campaign', (e) => ({ state: nextState(e.state) })],
      ['sd', 'productTarget', 'sd_target', (e) => ({ bid: money((e.bid ?? 0) + 0.03) })],
    ];
    for (let p = 0; p < this.scale.profiles; p++) {
      for (const [product, kind, label, patchOf] of plan) {
        if (only && !only(label)) continue;
        for (const e of this.all(product, kind, p)) {
          if (!chosen(e.id)) continue;
          const patch = patchOf(e);
          this.override(e.id, { ...patch, updatedAt });
          changed.push({ kind: label, profileId: idOf.profile(p), id: e.id, patch, product, entityKind: kind });
        }
      }
    }
    return changed;
  }
}

function campaignIndexOr(i: number | undefined): number {
  if (i === undefined) throw new Error('an ad group always has a campaign');
  return i;
}
