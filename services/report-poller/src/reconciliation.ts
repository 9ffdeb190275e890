/**
 * The module that owns `report_reconciliation`: what Amazon drops from a report without
 * saying so. A known case: v3 Sponsored Brands reports may leave out campaigns created
 * before multi-ad-group campaigns. For a profile and day, a campaign that is enabled in
 * the entity tables and spent in another report of its ad product (ad groups, ads,
 * targets, search terms) but is absent from that day's campaign report is recorded,
 * named, with where it was seen. Each check replaces the day's previous findings, so a
 * later, complete pull clears them.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { chDate, chString, type ClickHouse } from '@adsync/shared/db/clickhouse';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';

/** Each ad product's campaign report, and the finer reports whose spend it must account for. */
export function reconciliationPairs(): { campaignReport: string; finer: string[]; adProduct: string }[] {
  const specs = Object.values(REPORT_TYPES).filter((s) => s.table === 'ads_metrics_daily');
  return specs
    .filter((s) => s.entityLevel === 'campaign')
    .map((c) => ({
      campaignReport: c.reportTypeId,
      adProduct: c.adProduct,
      finer: specs
        .filter((s) => s.adProduct === c.adProduct && s.entityLevel !== 'campaign')
        .map((s) => s.reportTypeId),
    }))
    .filter((p) => p.finer.length > 0);
}

export interface Finding {
  day: string;
  campaignId: string;
  campaignName: string | null;
  missingFrom: string;
  seenIn: string[];
  costMicros: number;
}

/** Checks the days of one loaded report (any report of the pair) for a profile; returns what it recorded. */
export async function reconcile(
  deps: { db: Knex; ch: ClickHouse },
  o: { profileId: string; reportType: string; startDate: string; endDate: string },
): Promise<Finding[]> {
  const pair = reconciliationPairs().find((p) => p.campaignReport === o.reportType || p.finer.includes(o.reportType));
  if (!pair) return [];
  // Only days the campaign report and at least one finer report have both loaded can be judged.
  // A day's record is written when its file is parsed, before its rows reach ClickHouse; only a
  // pull marked loaded has its rows there, so a day whose latest pull is still on its way waits
  // (its own report.loaded judges it again).
  const loaded: { report_type: string; day: string }[] = (
    await deps
      .db('report_day_loads as l')
      .join('pending_amazon_reports as r', 'r.id', 'l.pending_report_id')
      .where({ 'l.profile_id': o.profileId, 'r.status': 'loaded' })
      .whereIn('l.report_type', [pair.campaignReport, ...pair.finer])
      .whereBetween('l.day', [o.startDate, o.endDate])
      .select('l.report_type as report_type', deps.db.raw(`to_char(l.day, 'YYYY-MM-DD') as day`))
  ).map((r: { report_type: string; day: string }) => r);
  const days = [...new Set(loaded.filter((l) => l.report_type === pair.campaignReport).map((l) => l.day))].filter((d) =>
    loaded.some((l) => l.day === d && l.report_type !== pair.campaignReport),
  );
  if (days.length === 0) return [];
  const enabled = new Map<string, string | null>(
    (
      await deps
        .db('entity_campaigns')
        .where({ profile_id: o.profileId, ad_product: pair.adProduct, state: 'ENABLED' })
        .select('campaign_id', 'name')
    ).map((c: { campaign_id: string; name: string | null }) => [c.campaign_id, c.name]),
  );
  const c = chString(pair.campaignReport);
  // Per day and campaign: which finer reports saw it spend (and the most any one saw), and whether the campaign report has it.
  // No alias repeats a column name: ClickHouse 18.16 would read `cost` as the outer alias and nest the aggregates.
  const rs = await deps.ch.client.query({
    query: `SELECT day, campaign_id,
              groupUniqArrayIf(report_type, report_type != ${c} AND cost > 0) AS seen_in,
              maxIf(cost, report_type != ${c}) AS max_cost,
              countIf(report_type = ${c}) AS in_campaign_report
            FROM (
              SELECT toString(date) AS day, campaign_id, report_type, sum(cost_micros) AS cost
              FROM ads_metrics_daily FINAL
              WHERE profile_id = ${chString(o.profileId)}
                AND report_type IN (${[pair.campaignReport, ...pair.finer].map(chString).join(', ')})
                AND date >= ${chDate(o.startDate)} AND date <= ${chDate(o.endDate)}
              GROUP BY day, campaign_id, report_type
            )
            GROUP BY day, campaign_id`,
    format: 'JSONEachRow',
    query_id: deps.ch.queryId('reconcile'),
  });
  const findings: Finding[] = [];
  for (const r of await rs.json<{
    day: string;
    campaign_id: string;
    seen_in: string[];
    max_cost: string;
    in_campaign_report: string;
  }>()) {
    if (!days.includes(r.day) || Number(r.in_campaign_report) > 0 || r.seen_in.length === 0) continue;
    if (!enabled.has(r.campaign_id)) continue;
    findings.push({
      day: r.day,
      campaignId: r.campaign_id,
      campaignName: enabled.get(r.campaign_id) ?? null,
      missingFrom: pair.campaignReport,
      seenIn: [...r.seen_in].sort(),
      costMicros: Number(r.max_cost),
    });
  }
  await deps.db.transaction(async (tx) => {
    await tx('report_reconciliation')
      .where({ profile_id: o.profileId, missing_from: pair.campaignReport })
      .whereIn('day', days)
      .delete();
    if (findings.length)
      await tx('report_reconciliation').insert(
        findings.map((f) => ({
          profile_id: o.profileId,
          missing_from: f.missingFrom,
          day: f.day,
          campaign_id: f.campaignId,
          campaign_name: f.campaignName,
          seen_in: f.seenIn,
          cost_micros: f.costMicros,
        })),
      );
  });
  return findings;
}

/** Recorded findings for a profile and window, as gap lines. */
export async function reconciliationGaps(
  db: Knex,
  profileId: string,
  from: string,
  to: string,
): Promise<{ reportType: string; day: string; reason: string }[]> {
  const rows: {
    missing_from: string;
    day: string;
    campaign_id: string;
    campaign_name: string | null;
    seen_in: string[];
    cost_micros: string;
  }[] = await db('report_reconciliation')
    .where({ profile_id: profileId })
    .whereBetween('day', [from, to])
    .orderBy(['day', 'missing_from', 'campaign_id'])
    .select(
      'missing_from',
      db.raw(`to_char(day, 'YYYY-MM-DD') as day`),
      'campaign_id',
      'campaign_name',
      'seen_in',
      'cost_micros',
    );
  return rows.map((r) => ({
    reportType: r.missing_from,
    day: r.day,
    reason:
      `campaign ${r.campaign_id}${r.campaign_name ? ` (${r.campaign_name})` : ''} is enabled and spent ` +
      `${(Number(r.cost_micros) / 1e6).toFixed(2)} in ${r.seen_in.join(', ')} but is absent from ${r.missing_from}`,
  }));
}
