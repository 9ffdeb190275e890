/**
 * Amazon DSP entity sync: for each of an account's active DSP advertisers, every campaign, ad
 * group, ad and target Ads API v1 lists (shared/amazon/dsp-entities.ts), all four replaced in
 * one transaction once every page is read (shared/entities/dsp-entity-store.ts). An advertiser Amazon
 * refuses or that fails after retries is reported with the reason and the others still sync (a
 * refused one is marked inaccessible); a refused token or a database failure fails the sync.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { DSP_ENTITY_KINDS, queryDspEntities, type DspEntityKind } from '@adsync/shared/amazon/dsp-entities';
import { dspEntityRow, replaceDspEntities, type DspEntityRow } from '@adsync/shared/entities/dsp-entity-store';
import { activeAdvertiserIds, markAdvertiserInaccessible } from '@adsync/shared/accounts/dsp-advertisers';

export interface DspEntitySync {
  advertisers: number;
  synced: { advertiserId: string; kind: DspEntityKind; stored: number; removed: number }[];
  failed: { advertiserId: string; reason: string }[];
}

export async function syncDspEntities(
  db: Knex,
  client: AmazonAdsClient,
  accountId: string,
  pageSize?: number,
): Promise<DspEntitySync> {
  const advertisers = await activeAdvertiserIds(db, accountId);
  const out: DspEntitySync = { advertisers: advertisers.length, synced: [], failed: [] };
  for (const advertiserId of advertisers) {
    let listed: [DspEntityKind, DspEntityRow[]][];
    try {
      // Every kind is read before any is stored, then all are stored in one transaction.
      listed = [];
      for (const kind of DSP_ENTITY_KINDS) {
        const rows: DspEntityRow[] = [];
        for await (const page of queryDspEntities(client, advertiserId, kind, pageSize))
          for (const e of page) rows.push(dspEntityRow(kind, e as Record<string, unknown>));
        listed.push([kind, rows]);
      }
    } catch (err) {
      // Amazon's answer about this advertiser is reported; a refused token, or anything that is
      // not Amazon's (the database), fails the sync.
      if (!(err instanceof AmazonApiError) || err.kind === 'auth') throw err;
      out.failed.push({ advertiserId, reason: err.message });
      // Refused (401/403 about the advertiser): not used until a discovery reaches it again.
      if (err.kind === 'forbidden') await markAdvertiserInaccessible(db, accountId, advertiserId, err.message);
      continue;
    }
    for (const r of await replaceDspEntities(db, advertiserId, listed)) out.synced.push({ advertiserId, ...r });
  }
  return out;
}
