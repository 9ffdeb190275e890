/** How each entity type is listed from Amazon and written to Postgres. */
import type { EntityKind } from '@adsync/shared/amazon/entities';
import type { ExportKind } from '@adsync/shared/amazon/exports';
import type { UpsertSpec } from '@adsync/shared/db/bulk-upsert';
import * as n from './entity-normalise.ts';
import type { EntityType } from './entity-normalise.ts';

type Row = { amazon_updated_at: string | null };

export interface EntitySource {
  kind: EntityKind;
  normalise: (profileId: string, e: Record<string, unknown>) => Row;
}

export interface EntityTable {
  sources: EntitySource[];
  /**
   * Full syncs read Sponsored Products entities from one export instead of paging
   * through the lists it replaces; the remaining sources are still listed.
   */
  fullExport?: { kind: ExportKind; normalise: (profileId: string, e: Record<string, unknown>) => Row; replaces: EntityKind[] };
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
    fullExport: { kind: 'campaigns', normalise: n.spCampaign, replaces: ['spCampaigns'] },
    upsert: spec<n.CampaignRow>('entity_campaigns', ['profile_id', 'campaign_id'], {
      profile_id: 'text', campaign_id: 'text', ad_product: 'text', name: 'text', state: 'text', targeting_type: 'text', budget_micros: 'int8', budget_type: 'text',
      bidding: 'jsonb', start_date: 'date', end_date: 'date', portfolio_id: 'text', ...common,
    }),
  },
  ad_groups: {
    sources: [{ kind: 'spAdGroups', normalise: n.spAdGroup }],
    fullExport: { kind: 'adGroups', normalise: n.spAdGroup, replaces: ['spAdGroups'] },
    upsert: spec<n.AdGroupRow>('entity_ad_groups', ['profile_id', 'ad_group_id'], {
      profile_id: 'text', ad_group_id: 'text', campaign_id: 'text', ad_product: 'text', name: 'text', state: 'text', default_bid_micros: 'int8', ...common,
    }),
  },
  ads: {
    sources: [{ kind: 'spProductAds', normalise: n.spProductAd }],
    fullExport: { kind: 'ads', normalise: n.spProductAd, replaces: ['spProductAds'] },
    upsert: spec<n.AdRow>('entity_ads', ['profile_id', 'ad_id'], {
      profile_id: 'text', ad_id: 'text', ad_group_id: 'text', campaign_id: 'text', ad_product: 'text', asin: 'text', sku: 'text', creative: 'jsonb', state: 'text', ...common,
    }),
  },
  targets: {
    sources: [
      { kind: 'spKeywords', normalise: n.spKeyword },
      { kind: 'spProductTargets', normalise: n.spProductTarget },
    ],
    fullExport: { kind: 'targets', normalise: n.spExportTarget, replaces: ['spKeywords', 'spProductTargets'] },
    upsert: spec<n.TargetRow>('entity_targets', ['profile_id', 'target_id'], {
      profile_id: 'text', target_id: 'text', ad_group_id: 'text', campaign_id: 'text', ad_product: 'text', target_type: 'text', expression: 'jsonb', expression_text: 'text',
      match_type: 'text', bid_micros: 'int8', state: 'text', ...common,
    }),
  },
};
