/**
 * The module that owns ClickHouse `entity_context`: the slice of an entity dashboards label
 * and filter by (a ReplacingMergeTree: the newest sync of an entity wins).
 */
import { chDateTime, type ClickHouse } from '@adsync/shared/db/clickhouse';
import type { AdGroupRow, AdRow, CampaignRow, TargetRow } from './entity-normalise.ts';
import type { EntityType } from '@adsync/shared/entities/entity-store';

/** The entity types dashboards label report rows with (report rows are keyed by these levels). */
export const CONTEXT_TYPES: EntityType[] = ['campaigns', 'ad_groups', 'ads', 'targets'];

/** Pure: the context row of one entity row. */
export function entityContextRow(
  type: EntityType,
  r: CampaignRow & AdGroupRow & AdRow & TargetRow,
  syncedAt: string,
  version: number,
) {
  const base = {
    profile_id: r.profile_id,
    campaign_id: r.campaign_id ?? '',
    ad_group_id: '',
    ad_product: r.ad_product ?? '',
    name: '',
    state: r.state ?? '',
    keyword_text: '',
    match_type: '',
    asin: '',
    synced_at: syncedAt,
    version,
  };
  switch (type) {
    case 'campaigns':
      return { ...base, entity_level: 'campaign', entity_id: r.campaign_id, name: r.name ?? '' };
    case 'ad_groups':
      return {
        ...base,
        entity_level: 'ad_group',
        entity_id: r.ad_group_id,
        ad_group_id: r.ad_group_id,
        name: r.name ?? '',
      };
    case 'ads':
      return {
        ...base,
        entity_level: 'ad',
        entity_id: r.ad_id,
        ad_group_id: r.ad_group_id ?? '',
        asin: r.asin ?? '',
        name: r.sku ?? '',
      };
    case 'targets':
      return {
        ...base,
        entity_level: 'target',
        entity_id: r.target_id,
        ad_group_id: r.ad_group_id ?? '',
        keyword_text: r.expression_text ?? '',
        match_type: r.match_type ?? '',
        name: r.expression_text ?? '',
      };
    default:
      throw new Error(`entity type ${type} has no dashboard context`);
  }
}

/** Mirrors a batch of synced entity rows (of a CONTEXT_TYPES type) to ClickHouse. */
export async function writeEntityContext(ch: ClickHouse, type: EntityType, rows: unknown[], now: Date): Promise<void> {
  await ch.client.insert({
    table: 'entity_context',
    format: 'JSONEachRow',
    values: rows.map((r) => entityContextRow(type, r as never, chDateTime(now), now.getTime())),
  });
}
