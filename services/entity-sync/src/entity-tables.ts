/** How each entity type is listed from Amazon, and which of the entity store's tables it is written to. */
import type { EntityKind } from '@adsync/shared/amazon/entities';
import type { EntityOf } from '@adsync/shared/amazon/model-types';
import type { ExportKind, ExportRequest } from '@adsync/shared/amazon/exports';
import type { UpsertSpec } from '@adsync/shared/db/bulk-upsert';
import { ENTITY_UPSERTS, type EntityRow, type EntityType } from '@adsync/shared/entities/entity-store';
import * as n from './entity-normalise.ts';

type Row = EntityRow;

/** Lists entities of a kind, typed by Amazon's model of that list. */
export type Lister = <K extends EntityKind>(kind: K) => AsyncIterable<EntityOf[K]>;

/** A list and the normaliser of its entities: rows() reads the list and normalises what Amazon's model of it says. */
export interface EntitySource {
  kind: EntityKind;
  rows(profileId: string, list: Lister): AsyncIterable<Row>;
}

/** A source whose normaliser the compiler holds to the model of its list. */
function source<K extends EntityKind>(kind: K, normalise: (profileId: string, e: EntityOf[K]) => Row): EntitySource {
  return {
    kind,
    async *rows(profileId, list) {
      for await (const e of list(kind)) yield normalise(profileId, e);
    },
  };
}

/** Looks up the campaign of an ad group (exported ads and targets name only the ad group). */
export type CampaignOfAdGroup = n.CampaignOfAdGroup;

export interface EntityTable {
  sources: EntitySource[];
  /**
   * Full syncs read one export (per entity type, for the ad products it names)
   * instead of paging through the lists it replaces; other sources are still listed.
   */
  fullExport?: {
    kind: ExportKind;
    request: ExportRequest;
    normalise: (profileId: string, e: Record<string, unknown>, campaignOf: CampaignOfAdGroup) => Row;
    replaces: EntityKind[];
  };
  upsert: UpsertSpec<Row>;
}

const ALL_PRODUCTS: ExportRequest['adProducts'] = ['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY'];

export const ENTITY_TABLES: Record<EntityType, EntityTable> = {
  portfolios: {
    sources: [source('portfolios', n.portfolio)],
    upsert: ENTITY_UPSERTS.portfolios,
  },
  campaigns: {
    sources: [
      source('spCampaigns', n.spCampaign),
      source('sbCampaigns', n.sbCampaign),
      source('sdCampaigns', n.sdCampaign),
    ],
    fullExport: {
      kind: 'campaigns',
      request: { adProducts: ALL_PRODUCTS },
      normalise: n.exportCampaign,
      replaces: ['spCampaigns', 'sbCampaigns', 'sdCampaigns'],
    },
    upsert: ENTITY_UPSERTS.campaigns,
  },
  ad_groups: {
    sources: [source('spAdGroups', n.spAdGroup), source('sbAdGroups', n.sbAdGroup), source('sdAdGroups', n.sdAdGroup)],
    fullExport: {
      kind: 'adGroups',
      request: { adProducts: ALL_PRODUCTS },
      normalise: n.exportAdGroup,
      replaces: ['spAdGroups', 'sbAdGroups', 'sdAdGroups'],
    },
    upsert: ENTITY_UPSERTS.ad_groups,
  },
  ads: {
    sources: [source('spProductAds', n.spProductAd), source('sbAds', n.sbAd), source('sdProductAds', n.sdProductAd)],
    fullExport: {
      kind: 'ads',
      request: { adProducts: ALL_PRODUCTS },
      normalise: n.exportAd,
      replaces: ['spProductAds', 'sbAds', 'sdProductAds'],
    },
    upsert: ENTITY_UPSERTS.ads,
  },
  targets: {
    sources: [
      source('spKeywords', n.spKeyword),
      source('spProductTargets', n.spProductTarget),
      source('sbKeywords', n.sbKeyword),
      source('sbProductTargets', n.sbProductTarget),
      source('sdTargets', n.sdTarget),
    ],
    // Positive ad-group targets only: negatives have their own table.
    fullExport: {
      kind: 'targets',
      request: { adProducts: ALL_PRODUCTS, negative: [false], targetLevels: ['AD_GROUP'] },
      normalise: n.exportTarget,
      replaces: ['spKeywords', 'spProductTargets', 'sbKeywords', 'sbProductTargets', 'sdTargets'],
    },
    upsert: ENTITY_UPSERTS.targets,
  },
  negative_targets: {
    sources: [
      source('spNegativeKeywords', n.spNegativeKeyword),
      source('spNegativeTargets', n.spNegativeTarget),
      source('spCampaignNegativeKeywords', n.spCampaignNegativeKeyword),
      source('spCampaignNegativeTargets', n.spCampaignNegativeTarget),
      source('sbNegativeKeywords', n.sbNegativeKeyword),
      source('sbNegativeTargets', n.sbNegativeTarget),
      source('sdNegativeTargets', n.sdNegativeTarget),
    ],
    fullExport: {
      kind: 'targets',
      request: { adProducts: ALL_PRODUCTS, negative: [true], targetLevels: ['AD_GROUP', 'CAMPAIGN'] },
      normalise: n.exportNegativeTarget,
      replaces: [
        'spNegativeKeywords',
        'spNegativeTargets',
        'spCampaignNegativeKeywords',
        'spCampaignNegativeTargets',
        'sbNegativeKeywords',
        'sbNegativeTargets',
        'sdNegativeTargets',
      ],
    },
    upsert: ENTITY_UPSERTS.negative_targets,
  },
  creatives: {
    sources: [source('sdCreatives', n.sdCreative)],
    upsert: ENTITY_UPSERTS.creatives,
  },
  budget_rules: {
    sources: [
      source('spBudgetRules', n.budgetRule('SPONSORED_PRODUCTS')),
      source('sbBudgetRules', n.budgetRule('SPONSORED_BRANDS')),
      source('sdBudgetRules', n.budgetRule('SPONSORED_DISPLAY')),
    ],
    upsert: ENTITY_UPSERTS.budget_rules,
  },
};
