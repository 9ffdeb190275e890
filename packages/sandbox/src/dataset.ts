/**
 * The sandbox's advertising world, generated from a seed at any scale. Every
 * entity and every metric is a pure function of (seed, ids, date), so listing
 * 200,000 targets streams them without building them, and a test can ask for the
 * exact totals of anything the sandbox served.
 */
import { addDays } from '@adsync/shared/calendar';
import { hash32, intBetween, pick, unit } from './hash-random.ts';

export interface Scale {
  profiles: number;
  campaignsPerProfile: number;
  adGroupsPerCampaign: number;
  adsPerAdGroup: number;
  keywordsPerAdGroup: number;
  productTargetsPerAdGroup: number;
  sbCampaignsPerProfile: number;
  sdCampaignsPerProfile: number;
  searchTermsPerKeyword: number;
}

export const DEFAULT_SCALE: Scale = {
  profiles: 2,
  campaignsPerProfile: 4,
  adGroupsPerCampaign: 2,
  adsPerAdGroup: 2,
  keywordsPerAdGroup: 3,
  productTargetsPerAdGroup: 1,
  sbCampaignsPerProfile: 2,
  sdCampaignsPerProfile: 2,
  searchTermsPerKeyword: 2,
};

const MARKETPLACES = [
  { countryCode: 'US', currencyCode: 'USD', timezone: 'America/Los_Angeles', marketplaceStringId: 'ATVPDKIKX0DER', region: 'NA' },
  { countryCode: 'GB', currencyCode: 'GBP', timezone: 'Europe/London', marketplaceStringId: 'A1F83G8C2ARO7P', region: 'EU' },
  { countryCode: 'DE', currencyCode: 'EUR', timezone: 'Europe/Paris', marketplaceStringId: 'A1PA6795UKMFR9', region: 'EU' },
  { countryCode: 'JP', currencyCode: 'JPY', timezone: 'Asia/Tokyo', marketplaceStringId: 'A1VC38T7YXB528', region: 'FE' },
] as const;

const WORDS = ['organic', 'coffee', 'beans', 'espresso', 'grinder', 'mug', 'travel', 'ceramic', 'arabica', 'decaf', 'filter', 'pour', 'over', 'kettle', 'cold', 'brew', 'dark', 'roast', 'gift', 'set'];
const STATES_V3 = ['ENABLED', 'ENABLED', 'ENABLED', 'PAUSED', 'ARCHIVED'] as const;
const MATCH_TYPES = ['EXACT', 'PHRASE', 'BROAD'] as const;

export const BASE_DATE = '2026-01-01';

export interface Profile {
  index: number;
  profileId: string;
  countryCode: string;
  currencyCode: string;
  timezone: string;
  marketplaceStringId: string;
  region: string;
  accountInfo: { marketplaceStringId: string; id: string; type: 'seller' | 'vendor'; name: string; validPaymentMethod: boolean };
}

export type AdProductKind = 'sp' | 'sb' | 'sd';

/** One row of the SP target list: a keyword or a product target. */
export interface TargetRef {
  kind: 'keyword' | 'product';
  id: string;
  adGroupIndex: number;
  campaignIndex: number;
  n: number;
}

export const idOf = {
  profile: (p: number) => String(1_000_000_000_000 + p * 1_111),
  campaign: (kind: AdProductKind, p: number, c: number) => String({ sp: 1e14, sb: 2e14, sd: 3e14 }[kind] + p * 1e8 + c),
  adGroup: (p: number, g: number) => String(4e14 + p * 1e9 + g),
  ad: (p: number, a: number) => String(5e14 + p * 1e10 + a),
  keyword: (p: number, k: number) => String(6e14 + p * 1e10 + k),
  productTarget: (p: number, t: number) => String(7e14 + p * 1e10 + t),
};

const titleWords = (seed: number, key: string, n: number) => Array.from({ length: n }, (_, i) => pick(seed, `${key}:w${i}`, WORDS)).join(' ');

export class Dataset {
  readonly seed: number;
  readonly scale: Scale;
  /** Entity update times are fixed relative to this instant, so repeated lists agree. */
  readonly epochMs: number;
  /** Changes applied after generation (see mutate), keyed by entity id. */
  private readonly overrides = new Map<string, Record<string, unknown>>();

  constructor(seed: number, scale: Partial<Scale> = {}, epochMs = Math.floor(Date.now() / 1000) * 1000) {
    this.seed = seed >>> 0;
    this.scale = { ...DEFAULT_SCALE, ...scale };
    this.epochMs = epochMs;
  }

  /** Records a change to one entity as Amazon would show it: new values and a fresh lastUpdateDateTime. */
  override(id: string, patch: Record<string, unknown>): void {
    this.overrides.set(id, { ...this.overrides.get(id), ...patch });
  }

  /**
   * Changes a deterministic share of every SP entity type and SB campaigns, the way
   * an advertiser editing in the console would: new bids, budgets, names, states.
   * Returns what changed, so a test can check values, not just counts.
   */
  mutate(fraction: number, at: Date, round = 1): { kind: string; profileId: string; id: string; patch: Record<string, unknown> }[] {
    const changed: { kind: string; profileId: string; id: string; patch: Record<string, unknown> }[] = [];
    const updatedAt = new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
    const now = new Date(this.epochMs);
    const chosen = (id: string) => unit(this.seed, `${id}:mutate${round}`) < fraction;
    for (let p = 0; p < this.scale.profiles; p++) {
      const profileId = idOf.profile(p);
      const visit = (kind: string, n: number, gen: (i: number) => Record<string, unknown>, idKey: string, patchOf: (e: Record<string, unknown>) => Record<string, unknown>) => {
        for (let i = 0; i < n; i++) {
          const e = gen(i);
          const id = String(e[idKey]);
          if (!chosen(id)) continue;
          const patch = patchOf(e);
          this.override(id, { ...patch, updatedAt });
          changed.push({ kind, profileId, id, patch });
        }
      };
      const nextState = (st: unknown) => (st === 'ENABLED' ? 'PAUSED' : 'ENABLED');
      visit('campaign', this.count(p, 'campaigns'), (i) => this.spCampaign(p, i, now), 'campaignId', (e) => ({ name: `${String(e.name)} (edited ${round})`, budget: { budgetType: 'DAILY', budget: Number((e.budget as { budget: number }).budget) + 7 } }));
      visit('ad_group', this.count(p, 'adGroups'), (i) => this.spAdGroup(p, i, now), 'adGroupId', (e) => ({ defaultBid: Math.round((Number(e.defaultBid) + 0.11) * 100) / 100 }));
      visit('ad', this.count(p, 'ads'), (i) => this.spProductAd(p, i, now), 'adId', (e) => ({ state: nextState(e.state) }));
      visit('keyword', this.count(p, 'keywords'), (i) => this.spKeyword(p, i, now), 'keywordId', (e) => ({ bid: Math.round((Number(e.bid) + 0.05) * 100) / 100, state: nextState(e.state) }));
      visit('product_target', this.count(p, 'productTargets'), (i) => this.spProductTarget(p, i, now), 'targetId', (e) => ({ bid: Math.round((Number(e.bid) + 0.07) * 100) / 100 }));
      visit('sb_campaign', this.count(p, 'sbCampaigns'), (i) => this.sbCampaign(p, i, now), 'campaignId', (e) => ({ name: `${String(e.name)} (edited ${round})` }));
    }
    return changed;
  }

  /** Applies recorded changes to a freshly generated entity. */
  private patched<T extends Record<string, unknown>>(id: string, entity: T): T {
    const o = this.overrides.get(id);
    if (!o) return entity;
    const { updatedAt, ...fields } = o as { updatedAt?: string };
    const out = { ...entity, ...fields } as Record<string, unknown>;
    const ext = out.extendedData as Record<string, unknown> | undefined;
    if (ext && updatedAt) {
      out.extendedData = 'lastUpdateDate' in ext ? { ...ext, lastUpdateDate: Date.parse(updatedAt) } : { ...ext, lastUpdateDateTime: updatedAt };
    }
    return out as T;
  }

  profiles(): Profile[] {
    return Array.from({ length: this.scale.profiles }, (_, p) => {
      const m = MARKETPLACES[p % MARKETPLACES.length]!;
      const profileId = idOf.profile(p);
      return {
        index: p,
        profileId,
        ...m,
        accountInfo: { marketplaceStringId: m.marketplaceStringId, id: `A${hash32(this.seed, `acct${p}`).toString(36).toUpperCase()}`, type: p % 3 === 2 ? 'vendor' : 'seller', name: `Sandbox Brand ${p + 1}`, validPaymentMethod: true },
      };
    });
  }

  profileIndex(profileId: string): number | null {
    const p = (Number(profileId) - 1_000_000_000_000) / 1_111;
    return Number.isInteger(p) && p >= 0 && p < this.scale.profiles ? p : null;
  }

  // ---- counts, so pagination can address any page directly ----
  count(p: number, what: 'campaigns' | 'adGroups' | 'ads' | 'keywords' | 'productTargets' | 'targets' | 'sbCampaigns' | 'sdCampaigns'): number {
    const s = this.scale;
    const groups = s.campaignsPerProfile * s.adGroupsPerCampaign;
    void p;
    switch (what) {
      case 'campaigns': return s.campaignsPerProfile;
      case 'adGroups': return groups;
      case 'ads': return groups * s.adsPerAdGroup;
      case 'keywords': return groups * s.keywordsPerAdGroup;
      case 'productTargets': return groups * s.productTargetsPerAdGroup;
      case 'targets': return groups * (s.keywordsPerAdGroup + s.productTargetsPerAdGroup);
      case 'sbCampaigns': return s.sbCampaignsPerProfile;
      case 'sdCampaigns': return s.sdCampaignsPerProfile;
    }
  }

  /** Last-update time of an entity: spread over the 60 days before `now`, fixed per entity. */
  private updatedAt(key: string, _now: Date): string {
    const back = unit(this.seed, `${key}:upd`) * 60 * 86_400_000;
    return new Date(Math.floor((this.epochMs - back) / 1000) * 1000).toISOString();
  }

  private createdAt(key: string): string {
    return `${addDays(BASE_DATE, intBetween(this.seed, `${key}:created`, 0, 200))}T08:00:00Z`;
  }

  spCampaign(p: number, c: number, now: Date) {
    const id = idOf.campaign('sp', p, c);
    const auto = unit(this.seed, `${id}:auto`) < 0.3;
    return this.patched(id, {
      campaignId: id,
      name: `SP ${auto ? 'Auto' : 'Manual'} – ${titleWords(this.seed, id, 3)} #${c + 1}`,
      campaignType: 'SPONSORED_PRODUCTS',
      targetingType: auto ? 'AUTO' : 'MANUAL',
      state: pick(this.seed, `${id}:state`, STATES_V3),
      dynamicBidding: { strategy: pick(this.seed, `${id}:strat`, ['LEGACY_FOR_SALES', 'AUTO_FOR_SALES', 'MANUAL']), placementBidding: [{ placement: 'PLACEMENT_TOP', percentage: intBetween(this.seed, `${id}:top`, 0, 50) }] },
      startDate: this.createdAt(id).slice(0, 10),
      budget: { budgetType: 'DAILY', budget: intBetween(this.seed, `${id}:budget`, 10, 500) },
      portfolioId: unit(this.seed, `${id}:pf`) < 0.5 ? String(9e14 + p * 100 + (c % 3)) : undefined,
      extendedData: { creationDateTime: this.createdAt(id), lastUpdateDateTime: this.updatedAt(id, now), servingStatus: 'CAMPAIGN_STATUS_ENABLED' },
    });
  }

  spAdGroup(p: number, g: number, now: Date) {
    const c = Math.floor(g / this.scale.adGroupsPerCampaign);
    const id = idOf.adGroup(p, g);
    return this.patched(id, {
      adGroupId: id,
      campaignId: idOf.campaign('sp', p, c),
      name: `Ad group ${titleWords(this.seed, id, 2)} ${g + 1}`,
      state: pick(this.seed, `${id}:state`, STATES_V3),
      defaultBid: Math.round((0.2 + unit(this.seed, `${id}:bid`) * 2.3) * 100) / 100,
      extendedData: { creationDateTime: this.createdAt(id), lastUpdateDateTime: this.updatedAt(id, now), servingStatus: 'AD_GROUP_STATUS_ENABLED' },
    });
  }

  spProductAd(p: number, a: number, now: Date) {
    const g = Math.floor(a / this.scale.adsPerAdGroup);
    const c = Math.floor(g / this.scale.adGroupsPerCampaign);
    const id = idOf.ad(p, a);
    const asin = this.asin(hash32(this.seed, `${id}:asin`) % 500);
    return this.patched(id, {
      adId: id,
      adGroupId: idOf.adGroup(p, g),
      campaignId: idOf.campaign('sp', p, c),
      asin,
      sku: `SKU-${asin.slice(-6)}`,
      state: pick(this.seed, `${id}:state`, STATES_V3),
      extendedData: { creationDateTime: this.createdAt(id), lastUpdateDateTime: this.updatedAt(id, now), servingStatus: 'AD_STATUS_LIVE' },
    });
  }

  asin(n: number): string {
    return `B0${(0x1000000 + n * 7919).toString(36).toUpperCase().padStart(8, '0')}`.slice(0, 10);
  }

  spKeyword(p: number, k: number, now: Date) {
    const g = Math.floor(k / this.scale.keywordsPerAdGroup);
    const c = Math.floor(g / this.scale.adGroupsPerCampaign);
    const id = idOf.keyword(p, k);
    return this.patched(id, {
      keywordId: id,
      adGroupId: idOf.adGroup(p, g),
      campaignId: idOf.campaign('sp', p, c),
      keywordText: titleWords(this.seed, id, intBetween(this.seed, `${id}:len`, 1, 4)),
      matchType: pick(this.seed, `${id}:match`, MATCH_TYPES),
      state: pick(this.seed, `${id}:state`, STATES_V3),
      bid: Math.round((0.2 + unit(this.seed, `${id}:bid`) * 3) * 100) / 100,
      extendedData: { creationDateTime: this.createdAt(id), lastUpdateDateTime: this.updatedAt(id, now), servingStatus: 'TARGETING_CLAUSE_STATUS_LIVE' },
    });
  }

  spProductTarget(p: number, t: number, now: Date) {
    const g = Math.floor(t / this.scale.productTargetsPerAdGroup);
    const c = Math.floor(g / this.scale.adGroupsPerCampaign);
    const id = idOf.productTarget(p, t);
    const expression = [{ type: 'ASIN_SAME_AS', value: this.asin(hash32(this.seed, `${id}:asin`) % 500) }];
    return this.patched(id, {
      targetId: id,
      adGroupId: idOf.adGroup(p, g),
      campaignId: idOf.campaign('sp', p, c),
      expression,
      resolvedExpression: expression,
      expressionType: 'MANUAL',
      state: pick(this.seed, `${id}:state`, STATES_V3),
      bid: Math.round((0.3 + unit(this.seed, `${id}:bid`) * 2) * 100) / 100,
      extendedData: { creationDateTime: this.createdAt(id), lastUpdateDateTime: this.updatedAt(id, now), servingStatus: 'TARGETING_CLAUSE_STATUS_LIVE' },
    });
  }

  sbCampaign(p: number, c: number, now: Date) {
    const id = idOf.campaign('sb', p, c);
    return this.patched(id, {
      campaignId: id,
      name: `SB Brand – ${titleWords(this.seed, id, 2)} #${c + 1}`,
      state: pick(this.seed, `${id}:state`, STATES_V3),
      budget: intBetween(this.seed, `${id}:budget`, 20, 300),
      budgetType: 'DAILY',
      startDate: this.createdAt(id).slice(0, 10),
      brandEntityId: `ENTITY${hash32(this.seed, `brand${p}`).toString(36).toUpperCase()}`,
      goal: 'BRAND_IMPRESSION_SHARE',
      costType: 'CPC',
      extendedData: { creationDate: Date.parse(this.createdAt(id)), lastUpdateDate: Date.parse(this.updatedAt(id, now)), servingStatus: 'RUNNING' },
    });
  }

  /** Sponsored Display still speaks the v2-era shape: numeric ids, lower-case states. */
  sdCampaign(p: number, c: number, now: Date) {
    const id = idOf.campaign('sd', p, c);
    return {
      campaignId: Number(id),
      name: `SD Retargeting – ${titleWords(this.seed, id, 2)} #${c + 1}`,
      tactic: pick(this.seed, `${id}:tactic`, ['T00020', 'T00030']),
      budgetType: 'daily',
      budget: intBetween(this.seed, `${id}:budget`, 10, 200),
      costType: 'cpc',
      state: pick(this.seed, `${id}:state`, ['enabled', 'enabled', 'paused', 'archived']),
      startDate: this.createdAt(id).slice(0, 10).replaceAll('-', ''),
      lastUpdatedDate: Date.parse(this.updatedAt(id, now)),
    };
  }

  /** The v2 shape of an SP campaign: numeric ids, lower-case enums, yyyymmdd dates. */
  spCampaignV2(p: number, c: number, now: Date) {
    const v3 = this.spCampaign(p, c, now);
    return {
      campaignId: Number(v3.campaignId),
      name: v3.name,
      campaignType: 'sponsoredProducts',
      targetingType: v3.targetingType.toLowerCase(),
      state: v3.state.toLowerCase(),
      dailyBudget: v3.budget.budget,
      startDate: v3.startDate.replaceAll('-', ''),
      premiumBidAdjustment: false,
    };
  }

  spAdGroupV2(p: number, g: number, now: Date) {
    const v3 = this.spAdGroup(p, g, now);
    return { adGroupId: Number(v3.adGroupId), campaignId: Number(v3.campaignId), name: v3.name, defaultBid: v3.defaultBid, state: v3.state.toLowerCase() };
  }

  spKeywordV2(p: number, k: number, now: Date) {
    const v3 = this.spKeyword(p, k, now);
    return { keywordId: Number(v3.keywordId), adGroupId: Number(v3.adGroupId), campaignId: Number(v3.campaignId), keywordText: v3.keywordText, matchType: v3.matchType.toLowerCase(), state: v3.state.toLowerCase(), bid: v3.bid };
  }

  spProductAdV2(p: number, a: number, now: Date) {
    const v3 = this.spProductAd(p, a, now);
    return { adId: Number(v3.adId), adGroupId: Number(v3.adGroupId), campaignId: Number(v3.campaignId), asin: v3.asin, sku: v3.sku, state: v3.state.toLowerCase() };
  }
}

