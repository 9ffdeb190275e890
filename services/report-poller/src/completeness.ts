/**
 * Completeness: for every profile, report type and day, which pull loaded it — and
 * every gap: a failed or abandoned report, a profile Amazon refused (403), a day
 * never requested, or an empty report for a day on which the profile had active
 * campaigns.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { addDays, localToday } from '@adsync/shared/calendar';
import { coverage, isInFlight } from '@adsync/shared/reports/pending-reports';

export interface Gap {
  profileId: string;
  reportType: string;
  day: string;
  kind: 'failed' | 'never_requested' | 'empty' | 'profile_inaccessible' | 'in_progress';
  reason: string;
}

export async function findGaps(
  db: Knex,
  opts: {
    from: string;
    to: string;
    reportTypes: string[];
    profileIds?: string[];
    includeInProgress?: boolean;
    now?: Date;
  },
): Promise<Gap[]> {
  let pq = db('profiles')
    .whereIn('status', ['active', 'inaccessible'])
    .select('profile_id', 'status', 'status_reason', 'timezone');
  if (opts.profileIds?.length) pq = pq.whereIn('profile_id', opts.profileIds);
  const profiles = await pq;
  const gaps: Gap[] = [];
  for (const p of profiles) {
    // A day that has not ended in the profile's time zone cannot be missing yet.
    const yesterday = addDays(localToday(p.timezone, opts.now ?? new Date()), -1);
    const to = opts.to < yesterday ? opts.to : yesterday;
    const { loads, reports } = await coverage(db, p.profile_id, opts.from, opts.to);
    const loaded = new Map(loads.map((l) => [`${l.report_type}|${l.day}`, l.rows]));
    const activeProducts = new Set<string>(
      await db('entity_campaigns')
        .where({ profile_id: p.profile_id })
        .where('state', 'ENABLED')
        .distinct('ad_product')
        .pluck('ad_product'),
    );
    for (const reportType of opts.reportTypes) {
      const spec = REPORT_TYPES[reportType];
      if (!spec) continue;
      for (let day = opts.from; day <= to; day = addDays(day, 1)) {
        const base = { profileId: p.profile_id, reportType, day };
        const rows = loaded.get(`${reportType}|${day}`);
        if (rows !== undefined) {
          if (rows === 0 && activeProducts.has(spec.adProduct))
            gaps.push({
              ...base,
              kind: 'empty',
              reason: `the report had no rows for this day although the profile has enabled ${spec.adProduct} campaigns`,
            });
          continue;
        }
        if (p.status === 'inaccessible') {
          gaps.push({
            ...base,
            kind: 'profile_inaccessible',
            reason: p.status_reason ?? 'Amazon refused access to this profile (403)',
          });
          continue;
        }
        const covering = reports.filter(
          (r) => r.report_type === reportType && r.start_date <= day && r.end_date >= day,
        );
        const inFlight = covering.find((r) => isInFlight(r.status));
        if (inFlight) {
          if (opts.includeInProgress) gaps.push({ ...base, kind: 'in_progress', reason: `report ${inFlight.status}` });
          continue;
        }
        const failed = covering.find((r) => r.status === 'failed');
        if (failed) gaps.push({ ...base, kind: 'failed', reason: failed.failure_reason ?? 'report failed' });
        else gaps.push({ ...base, kind: 'never_requested', reason: 'no report covering this day was requested' });
      }
    }
  }
  return gaps;
}
