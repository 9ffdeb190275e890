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
import { reconciliationGaps } from './reconciliation.ts';
import { streamMismatchGaps } from '@adsync/shared/streams/reconciliation';
import { reportableProfiles, sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { reportableAdvertisersByProfile } from '@adsync/shared/accounts/dsp-advertisers';
import { deliveringLevels } from '@adsync/shared/entities/entity-store';

export interface Gap {
  profileId: string;
  reportType: string;
  day: string;
  kind:
    | 'failed'
    | 'never_requested'
    | 'empty'
    | 'profile_inaccessible'
    | 'in_progress'
    | 'campaign_missing'
    | 'stream_mismatch';
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
  const profiles = await reportableProfiles(db, opts.profileIds);
  // A DSP report type is due only under a DSP profile that reaches selected advertisers.
  const dsp = await reportableAdvertisersByProfile(
    db,
    profiles.map((p) => p.profile_id),
  );
  const gaps: Gap[] = [];
  for (const p of profiles) {
    // A day that has not ended in the profile's time zone cannot be missing yet.
    const yesterday = addDays(localToday(p.timezone, opts.now ?? new Date()), -1);
    const to = opts.to < yesterday ? opts.to : yesterday;
    const { loads, reports } = await coverage(db, p.profile_id, opts.from, opts.to);
    const loaded = new Map(loads.map((l) => [`${l.report_type}|${l.day}`, l.rows]));
    const delivering = await deliveringLevels(db, p.profile_id);
    for (const reportType of opts.reportTypes) {
      const spec = REPORT_TYPES[reportType];
      if (!spec) continue;
      if (spec.adProduct === 'DEMAND_SIDE_PLATFORM' ? !dsp.has(p.profile_id) : !sponsoredAdsProfile(p)) continue;
      for (let day = opts.from; day <= to; day = addDays(day, 1)) {
        const base = { profileId: p.profile_id, reportType, day };
        const rows = loaded.get(`${reportType}|${day}`);
        if (rows !== undefined) {
          // Purchased-product reports are empty whenever no shopper bought another ASIN; only the others must carry rows.
          const level = spec.entityLevel === 'search_term' ? 'target' : spec.entityLevel;
          if (rows === 0 && level !== 'purchased_product' && delivering.has(`${spec.adProduct}|${level}`))
            gaps.push({
              ...base,
              kind: 'empty',
              reason: `the report had no rows for this day although the profile has ${LEVEL_WORDS[level]} that can deliver (enabled, in an enabled ad group and campaign)`,
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
    // Days Amazon answered, but without a campaign that spent: named by the reconciliation.
    for (const g of await reconciliationGaps(db, p.profile_id, opts.from, to))
      if (opts.reportTypes.includes(g.reportType))
        gaps.push({ profileId: p.profile_id, ...g, kind: 'campaign_missing' });
    // Days whose Marketing Stream hours do not add up to the report (stream-consumer compares them).
    for (const g of await streamMismatchGaps(db, p.profile_id, opts.from, to))
      if (opts.reportTypes.includes(g.reportType))
        gaps.push({ profileId: p.profile_id, ...g, kind: 'stream_mismatch' });
  }
  return gaps;
}

const LEVEL_WORDS: Record<string, string> = {
  campaign: 'campaigns',
  ad_group: 'ad groups',
  ad: 'ads',
  target: 'targets',
};
