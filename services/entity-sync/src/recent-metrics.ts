/**
 * Last 7 and 30 days of cost, sales, clicks, impressions and orders on the Postgres
 * entity rows, so entity lists sort and filter without a ClickHouse round trip.
 * Refreshed when etl-loader announces a report loaded (report.loaded); ad groups
 * roll up from their ads.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { ReportLoaded } from '@adsync/shared/events/contracts';
import { recentMetricsByEntity } from '@adsync/shared/reports/ads-metrics';
import { setRecentMetrics, type EntityType } from '@adsync/shared/entities/entity-store';

/** Per report level: which entity rows take the metrics, from which report types, grouped how. */
const LEVEL_ENTITIES: Record<
  string,
  { entity: EntityType; reportTypes: string[]; groupBy: 'entity_id' | 'ad_group_id' }[]
> = {
  campaign: [{ entity: 'campaigns', reportTypes: ['spCampaigns', 'sbCampaigns', 'sdCampaigns'], groupBy: 'entity_id' }],
  ad: [
    { entity: 'ads', reportTypes: ['spAdvertisedProduct'], groupBy: 'entity_id' },
    { entity: 'ad_groups', reportTypes: ['spAdvertisedProduct'], groupBy: 'ad_group_id' },
  ],
  target: [{ entity: 'targets', reportTypes: ['spTargeting'], groupBy: 'entity_id' }],
};

/** The report.loaded consumer's batch handler: the recent metrics of what loaded, as of now. */
export const recentMetricsHandler =
  (deps: { db: Knex; ch: ClickHouse }) =>
  async (events: { value: Pick<ReportLoaded, 'profileId' | 'entityLevel' | 'reportType'> }[]): Promise<void> =>
    void (await refreshRecentMetricsOnce(
      deps,
      events.map((e) => e.value),
      new Date(),
    ));

/**
 * A batch of report.loaded: each (profile, level, report type) refreshed once, however many of
 * its days loaded (a week's backfill announces seven reports whose refresh is the same).
 */
export async function refreshRecentMetricsOnce(
  deps: { db: Knex; ch: ClickHouse },
  events: Pick<ReportLoaded, 'profileId' | 'entityLevel' | 'reportType'>[],
  now: Date,
): Promise<number> {
  let updated = 0;
  for (const e of distinctRefreshes(events)) updated += await refreshRecentMetrics(deps, e, now);
  return updated;
}

/** The refreshes a batch of report.loaded needs: one per (profile, level, report type). Pure. */
export function distinctRefreshes<E extends Pick<ReportLoaded, 'profileId' | 'entityLevel' | 'reportType'>>(
  events: E[],
): E[] {
  return [...new Map(events.map((e) => [`${e.profileId}|${e.entityLevel}|${e.reportType}`, e])).values()];
}

export async function refreshRecentMetrics(
  deps: { db: Knex; ch: ClickHouse },
  ev: Pick<ReportLoaded, 'profileId' | 'entityLevel' | 'reportType'>,
  now: Date,
): Promise<number> {
  const today = now.toISOString().slice(0, 10);
  let updated = 0;
  for (const t of (LEVEL_ENTITIES[ev.entityLevel] ?? []).filter((x) => x.reportTypes.includes(ev.reportType))) {
    const metrics = await recentMetricsByEntity(deps.ch, {
      profileId: ev.profileId,
      reportTypes: t.reportTypes,
      groupBy: t.groupBy,
      today,
    });
    if (metrics.length) updated += await setRecentMetrics(deps.db, t.entity, ev.profileId, metrics);
  }
  return updated;
}
