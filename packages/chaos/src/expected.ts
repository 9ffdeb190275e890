/**
 * What ClickHouse must hold, computed from the sandbox: for one profile, report type
 * and day, the sums of the rows Amazon (the sandbox) serves for the request our client
 * sends. Tests and the chaos judge compare against this, never against our own output.
 */
import assert from 'node:assert/strict';
import { checkCreateReport, reportRows, totalsOf, type Sandbox } from '@adsync/sandbox';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Knex } from '@adsync/shared/db/postgres';

export interface DayTotals {
  impressions: number;
  clicks: number;
  cost: number;
  sales: number;
  orders: number;
  units: number;
  rows: number;
}

export const ZERO: DayTotals = { impressions: 0, clicks: 0, cost: 0, sales: 0, orders: 0, units: 0, rows: 0 };

/** The sandbox's totals for one day, at the data generation it served last (restatement). */
export function expectedDayTotals(
  sandbox: Sandbox,
  profileId: string,
  reportTypeId: string,
  day: string,
  generation: number,
): DayTotals {
  const p = sandbox.state.dataset.profileIndex(profileId);
  assert.ok(p !== null, `the sandbox has no profile ${profileId}`);
  // The request our client sends, through the sandbox's own engine.
  const checked = checkCreateReport(
    reportRequestBody({ reportTypeId, startDate: day, endDate: day }),
    new Date().toISOString().slice(0, 10),
  );
  assert.ok(checked.ok, `${reportTypeId}: ${!checked.ok && checked.detail}`);
  const t = totalsOf(
    reportRows(sandbox.state.dataset, {
      profileIndex: p,
      startDate: day,
      endDate: day,
      configuration: checked.request.configuration,
      generationOf: () => generation,
    }),
  );
  const m = REPORT_TYPES[reportTypeId]!.metrics;
  const s = (c: string) => t.sums[c] ?? 0;
  return {
    impressions: s('impressions'),
    clicks: s('clicks'),
    cost: s('cost'),
    sales: s(m.sales),
    orders: s(m.orders),
    units: s(m.units),
    rows: t.rows,
  };
}

/** What ClickHouse holds, per `profile|type|day`, read with FINAL (optionally narrowed by a WHERE clause). */
export async function clickhouseDayTotals(ch: ClickHouse, where = '1'): Promise<Map<string, DayTotals>> {
  const rs = await ch.client.query({
    query: `SELECT profile_id, report_type, toString(date) AS day, sum(impressions) AS impressions, sum(clicks) AS clicks,
              sum(cost_micros) AS cost, sum(sales_micros) AS sales, sum(orders) AS orders, sum(units) AS units, count() AS rows
            FROM ads_metrics_daily FINAL WHERE ${where} GROUP BY profile_id, report_type, day`,
    format: 'JSONEachRow',
  });
  const out = new Map<string, DayTotals>();
  for (const r of await rs.json<Record<string, string>>())
    out.set(`${r.profile_id}|${r.report_type}|${r.day}`, {
      impressions: +r.impressions!,
      clicks: +r.clicks!,
      cost: +r.cost!,
      sales: +r.sales!,
      orders: +r.orders!,
      units: +r.units!,
      rows: +r.rows!,
    });
  return out;
}

/** Where each entity kind's rows live in Postgres, and their id column. */
export const ENTITY_TABLES = {
  campaigns: ['entity_campaigns', 'campaign_id'],
  ad_groups: ['entity_ad_groups', 'ad_group_id'],
  ads: ['entity_ads', 'ad_id'],
  targets: ['entity_targets', 'target_id'],
} as const;

/** The entity ids Postgres holds for one profile, per kind, sorted (to compare with the sandbox's expectedEntityIds). */
export async function postgresEntityIds(
  db: Knex,
  profileId: string,
): Promise<Record<keyof typeof ENTITY_TABLES, string[]>> {
  const out = {} as Record<keyof typeof ENTITY_TABLES, string[]>;
  for (const [kind, [table, idCol]] of Object.entries(ENTITY_TABLES))
    out[kind as keyof typeof ENTITY_TABLES] = (await db(table).where({ profile_id: profileId }).pluck(idCol))
      .map(String)
      .sort();
  return out;
}
