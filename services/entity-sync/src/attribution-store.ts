/**
 * The module that owns Amazon Attribution's tables: in Postgres whether a profile is served and
 * what was pulled (attribution_profiles), its advertisers, the publishers and the tags; in
 * ClickHouse the performance and products rows (attribution_performance_daily,
 * attribution_products_daily), each pull a version that replaces the older pulls of its window.
 */
import { Readable } from 'node:stream';
import type { Knex } from '@adsync/shared/db/postgres';
import { chDate, chDateTime, chString, deleteAndWait, insertText, type ClickHouse } from '@adsync/shared/db/clickhouse';
import type {
  AttributionAdvertiser,
  AttributionPublisher,
  AttributionTagRow,
  PerformanceFact,
  ProductFact,
} from '@adsync/shared/amazon/attribution';

export type AttributionState = 'enabled' | 'not_eligible' | 'failed';

export interface AttributionProfileRow {
  profile_id: string;
  state: AttributionState;
  reason: string | null;
  pulled_through: string | null;
  pulled_at: Date | null;
  checked_at: Date;
}

export async function attributionProfile(db: Knex, profileId: string): Promise<AttributionProfileRow | null> {
  // Dates come back as their text (db/postgres.ts), so pulled_through is YYYY-MM-DD.
  return (await db('attribution_profiles').where({ profile_id: profileId }).first<AttributionProfileRow>()) ?? null;
}

export async function recordAttributionState(
  db: Knex,
  profileId: string,
  state: AttributionState,
  reason: string | null,
  pulled?: { through: string; at: Date },
): Promise<void> {
  const row: Record<string, unknown> = { profile_id: profileId, state, reason, checked_at: db.fn.now() };
  if (pulled) Object.assign(row, { pulled_through: pulled.through, pulled_at: pulled.at });
  // Two runs finishing out of order: the mark never moves back.
  const merge: Record<string, unknown> = { state, reason, checked_at: db.fn.now() };
  if (pulled)
    Object.assign(merge, {
      pulled_through: db.raw('greatest(attribution_profiles.pulled_through, excluded.pulled_through)'),
      pulled_at: db.raw('greatest(attribution_profiles.pulled_at, excluded.pulled_at)'),
    });
  await db('attribution_profiles').insert(row).onConflict('profile_id').merge(merge);
}

/**
 * The profile's advertisers as Amazon lists them now: new ones added, gone ones dropped with their
 * tags. Returns each one's last day pulled (null: never pulled, so its first pull backfills).
 */
export async function replaceAttributionAdvertisers(
  db: Knex,
  profileId: string,
  advertisers: AttributionAdvertiser[],
): Promise<Map<string, string | null>> {
  return db.transaction(async (trx) => {
    const ids = advertisers.map((a) => a.advertiserId);
    await trx('attribution_advertisers').where({ profile_id: profileId }).whereNotIn('advertiser_id', ids).delete();
    await trx('attribution_tags').where({ profile_id: profileId }).whereNotIn('advertiser_id', ids).delete();
    if (advertisers.length)
      await trx('attribution_advertisers')
        .insert(
          advertisers.map((a) => ({
            profile_id: profileId,
            advertiser_id: a.advertiserId,
            name: a.advertiserName,
            seen_at: trx.fn.now(),
          })),
        )
        .onConflict(['profile_id', 'advertiser_id'])
        .merge(['name', 'seen_at']);
    const marks = await trx('attribution_advertisers')
      .where({ profile_id: profileId })
      .select<{ advertiser_id: string; pulled_through: string | null }[]>('advertiser_id', 'pulled_through');
    return new Map(marks.map((m) => [m.advertiser_id, m.pulled_through]));
  });
}

/** An advertiser's every report loaded through `through`: its mark moves there (never back). */
export async function recordAdvertiserPulled(
  db: Knex,
  profileId: string,
  advertiserId: string,
  through: string,
): Promise<void> {
  await db('attribution_advertisers')
    .where({ profile_id: profileId, advertiser_id: advertiserId })
    .update({ pulled_through: db.raw('greatest(pulled_through, ?::date)', [through]) });
}

export async function upsertAttributionPublishers(db: Knex, publishers: AttributionPublisher[]): Promise<void> {
  if (!publishers.length) return;
  await db('attribution_publishers')
    .insert(
      publishers.map((p) => ({
        publisher_id: p.id,
        name: p.name,
        macro_enabled: p.macroEnabled,
        seen_at: db.fn.now(),
      })),
    )
    .onConflict('publisher_id')
    .merge();
}

export async function upsertAttributionTags(db: Knex, profileId: string, tags: AttributionTagRow[]): Promise<void> {
  if (!tags.length) return;
  await db('attribution_tags')
    .insert(
      tags.map((t) => ({
        profile_id: profileId,
        advertiser_id: t.advertiserId,
        publisher_id: t.publisherId,
        macro: t.macro,
        tag: t.tag,
        fetched_at: db.fn.now(),
      })),
    )
    .onConflict(['profile_id', 'advertiser_id', 'publisher_id'])
    .merge();
}

/** What an operator sees of a profile's Amazon Attribution: its state, advertisers and tags with their publishers. */
export async function attributionOverview(db: Knex, profileId: string) {
  const [profile, advertisers, tags] = await Promise.all([
    attributionProfile(db, profileId),
    db('attribution_advertisers')
      .where({ profile_id: profileId })
      .orderBy('advertiser_id')
      .select<{ advertiser_id: string; name: string; pulled_through: string | null }[]>(
        'advertiser_id',
        'name',
        'pulled_through',
      ),
    db('attribution_tags as t')
      .leftJoin('attribution_publishers as p', 'p.publisher_id', 't.publisher_id')
      .where({ 't.profile_id': profileId })
      .orderBy(['t.advertiser_id', 't.publisher_id'])
      .select<{ advertiser_id: string; publisher_id: string; publisher: string | null; macro: boolean; tag: string }[]>(
        't.advertiser_id',
        't.publisher_id',
        'p.name as publisher',
        't.macro',
        't.tag',
      ),
  ]);
  return { profile, advertisers, tags };
}

export interface PullSlice {
  profileId: string;
  advertiserId: string;
  advertiserName: string;
  currency: string;
  /** performance: the level (campaign, ad_group, creative); products: null. */
  level: 'campaign' | 'ad_group' | 'creative' | null;
  from: string;
  to: string;
  version: number;
  pulledAt: Date;
}

const tableOf = (s: PullSlice) => (s.level ? 'attribution_performance_daily' : 'attribution_products_daily');

/** One page of a pull's rows, written as they came (the slice's version on each). */
export async function writeAttributionRows(
  ch: ClickHouse,
  slice: PullSlice,
  facts: (PerformanceFact | ProductFact)[],
): Promise<void> {
  if (!facts.length) return;
  const common = {
    profile_id: slice.profileId,
    advertiser_id: slice.advertiserId,
    currency: slice.currency,
    pulled_at: chDateTime(slice.pulledAt),
    version: slice.version,
    ...(slice.level ? { level: slice.level } : {}),
  };
  const text = facts
    .map((f) => JSON.stringify({ ...f, advertiser_name: f.advertiser_name || slice.advertiserName, ...common }))
    .join('\n');
  await insertText(
    ch,
    tableOf(slice),
    'JSONEachRow',
    Readable.from([text]),
    ch.queryId(`attribution-${slice.level ?? 'products'}`),
  );
}

/**
 * Once a pull is whole: the rows older pulls left in its window go when Amazon no longer returns
 * one of them (restated away), so it is not kept beside the new ones.
 */
export async function dropOlderPulls(ch: ClickHouse, slice: PullSlice): Promise<void> {
  const where = [
    `profile_id = ${chString(slice.profileId)}`,
    `advertiser_id = ${chString(slice.advertiserId)}`,
    ...(slice.level ? [`level = ${chString(slice.level)}`] : []),
    `date >= ${chDate(slice.from)}`,
    `date <= ${chDate(slice.to)}`,
    `version < ${Math.trunc(slice.version)}`,
  ].join(' AND ');
  const table = tableOf(slice);
  // A row the new pull has again replaces the older one by its key (ReplacingMergeTree): only keys
  // the new pull no longer has need the delete, which rewrites parts, so it is asked only then.
  const columns = slice.level
    ? 'date, campaign_id, ad_group_id, creative_id, publisher'
    : 'date, campaign_id, ad_group_id, publisher, product_asin, product_conversion_type';
  const mine = [
    `profile_id = ${chString(slice.profileId)}`,
    `advertiser_id = ${chString(slice.advertiserId)}`,
    ...(slice.level ? [`level = ${chString(slice.level)}`] : []),
    `date >= ${chDate(slice.from)}`,
    `date <= ${chDate(slice.to)}`,
    `version = ${Math.trunc(slice.version)}`,
  ].join(' AND ');
  const rs = await ch.client.query({
    query: `SELECT count() AS n FROM ${table} WHERE ${where} AND (${columns}) NOT IN (SELECT ${columns} FROM ${table} WHERE ${mine})`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  if (Number(row?.n ?? 0) > 0) await deleteAndWait(ch, table, where, 120_000);
}
