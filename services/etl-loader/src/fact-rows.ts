/**
 * A normalised report row → the row of the ClickHouse table its report type writes
 * (report-catalog's `table`). Pure. Every table is a ReplacingMergeTree versioned by
 * the pull time, keyed by what the row describes, so a redelivered batch collapses and
 * a newer pull of a restated day wins.
 */
import { REPORT_TYPES, type FactTable } from '@adsync/shared/amazon/report-catalog';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';

export interface PullStamp {
  /** ClickHouse DateTime text of the pull. */
  pulledAt: string;
  /** The pull time in ms: the row's version. */
  version: number;
}

export function factRow(
  ev: RowsParsed,
  r: MetricRow,
  stamp: PullStamp,
): { table: FactTable; row: Record<string, unknown> } {
  const spec = REPORT_TYPES[ev.reportType];
  if (!spec) throw new Error(`unknown report type ${ev.reportType}`);
  const a = r.attributes;
  const pulled = { pulled_at: stamp.pulledAt, version: stamp.version };
  switch (spec.table) {
    case 'ads_traffic_quality':
      return {
        table: spec.table,
        row: {
          profile_id: ev.profileId,
          report_type: ev.reportType,
          date: r.date,
          campaign_name: r.entityId,
          campaign_status: a.campaignStatus ?? '',
          impressions: r.measures.impressions ?? 0,
          clicks: r.measures.clicks ?? 0,
          gross_impressions: r.measures.gross_impressions ?? 0,
          gross_click_throughs: r.measures.gross_click_throughs ?? 0,
          invalid_impressions: r.measures.invalid_impressions ?? 0,
          invalid_click_throughs: r.measures.invalid_click_throughs ?? 0,
          pending_report_id: ev.pendingReportId,
          ...pulled,
        },
      };
    case 'ads_purchased_products':
      return {
        table: spec.table,
        row: {
          ...r.measures,
          profile_id: ev.profileId,
          report_type: ev.reportType,
          date: r.date,
          campaign_id: r.campaignId,
          ad_group_id: r.adGroupId ?? '',
          advertised_asin: a.advertisedAsin ?? a.promotedAsin ?? '',
          purchased_asin: a.purchasedAsin ?? a.asinBrandHalo ?? '',
          attribution_type: a.attributionType ?? '',
          keyword_id: a.keywordId ?? '',
          currency: r.currency,
          sales_micros: r.salesMicros,
          orders: r.orders,
          units: r.units,
          attributes: JSON.stringify(a),
          pending_report_id: ev.pendingReportId,
          ...pulled,
        },
      };
    case 'ads_metrics_daily':
      return {
        table: spec.table,
        row: {
          ...r.measures,
          profile_id: ev.profileId,
          report_type: ev.reportType,
          date: r.date,
          pending_report_id: ev.pendingReportId,
          entity_level: ev.entityLevel,
          entity_id: r.entityId,
          search_term: ev.entityLevel === 'search_term' ? (a.searchTerm ?? '') : '',
          campaign_id: r.campaignId,
          ad_group_id: r.adGroupId ?? '',
          currency: r.currency,
          impressions: r.impressions,
          clicks: r.clicks,
          cost_micros: r.costMicros,
          sales_micros: r.salesMicros,
          orders: r.orders,
          units: r.units,
          attributes: JSON.stringify(a),
          ...pulled,
        },
      };
  }
}
