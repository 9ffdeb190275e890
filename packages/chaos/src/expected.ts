/**
 * What ClickHouse must hold, computed from the sandbox: for one profile, report type
 * and day, the sums of the rows Amazon (the sandbox) serves for the request our client
 * sends. Tests and the chaos judge compare against this, never against our own output.
 */
import assert from 'node:assert/strict';
import { checkCreateReport, isMoney, reportRows, totalsOf, type Sandbox } from '@adsync/sandbox';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPES, measureColumn, measureKind, type FactTable } from '@adsync/shared/amazon/report-catalog';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Knex } from '@adsync/shared/db/postgres';

/** One profile, report type and day: the headline figures (money in micros), the row count, and every measure column. */
export interface DayTotals {
  impressions: number;
  clicks: number;
  cost: number;
  sales: number;
  orders: number;
  units: number;
  rows: number;
  /** Every measure of the report type, by ClickHouse column (money in micros). */
  measures: Record<string, number>;
}

/**
 * The sandbox's totals for one day, at the data generation it served last (restatement), of one
 * owner: a profile id, or `dsp:` and a DSP advertiser asked for with Amazon-Ads-AccountId (ownerKey).
 */
export function expectedDayTotals(
  sandbox: Sandbox,
  owner: string,
  reportTypeId: string,
  day: string,
  generation: number,
): DayTotals {
  // The load meter and the judge ask the same days of one sandbox: each is worked out once.
  const ds = sandbox.state.dataset;
  let known = computed.get(ds);
  if (!known) computed.set(ds, (known = new Map()));
  const key = `${owner}|${reportTypeId}|${day}|${generation}|${sandbox.state.faults.restateAwayEvery}`;
  let totals = known.get(key);
  if (!totals) known.set(key, (totals = computeDayTotals(sandbox, owner, reportTypeId, day, generation)));
  return structuredClone(totals);
}

const computed = new WeakMap<object, Map<string, DayTotals>>();

function computeDayTotals(
  sandbox: Sandbox,
  owner: string,
  reportTypeId: string,
  day: string,
  generation: number,
): DayTotals {
  const account = owner.startsWith('dsp:') ? owner.slice(4) : null;
  const ds = sandbox.state.dataset;
  const p = account ? ds.dspAccountIndex(account) : ds.profileIndex(owner);
  assert.ok(p !== null, `the sandbox has no ${account ? 'DSP advertiser' : 'profile'} ${account ?? owner}`);
  const spec = REPORT_TYPES[reportTypeId]!;
  const dsp = spec.adProduct === 'DEMAND_SIDE_PLATFORM';
  // The request our client sends, through the sandbox's own engine (DSP: for the profile's advertisers,
  // or the one advertiser account).
  const advertiserIds = !dsp ? undefined : account ? [account] : ds.dspAdvertisers(p).map((a) => a.advertiserId);
  const checked = checkCreateReport(
    reportRequestBody({ reportTypeId, startDate: day, endDate: day, advertiserIds }),
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
      restateAwayEvery: sandbox.state.faults.restateAwayEvery,
    }),
  );
  const h = spec.headline;
  // The sandbox's totals already carry money in micros.
  const s = (c: string) => t.sums[c] ?? 0;
  return {
    impressions: s('impressions'),
    clicks: s('clicks'),
    cost: s(dsp ? 'totalCost' : 'cost'),
    sales: h ? s(h.sales) : 0,
    orders: h ? s(h.orders) : 0,
    units: h ? s(h.units) : 0,
    rows: t.rows,
    // A column columns.md types Integer that our client keeps as money (combinedProductSales): whole amounts, in micros.
    // Frequencies and reach rates: each row's value in millionths.
    measures: Object.fromEntries(
      spec.measures.map((m) => {
        const kind = measureKind(spec, m);
        const column = measureColumn(m, kind);
        if (kind === 'millionths') return [column, t.millionths[m] ?? 0];
        return [column, kind === 'money' && !isMoney(m) ? s(m) * 1_000_000 : s(m)];
      }),
    ),
  };
}

/** Nothing loaded, for a report type: zeros in every measure it carries. */
export function zeroTotals(reportTypeId: string): DayTotals {
  const spec = REPORT_TYPES[reportTypeId]!;
  return {
    impressions: 0,
    clicks: 0,
    cost: 0,
    sales: 0,
    orders: 0,
    units: 0,
    rows: 0,
    measures: Object.fromEntries(spec.measures.map((m) => [measureColumn(m, measureKind(spec, m)), 0])),
  };
}

/**
 * What ClickHouse holds, per `owner|type|day` (the owner as ownerKey writes it: a DSP advertiser
 * account's rows have no profile), read with FINAL from the table each
 * report type writes (narrowed by a WHERE clause on its columns, optionally): the
 * headline figures, the row count and every measure column.
 */
export async function clickhouseDayTotals(
  ch: ClickHouse,
  where = '1',
  reportTypes?: string[],
): Promise<Map<string, DayTotals>> {
  const out = new Map<string, DayTotals>();
  const byTable = new Map<FactTable, string[]>();
  for (const spec of Object.values(REPORT_TYPES))
    if (!reportTypes || reportTypes.includes(spec.reportTypeId))
      byTable.set(spec.table, [...(byTable.get(spec.table) ?? []), spec.reportTypeId]);
  for (const [table, types] of byTable) {
    const measures = [...new Set(types.flatMap((t) => zeroColumns(t)))];
    const headline =
      table === 'ads_metrics_daily' ||
      table === 'dsp_metrics_daily' ||
      table === 'ads_audience_daily' ||
      table === 'ads_conversion_paths'
        ? 'sum(impressions) AS h_impressions, sum(clicks) AS h_clicks, sum(cost_micros) AS h_cost, sum(sales_micros) AS h_sales, sum(orders) AS h_orders, sum(units) AS h_units'
        : table === 'ads_purchased_products'
          ? '0 AS h_impressions, 0 AS h_clicks, 0 AS h_cost, sum(sales_micros) AS h_sales, sum(orders) AS h_orders, sum(units) AS h_units'
          : 'sum(impressions) AS h_impressions, sum(clicks) AS h_clicks, 0 AS h_cost, 0 AS h_sales, 0 AS h_orders, 0 AS h_units';
    // Aliases never repeat a column name: ClickHouse 18.16 resolves a column name to a
    // same-named alias, so `sum(clicks) AS clicks` would nest inside the measures' sums.
    const rs = await ch.client.query({
      query: `SELECT ${table === 'dsp_metrics_daily' ? "if(profile_id = '', concat('dsp:', advertiser_id), profile_id)" : 'profile_id'} AS owner,
                report_type, toString(date) AS day, ${headline}, count() AS rows,
                ${measures.map((c) => `sum(${c}) AS m_${c}`).join(', ')}
              FROM ${table} FINAL
              WHERE report_type IN (${types.map((t) => `'${t}'`).join(', ')}) AND (${where})
              GROUP BY owner, report_type, day`,
      format: 'JSONEachRow',
      // Every measure of a wide table (dsp_metrics_daily has ~280) across unmerged parts: ClickHouse
      // 18.16 reads each column of each part through its own buffer, 1 MiB by default, which took
      // more than its 3.7 GiB query limit. 64 KiB buffers read the same, in a sixteenth the memory.
      clickhouse_settings: { max_read_buffer_size: '65536' },
    });
    for (const r of await rs.json<Record<string, string>>()) {
      out.set(`${r.owner}|${r.report_type}|${r.day}`, {
        impressions: +r.h_impressions!,
        clicks: +r.h_clicks!,
        cost: +r.h_cost!,
        sales: +r.h_sales!,
        orders: +r.h_orders!,
        units: +r.h_units!,
        rows: +r.rows!,
        measures: Object.fromEntries(zeroColumns(r.report_type!).map((c) => [c, +r[`m_${c}`]!])),
      });
    }
  }
  return out;
}

const zeroColumns = (reportTypeId: string) => Object.keys(zeroTotals(reportTypeId).measures);

/** Where each entity kind's rows live in Postgres, and their id column. */
export const ENTITY_TABLES = {
  campaigns: ['entity_campaigns', 'campaign_id'],
  ad_groups: ['entity_ad_groups', 'ad_group_id'],
  ads: ['entity_ads', 'ad_id'],
  targets: ['entity_targets', 'target_id'],
  negative_targets: ['entity_negative_targets', 'negative_id'],
  creatives: ['entity_creatives', 'creative_id'],
  portfolios: ['entity_portfolios', 'portfolio_id'],
  budget_rules: ['entity_budget_rules', 'rule_id'],
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
