/** How each entity type is listed from Amazon and written to Postgres. */
import type { EntityKind } from '@adsync/shared/amazon/entities';
import type { EntityOf } from '@adsync/shared/amazon/model-types';
import type { ExportKind, ExportRequest } from '@adsync/shared/amazon/exports';
import type { UpsertSpec } from '@adsync/shared/db/bulk-upsert';
import * as n from './entity-normalise.ts';
import type { EntityType } from './entity-normalise.ts';

type Row = { amazon_updated_at: string | null };

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

const TS = 'timestamptz';
const common = { amazon_created_at: TS, amazon_updated_at: TS };

function spec<R extends Row>(table: string, key: string[], columns: Record<string, string>): UpsertSpec<Row> {
  const cols = Object.keys(columns);
  return {
    table,
    key,
    columns,
    // SB keyword and target lists carry no timestamps while the exports do: an
    // incremental list read must not erase what the last full export recorded.
    keepWhenNull: ['amazon_created_at', 'amazon_updated_at'],
    alwaysSet: { synced_at: 'now()' },
    row: (r) => cols.map((c) => (r as unknown as R)[c as keyof R]),
  };
}

const ALL_PRODUCTS: ExportRequest['adProducts'] = ['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY'];

const TARGET_COLUMNS = {
  profile_id: 'text',
  target_id: 'text',
  ad_group_id: 'text',
  campaign_id: 'text',
  ad_product: 'text',
  target_type: 'text',
  expression: 'jsonb',
  expression_text: 'text',
  match_type: 'text',
  bid_micros: 'int8',
  state: 'text',
  ...common,
};

export const ENTITY_TABLES: Record<EntityType, EntityTable> = {
  portfolios: {
    sources: [source('portfolios', n.portfolio)],
    upsert: spec<n.PortfolioRow>('entity_portfolios', ['profile_id', 'portfolio_id'], {
      profile_id: 'text',
      portfolio_id: 'text',
      name: 'text',
      state: 'text',
      in_budget: 'bool',
      budget: 'jsonb',
      ...common,
    }),
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
    upsert: spec<n.CampaignRow>('entity_campaigns', ['profile_id', 'campaign_id'], {
      profile_id: 'text',
      campaign_id: 'text',
      ad_product: 'text',
      name: 'text',
      state: 'text',
      targeting_type: 'text',
      budget_micros: 'int8',
      budget_type: 'text',
      bidding: 'jsonb',
      start_date: 'date',
      end_date: 'date',
      portfolio_id: 'text',
      ...common,
    }),
  },
  ad_groups: {
    sources: [source('spAdGroups', n.spAdGroup), source('sbAdGroups', n.sbAdGroup), source('sdAdGroups', n.sdAdGroup)],
    fullExport: {
      kind: 'adGroups',
      request: { adProducts: ALL_PRODUCTS },
      normalise: n.exportAdGroup,
      replaces: ['spAdGroups', 'sbAdGroups', 'sdAdGroups'],
    },
    upsert: spec<n.AdGroupRow>('entity_ad_groups', ['profile_id', 'ad_group_id'], {
      profile_id: 'text',
      ad_group_id: 'text',
      campaign_id: 'text',
      ad_product: 'text',
      name: 'text',
      state: 'text',
      default_bid_micros: 'int8',
      ...common,
    }),
  },
  ads: {
    sources: [source('spProductAds', n.spProductAd), source('sbAds', n.sbAd), source('sdProductAds', n.sdProductAd)],
    fullExport: {
      kind: 'ads',
      request: { adProducts: ALL_PRODUCTS },
      normalise: n.exportAd,
      replaces: ['spProductAds', 'sbAds', 'sdProductAds'],
    },
    upsert: spec<n.AdRow>('entity_ads', ['profile_id', 'ad_id'], {
      profile_id: 'text',
      ad_id: 'text',
      ad_group_id: 'text',
      campaign_id: 'text',
      ad_product: 'text',
      asin: 'text',
      sku: 'text',
      creative: 'jsonb',
      state: 'text',
      ...common,
    }),
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
    upsert: spec<n.TargetRow>('entity_targets', ['profile_id', 'target_id'], TARGET_COLUMNS),
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
    upsert: spec<n.NegativeTargetRow>('entity_negative_targets', ['profile_id', 'negative_id'], {
      profile_id: 'text',
      negative_id: 'text',
      ad_product: 'text',
      level: 'text',
      campaign_id: 'text',
      ad_group_id: 'text',
      target_type: 'text',
      expression: 'jsonb',
      expression_text: 'text',
      match_type: 'text',
      state: 'text',
      ...common,
    }),
  },
  creatives: {
    sources: [source('sdCreatives', n.sdCreative)],
    upsert: spec<n.CreativeRow>('entity_creatives', ['profile_id', 'creative_id'], {
      profile_id: 'text',
      creative_id: 'text',
      ad_group_id: 'text',
      ad_product: 'text',
      creative_type: 'text',
      properties: 'jsonb',
      moderation_status: 'text',
      amazon_updated_at: TS,
    }),
  },
  budget_rules: {
    sources: [
      source('spBudgetRules', n.budgetRule('SPONSORED_PRODUCTS')),
      source('sbBudgetRules', n.budgetRule('SPONSORED_BRANDS')),
      source('sdBudgetRules', n.budgetRule('SPONSORED_DISPLAY')),
    ],
    upsert: spec<n.BudgetRuleRow>('entity_budget_rules', ['profile_id', 'rule_id'], {
      profile_id: 'text',
      rule_id: 'text',
      ad_product: 'text',
      name: 'text',
      rule_type: 'text',
      state: 'text',
      status: 'text',
      details: 'jsonb',
      ...common,
    }),
  },
};
