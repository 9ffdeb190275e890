/**
 * The module that owns the ClickHouse fact tables reports load into: `ads_metrics_daily`
 * (entity metrics per profile, report type, level, entity, search term, day and placement),
 * `ads_metrics_recent` (its last RECENT_DAYS, for the real-time panels),
 * `ads_purchased_products`, `ads_traffic_quality`, `ads_audience_daily` (SP and SB campaigns by
 * audience segment), `ads_conversion_paths` (a brand's paths to purchase) and `dsp_metrics_daily` (Amazon DSP, per
 * advertiser and breakdown). etl-loader writes them; entity-sync,
 * report-poller and stream-consumer read the aggregates they need through here.
 */
import type { Readable } from 'node:stream';
import { chDate, chString, deleteAndWait, insertText, type ClickHouse } from '../db/clickhouse.ts';
import type { ReportOwner } from './report-owner.ts';
import { addDays } from '../calendar.ts';
import { REPORT_TYPES, type FactTable } from '../amazon/report-catalog.ts';

export const RECENT_DAYS = 14;

export const RECENT_COLUMNS = [
  'profile_id',
  'report_type',
  'entity_level',
  'entity_id',
  'search_term',
  'date',
  'placement',
  'campaign_id',
  'impressions',
  'clicks',
  'cost_micros',
  'sales_micros',
  'orders',
  'units',
  'loaded_at',
  'version',
] as const;

/** Inserts tab-separated fact lines (encoded as they are read) into a report type's table. */
export function insertFacts(
  ch: ClickHouse,
  table: FactTable,
  lines: Readable,
  columns: readonly string[],
  queryId: string,
): Promise<void> {
  return insertText(ch, table, 'TabSeparated', lines, queryId, columns);
}

/** Inserts tab-separated RECENT_COLUMNS lines into the streaming table. */
export function insertRecent(ch: ClickHouse, lines: Readable, queryId: string): Promise<void> {
  return insertText(ch, 'ads_metrics_recent', 'TabSeparated', lines, queryId, RECENT_COLUMNS);
}

/** Drops streaming-table partitions older than RECENT_DAYS (portable stand-in for TTL). */
export async function pruneRecent(ch: ClickHouse, now: Date): Promise<number> {
  const cutoff = addDays(now.toISOString().slice(0, 10), -RECENT_DAYS);
  const rs = await ch.client.query({
    query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${chString(ch.database)} AND table = 'ads_metrics_recent' AND active`,
    format: 'JSONEachRow',
  });
  const parts = (await rs.json<{ partition: string }>()).map((p) => p.partition.replace(/'/g, ''));
  const old = parts.filter((p) =>
    /^\d{4}-\d{2}-\d{2}$/.test(p)
      ? p < cutoff
      : /^\d{8}$/.test(p) && `${p.slice(0, 4)}-${p.slice(4, 6)}-${p.slice(6)}` < cutoff,
  );
  for (const p of old) await ch.client.command({ query: `ALTER TABLE ads_metrics_recent DROP PARTITION '${p}'` });
  return old.length;
}

/**
 * Last 7 and 30 days of cost, sales, clicks, impressions and orders of a profile's
 * entities (by `groupBy`: the entity itself, or the ad group of its ads), from these report types.
 */
export async function recentMetricsByEntity(
  ch: ClickHouse,
  o: { profileId: string; reportTypes: string[]; groupBy: 'entity_id' | 'ad_group_id'; today: string },
): Promise<{ id: string; metrics: Record<string, number> }[]> {
  const d7 = chDate(addDays(o.today, -7));
  const rs = await ch.client.query({
    query: `SELECT ${o.groupBy} AS id,
              sumIf(cost_micros, date >= ${d7}) AS cost_7d_micros, sumIf(sales_micros, date >= ${d7}) AS sales_7d_micros,
              sumIf(clicks, date >= ${d7}) AS clicks_7d, sumIf(impressions, date >= ${d7}) AS impressions_7d, sumIf(orders, date >= ${d7}) AS orders_7d,
              sum(cost_micros) AS cost_30d_micros, sum(sales_micros) AS sales_30d_micros, sum(clicks) AS clicks_30d, sum(impressions) AS impressions_30d, sum(orders) AS orders_30d
            FROM ads_metrics_daily FINAL
            WHERE profile_id = ${chString(o.profileId)} AND report_type IN (${o.reportTypes.map(chString).join(', ')}) AND date >= ${chDate(addDays(o.today, -30))}
            GROUP BY id`,
    format: 'JSONEachRow',
    query_id: ch.queryId('recent-metrics'),
  });
  return (await rs.json<Record<string, string | number>>()).map((r) => {
    const { id, ...m } = r;
    return { id: String(id), metrics: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)])) };
  });
}

/**
 * Per day and campaign of a window: which of the finer reports saw it spend (and the most any
 * one saw), and whether the campaign report has it at all. What the report reconciliation judges.
 */
export async function campaignPresence(
  ch: ClickHouse,
  o: { profileId: string; campaignReport: string; finer: string[]; startDate: string; endDate: string },
): Promise<{ day: string; campaign_id: string; seen_in: string[]; max_cost: string; in_campaign_report: string }[]> {
  const c = chString(o.campaignReport);
  // No alias repeats a column name: ClickHouse 18.16 would read `cost` as the outer alias and nest the aggregates.
  const rs = await ch.client.query({
    query: `SELECT day, campaign_id,
              groupUniqArrayIf(report_type, report_type != ${c} AND cost > 0) AS seen_in,
              maxIf(cost, report_type != ${c}) AS max_cost,
              countIf(report_type = ${c}) AS in_campaign_report
            FROM (
              SELECT toString(date) AS day, campaign_id, report_type, sum(cost_micros) AS cost
              FROM ads_metrics_daily FINAL
              WHERE profile_id = ${chString(o.profileId)}
                AND report_type IN (${[o.campaignReport, ...o.finer].map(chString).join(', ')})
                AND date >= ${chDate(o.startDate)} AND date <= ${chDate(o.endDate)}
              GROUP BY day, campaign_id, report_type
            )
            GROUP BY day, campaign_id`,
    format: 'JSONEachRow',
    query_id: ch.queryId('reconcile'),
  });
  return rs.json();
}

/** One day of a campaign report's totals per campaign (what the Marketing Stream is compared with). */
/**
 * The ClickHouse rows of a report owner: a profile's, or a DSP advertiser account's (stored
 * without a profile, under its advertiser id).
 */
export function ownerFilter(o: ReportOwner): string {
  // '' is every advertiser account's rows at once: never an owner.
  if (o.profileId === '' || o.dspAccountId === '') throw new Error('a report owner with an empty id');
  return o.profileId !== undefined
    ? `profile_id = ${chString(o.profileId)}`
    : `profile_id = '' AND advertiser_id = ${chString(o.dspAccountId)}`;
}

export async function campaignDayTotals(
  ch: ClickHouse,
  o: { owner: ReportOwner; reportType: string; day: string },
): Promise<Record<string, string | number>[]> {
  // DSP's campaign is its order; dspCampaign rows are its creatives, summed per order.
  const dsp = REPORT_TYPES[o.reportType]?.table === 'dsp_metrics_daily';
  const rs = await ch.client.query({
    query: `SELECT ${dsp ? 'order_id' : 'campaign_id'} AS campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks,
              sum(cost_micros) AS cost_micros, sum(orders) AS orders, sum(sales_micros) AS sales_micros, sum(units) AS units
         FROM ${dsp ? 'dsp_metrics_daily' : 'ads_metrics_daily'} FINAL
        WHERE ${ownerFilter(o.owner)} AND report_type = ${chString(o.reportType)}
          AND ${dsp ? "order_id != ''" : "entity_level = 'campaign'"} AND date = toDate(${chString(o.day)})
        GROUP BY campaign_id`,
    format: 'JSONEachRow',
  });
  return rs.json();
}

/**
 * What a report that just loaded now says for its days: whose, which type, which days, and its
 * pull's version. Amazon restates days for weeks, and a restatement can leave a row out that an
 * earlier pull had (its traffic found invalid, say); replacing by key never removes that row.
 */
export interface LoadedSlice {
  table: FactTable;
  owner: ReportOwner;
  reportType: string;
  startDate: string;
  endDate: string;
  /** The pull's version (ms), every row of the report carries it. */
  version: number;
  /**
   * DSP under a profile: the advertisers the pull had rows for. The report asked for the profile's
   * selected advertisers; one left out since is not restated away, it is no longer asked.
   */
  advertiserIds?: string[];
  /** False when some of the pull's rows did not parse: it is not the whole truth for its days. */
  whole?: boolean;
}

/** Each table's row key (its ORDER BY): rows with the same key are one row's pulls. */
export const ROW_KEYS: Record<FactTable, readonly string[]> = {
  ads_metrics_daily: ['profile_id', 'report_type', 'entity_level', 'entity_id', 'search_term', 'date', 'placement'],
  ads_purchased_products: [
    'profile_id',
    'report_type',
    'campaign_id',
    'ad_group_id',
    'advertised_asin',
    'purchased_asin',
    'attribution_type',
    'keyword_id',
    'date',
  ],
  ads_traffic_quality: ['profile_id', 'report_type', 'campaign_name', 'date'],
  ads_audience_daily: ['profile_id', 'report_type', 'campaign_id', 'segment_name', 'segment_class_code', 'date'],
  ads_conversion_paths: ['profile_id', 'report_type', 'brand_name', 'path', 'date'],
  dsp_metrics_daily: ['profile_id', 'advertiser_id', 'report_type', 'date', 'entity_level', 'row_key'],
};

/** The rows a slice covers, whatever their pull. */
export function sliceFilter(s: Omit<LoadedSlice, 'version' | 'table'>): string {
  const advertisers = s.advertiserIds ? ` AND advertiser_id IN (${s.advertiserIds.map(chString).join(', ')})` : '';
  return `${ownerFilter(s.owner)} AND report_type = ${chString(s.reportType)} AND date >= ${chDate(s.startDate)} AND date <= ${chDate(s.endDate)}${advertisers}`;
}

/** A DSP profile's slices narrowed to the advertisers each pull has rows for (none: nothing to judge by). */
async function withAdvertisers(ch: ClickHouse, slices: LoadedSlice[]): Promise<LoadedSlice[]> {
  const out: LoadedSlice[] = [];
  for (const s of slices) {
    if (s.table !== 'dsp_metrics_daily' || s.owner.profileId === undefined) {
      out.push(s);
      continue;
    }
    const rs = await ch.client.query({
      query: `SELECT DISTINCT advertiser_id FROM dsp_metrics_daily WHERE ${sliceFilter(s)} AND version = ${Math.trunc(s.version)}`,
      format: 'JSONEachRow',
    });
    const advertiserIds = (await rs.json<{ advertiser_id: string }>()).map((r) => r.advertiser_id);
    if (advertiserIds.length) out.push({ ...s, advertiserIds });
  }
  return out;
}

/** Rows of the slice from pulls before this one: what a delete of the restated slice removes. */
export const olderPullsFilter = (s: LoadedSlice): string =>
  `(${sliceFilter(s)} AND version < ${Math.trunc(s.version)})`;

/**
 * The slices (by index) holding rows that the latest pull of them no longer has, and how many
 * such rows each holds: rows whose key's newest version is older than the slice's pull. One
 * query per table, reading only the slices (the table's key begins with owner and report type).
 */
export async function staleRows(ch: ClickHouse, table: FactTable, slices: LoadedSlice[]): Promise<Map<number, number>> {
  if (!slices.length) return new Map();
  const keys = ROW_KEYS[table].join(', ');
  const filters = slices.map(sliceFilter);
  // multiIf names the first slice a row falls in: callers give the newest pulls first, so a key
  // two slices share is judged by the newer one.
  const which = `multiIf(${filters.map((f, i) => `${f}, ${i + 1}`).join(', ')}, 0)`;
  const versions = `[${slices.map((s) => Math.trunc(s.version)).join(', ')}]`;
  const rs = await ch.client.query({
    query: `SELECT slice, count() AS n FROM (
              SELECT ${which} AS slice, ${keys}, max(version) AS newest
              FROM ${table}
              WHERE ${filters.map((f) => `(${f})`).join(' OR ')}
              GROUP BY slice, ${keys}
            )
            WHERE newest < arrayElement(${versions}, slice)
            GROUP BY slice`,
    format: 'JSONEachRow',
    query_id: ch.queryId(`stale-${table}`),
  });
  return new Map((await rs.json<{ slice: number; n: string }>()).map((r) => [Number(r.slice) - 1, Number(r.n)]));
}

/**
 * Makes each slice hold only its latest pull, where an older pull had rows the latest has not:
 * those rows, and the slice's older versions with them, are deleted (also from the streaming
 * table), and this waits until ClickHouse has applied the delete, so that what queries see, with
 * FINAL or without, is the latest pull alone. A slice whose rows the latest pull all has again is
 * left to ReplacingMergeTree (no delete: it rewrites parts, and re-pulls are daily). Returns the
 * rows removed per table. Safe to repeat: a second run finds nothing stale.
 */
export async function removeRestatedRows(
  ch: ClickHouse,
  slices: LoadedSlice[],
  o: { timeoutMs?: number } = {},
): Promise<{ table: FactTable; slices: LoadedSlice[]; rows: number; notWhole: LoadedSlice[] }[]> {
  const byTable = new Map<FactTable, LoadedSlice[]>();
  const newestFirst = [...slices].sort((a, b) => b.version - a.version);
  for (const s of await withAdvertisers(ch, newestFirst)) byTable.set(s.table, [...(byTable.get(s.table) ?? []), s]);
  const out: { table: FactTable; slices: LoadedSlice[]; rows: number; notWhole: LoadedSlice[] }[] = [];
  for (const [table, mine] of byTable) {
    const stale = await staleRows(ch, table, mine);
    if (!stale.size) continue;
    const gone: LoadedSlice[] = [];
    const notWhole: LoadedSlice[] = [];
    let rows = 0;
    for (const [i, n] of stale) {
      const s = mine[i]!;
      // A pull that lost rows on the way (dead letters) does not say those rows are gone.
      // (Counting the pull's rows in ClickHouse cannot tell: a newer pull's delete takes some.)
      if (s.whole === false) notWhole.push(s);
      else {
        gone.push(s);
        rows += n;
      }
    }
    if (gone.length) {
      const where = gone.map(olderPullsFilter).join(' OR ');
      const tables = table === 'ads_metrics_daily' ? [table, 'ads_metrics_recent'] : [table];
      for (const t of tables) await deleteAndWait(ch, t, where, o.timeoutMs ?? 120_000);
    }
    out.push({ table, slices: gone, rows, notWhole });
  }
  return out;
}
