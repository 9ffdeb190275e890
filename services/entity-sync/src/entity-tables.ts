/** How each entity type is listed from Amazon and written to Postgres. */
import type { EntityKind } from '@adsync/shared/amazon/entities';
import type { ExportKind, ExportRequest } from '@adsync/shared/amazon/exports';
import type { UpsertSpec } from '@adsync/shared/db/bulk-upsert';
import * as n from './entity-normalise.ts';
import type { EntityType } from './entity-normalise.ts';

type Row = { amazon_updated_at: string | null };

export interface EntitySource {
  kind: EntityKind;
  normalise: (profileId: string, e: Record<string, unknown>) => Row;
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
    alwaysSet: { synced_at: 'now()' },
    row: (r) => cols.map((c) => (r as unknown as R)[c as keyof R]),
  };
}

export const ENTITY_TABLES: Record<EntityType, EntityTable> = {
  campaigns: {
    sources: [
      { kind: 'spCampaigns', normalise: n.spCampaign },
      { kind: 'sbCampaigns', normalise: n.sbCampaign },
      { kind: 'sdCampaigns', normalise: n.sdCampaign },
    ],
    fullExport: {
      kind: 'campaigns',
      request: { adProducts: ['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY'] },
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
    sources: [{ kind: 'spAdGroups', normalise: n.spAdGroup }],
    fullExport: {
      kind: 'adGroups',
      request: { adProducts: ['SPONSORED_PRODUCTS'] },
      normalise: n.exportAdGroup,
      replaces: ['spAdGroups'],
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
    sources: [{ kind: 'spProductAds', normalise: n.spProductAd }],
    fullExport: {
      kind: 'ads',
      request: { adProducts: ['SPONSORED_PRODUCTS'] },
      normalise: n.exportAd,
      replaces: ['spProductAds'],
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
      { kind: 'spKeywords', normalise: n.spKeyword },
      { kind: 'spProductTargets', normalise: n.spProductTarget },
    ],
    // Positive ad-group targets only: negatives are not part of entity_targets.
    fullExport: {
      kind: 'targets',
      request: { adProducts: ['SPONSORED_PRODUCTS'], negative: [false], targetLevels: ['AD_GROUP'] },
      normalise: n.exportTarget,
      replaces: ['spKeywords', 'spProductTargets'],
    },
    upsert: spec<n.TargetRow>('entity_targets', ['profile_id', 'target_id'], {
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
    }),
  },
};
