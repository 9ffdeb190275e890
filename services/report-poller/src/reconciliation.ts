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
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { campaignPresence } from '@adsync/shared/reports/ads-metrics';
import { loadedDays } from '@adsync/shared/reports/pending-reports';
import { enabledCampaigns } from '@adsync/shared/entities/entity-store';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';

/** Each ad product's campaign report, and the finer reports whose spend it must account for. */
export function reconciliationPairs(): { campaignReport: string; finer: string[]; adProduct: string }[] {
  const specs = Object.values(REPORT_TYPES).filter((s) => s.table === 'ads_metrics_daily');
  return (
    specs
      // The campaign report itself; a campaign's placements are a breakdown of it, not the report.
      .filter((s) => s.entityLevel === 'campaign' && s.splits.length === 0)
      .map((c) => ({
        campaignReport: c.reportTypeId,
        adProduct: c.adProduct,
        finer: specs
          .filter((s) => s.adProduct === c.adProduct && s.entityLevel !== 'campaign')
          .map((s) => s.reportTypeId),
      }))
      .filter((p) => p.finer.length > 0)
  );
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
  const loaded = await loadedDays(deps.db, {
    profileId: o.profileId,
    reportTypes: [pair.campaignReport, ...pair.finer],
    from: o.startDate,
    to: o.endDate,
  });
  const days = [...new Set(loaded.filter((l) => l.report_type === pair.campaignReport).map((l) => l.day))].filter((d) =>
    loaded.some((l) => l.day === d && l.report_type !== pair.campaignReport),
  );
  if (days.length === 0) return [];
  // Replicas reconcile the same profile's days at once when its reports load together: one at a
  // time per profile and campaign report, each reading ClickHouse after the last one wrote, so the
  // findings left are from the latest read and the delete-then-insert never collides.
  return deps.db.transaction(async (tx) => {
    await tx.raw('select pg_advisory_xact_lock(hashtext(?))', [`reconcile:${o.profileId}:${pair.campaignReport}`]);
    const enabled = await enabledCampaigns(tx, o.profileId, pair.adProduct);
    const presence = await campaignPresence(deps.ch, {
      profileId: o.profileId,
      campaignReport: pair.campaignReport,
      finer: pair.finer,
      startDate: o.startDate,
      endDate: o.endDate,
    });
    const findings: Finding[] = [];
    for (const r of presence) {
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
    return findings;
  });
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
