/**
 * The module that owns `dsp_entities`: Amazon DSP's campaigns, ad groups, ads and targets per
 * advertiser (shared/amazon/dsp-entities.ts reads them from Ads API v1). A complete sync of one
 * kind replaces that kind for the advertiser, in one transaction: what Amazon lists is stored,
 * what it no longer lists is gone, and a reader never sees half of a sync.
 */
import type { Knex } from '../db/postgres.ts';
import type { DspEntityKind } from '../amazon/dsp-entities.ts';

export interface DspEntityRow {
  entity_id: string;
  campaign_id: string | null;
  ad_group_id: string | null;
  name: string | null;
  state: string | null;
  data: unknown;
  last_updated_at: string | null;
}

const SLICE = 1000;

/** What one entity of a kind stores beside its whole object. */
export function dspEntityRow(kind: DspEntityKind, e: Record<string, unknown>): DspEntityRow {
  const id = { campaigns: 'campaignId', adGroups: 'adGroupId', ads: 'adId', targets: 'targetId' }[kind];
  const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
  return {
    entity_id: String(e[id] ?? ''),
    campaign_id: text(e.campaignId),
    ad_group_id: text(e.adGroupId),
    name: text(e.name),
    state: text(e.state),
    data: e,
    last_updated_at: text(e.lastUpdatedDateTime),
  };
}

/**
 * Replaces an advertiser's entities, kind by kind, with complete listings, in one transaction
 * (a reader never sees half of a sync; a failure leaves the advertiser as it was), holding the
 * advertiser's lock so two syncs of it (an ingestion, the API) take turns. An id listed twice
 * (paging while Amazon changes) is stored once, the later listing winning.
 */
export async function replaceDspEntities(
  db: Knex,
  advertiserId: string,
  listed: [DspEntityKind, DspEntityRow[]][],
): Promise<{ kind: DspEntityKind; stored: number; removed: number }[]> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`dsp_entities:${advertiserId}`]);
    const out: { kind: DspEntityKind; stored: number; removed: number }[] = [];
    for (const [kind, all] of listed) {
      const rows = [...new Map(all.filter((r) => r.entity_id).map((r) => [r.entity_id, r])).values()];
      const ids = new Set(rows.map((r) => r.entity_id));
      const before: string[] = await trx('dsp_entities')
        .where({ advertiser_id: advertiserId, kind })
        .pluck('entity_id');
      const gone = before.filter((id) => !ids.has(id));
      for (let i = 0; i < gone.length; i += SLICE)
        await trx('dsp_entities')
          .where({ advertiser_id: advertiserId, kind })
          .whereIn('entity_id', gone.slice(i, i + SLICE))
          .delete();
      for (let i = 0; i < rows.length; i += SLICE)
        await trx('dsp_entities')
          .insert(
            rows
              .slice(i, i + SLICE)
              .map((r) => ({ ...r, data: JSON.stringify(r.data), advertiser_id: advertiserId, kind })),
          )
          .onConflict(['advertiser_id', 'kind', 'entity_id'])
          .merge(['campaign_id', 'ad_group_id', 'name', 'state', 'data', 'last_updated_at', 'synced_at']);
      out.push({ kind, stored: rows.length, removed: gone.length });
    }
    return out;
  });
}

/** The DSP entities of one kind of these advertisers (an account's: accounts/dsp-advertisers.ts names them), by advertiser and id. */
export function dspEntitiesOf(db: Knex, advertiserIds: string[], kind: DspEntityKind) {
  return db('dsp_entities')
    .whereIn('advertiser_id', advertiserIds)
    .where({ kind })
    .orderBy(['advertiser_id', 'entity_id']);
}
