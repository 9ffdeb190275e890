/**
 * Completeness: for every report owner (a profile, or a DSP advertiser account reached only
 * through a manager account), report type and day, which pull loaded it — and every gap: a
 * failed or abandoned report, an owner Amazon refused (403), a day never requested, or an
 * empty report for a day on which the profile had active campaigns.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { addDays, localToday } from '@adsync/shared/calendar';
import { coverage, isInFlight, typesScheduled } from '@adsync/shared/reports/pending-reports';
import { reconciliationGaps } from './reconciliation.ts';
import { streamMismatchGaps } from '@adsync/shared/streams/reconciliation';
import { reportableProfiles, sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { accountAdvertisers, reportableAdvertisersByProfile } from '@adsync/shared/accounts/dsp-advertisers';
import { deliveringLevels } from '@adsync/shared/entities/entity-store';
import { DEFAULT_REPORT_TYPE_IDS, isDspReportType, REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import type { ReportOwner } from '@adsync/shared/reports/report-owner';

export interface Gap {
  /** The profile; '' when a DSP advertiser account owns the report (then dspAccountId). */
  profileId: string;
  dspAccountId?: string;
  reportType: string;
  day: string;
  kind:
    | 'failed'
    | 'never_requested'
    | 'empty'
    | 'profile_inaccessible'
    | 'advertiser_inaccessible'
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
    /** The types to check; by default the default ones and the others its scheduled requests asked lately. */
    reportTypes?: string[];
    /** Only these profiles (and no advertiser accounts unless dspAccountIds names some). */
    profileIds?: string[];
    /** Only these advertiser accounts (and no profiles unless profileIds names some). */
    dspAccountIds?: string[];
    includeInProgress?: boolean;
    now?: Date;
  },
): Promise<Gap[]> {
  // An empty list names no profile (reportableProfiles would take it as every profile).
  const profiles =
    (opts.dspAccountIds && !opts.profileIds) || opts.profileIds?.length === 0
      ? []
      : await reportableProfiles(db, opts.profileIds);
  // A DSP report type is due only under a DSP profile that reaches selected advertisers.
  const dsp = await reportableAdvertisersByProfile(
    db,
    profiles.map((p) => p.profile_id),
  );
  const accounts =
    opts.profileIds && !opts.dspAccountIds
      ? []
      : await accountAdvertisers(db, { advertiserIds: opts.dspAccountIds, withInaccessible: true });
  const owners: OwnerToCheck[] = [
    ...profiles.map((p) => ({
      owner: { profileId: p.profile_id },
      timezone: p.timezone,
      due: (t: string) => (isDspReportType(t) ? dsp.has(p.profile_id) : sponsoredAdsProfile(p)),
      refused: p.status === 'inaccessible' ? (p.status_reason ?? 'Amazon refused access to this profile (403)') : null,
    })),
    ...accounts.map((a) => ({
      owner: { dspAccountId: a.advertiser_id },
      timezone: a.timezone,
      due: isDspReportType,
      refused:
        a.status === 'inaccessible' ? (a.status_reason ?? 'Amazon refused access to this DSP advertiser (403)') : null,
    })),
  ];
  const gaps: Gap[] = [];
  for (const o of owners) gaps.push(...(await ownerGaps(db, o, opts)));
  return gaps;
}

interface OwnerToCheck {
  owner: ReportOwner;
  timezone: string;
  /** Whether the owner's reports include this type at all. */
  due: (reportType: string) => boolean;
  /** Why Amazon refused the owner, if it did. */
  refused: string | null;
}

async function ownerGaps(
  db: Knex,
  o: OwnerToCheck,
  opts: { from: string; to: string; reportTypes?: string[]; includeInProgress?: boolean; now?: Date },
): Promise<Gap[]> {
  const gaps: Gap[] = [];
  const profileId = o.owner.profileId;
  // A day that has not ended in the owner's time zone cannot be missing yet.
  const yesterday = addDays(localToday(o.timezone, opts.now ?? new Date()), -1);
  const to = opts.to < yesterday ? opts.to : yesterday;
  const { loads, reports } = await coverage(db, o.owner, opts.from, opts.to);
  const loaded = new Map(loads.map((l) => [`${l.report_type}|${l.day}`, l.rows]));
  // Empty reports are judged from sponsored-ads entities, which only a profile has.
  const delivering = profileId ? await deliveringLevels(db, profileId) : new Set<string>();
  // A type asked only when REPORT_TYPES names it (a DSP breakdown) is checked while the schedule asks it.
  const reportTypes = opts.reportTypes ?? [
    ...new Set([...DEFAULT_REPORT_TYPE_IDS, ...(await typesScheduled(db, o.owner))]),
  ];
  const who = profileId !== undefined ? { profileId } : { profileId: '', dspAccountId: o.owner.dspAccountId };
  for (const reportType of reportTypes) {
    const spec = REPORT_TYPES[reportType];
    if (!spec || !o.due(reportType)) continue;
    for (let day = opts.from; day <= to; day = addDays(day, 1)) {
      const base = { ...who, reportType, day };
      const rows = loaded.get(`${reportType}|${day}`);
      if (rows !== undefined) {
        // Purchased-product reports are empty whenever no shopper bought another ASIN; only the others must carry rows.
        const level = spec.entityLevel === 'search_term' ? 'target' : spec.entityLevel;
        if (
          rows === 0 &&
          level !== 'purchased_product' &&
          !spec.emptyIsNormal &&
          delivering.has(`${spec.adProduct}|${level}`)
        )
          gaps.push({
            ...base,
            kind: 'empty',
            reason: `the report had no rows for this day although the profile has ${LEVEL_WORDS[level]} that can deliver (enabled, in an enabled ad group and campaign)`,
          });
        continue;
      }
      if (o.refused !== null) {
        gaps.push({ ...base, kind: profileId ? 'profile_inaccessible' : 'advertiser_inaccessible', reason: o.refused });
        continue;
      }
      const covering = reports.filter((r) => r.report_type === reportType && r.start_date <= day && r.end_date >= day);
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
  // Days Amazon answered, but without a campaign that spent: named by the reconciliation (a profile's).
  if (profileId)
    for (const g of await reconciliationGaps(db, profileId, opts.from, to))
      if (reportTypes.includes(g.reportType)) gaps.push({ profileId, ...g, kind: 'campaign_missing' });
  // Days whose Marketing Stream hours do not add up to the report (stream-consumer compares them).
  for (const g of await streamMismatchGaps(db, o.owner, opts.from, to))
    if (reportTypes.includes(g.reportType)) gaps.push({ ...who, ...g, kind: 'stream_mismatch' });
  return gaps;
}

const LEVEL_WORDS: Record<string, string> = {
  campaign: 'campaigns',
  ad_group: 'ad groups',
  ad: 'ads',
  target: 'targets',
};
