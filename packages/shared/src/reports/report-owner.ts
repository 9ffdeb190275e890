/**
 * Whose report it is. A sponsored-ads report, and a DSP report for the advertisers a DSP
 * profile reaches, belong to a profile (asked under Amazon-Advertising-API-Scope). A DSP
 * advertiser reached only through a manager account has no profile: its reports are asked
 * with Amazon-Ads-AccountId naming the advertiser, one advertiser per report
 * (guides/reporting/dsp/creating-reports.md), and belong to that advertiser account.
 */
export type ReportOwner =
  { profileId: string; dspAccountId?: undefined } | { profileId?: undefined; dspAccountId: string };

/** One text naming either owner, for keys and maps (profile ids are numeric, so `dsp:` never collides). */
export const ownerKey = (o: ReportOwner): string => o.profileId ?? `dsp:${o.dspAccountId}`;

/** The owner of a stored row (pending_amazon_reports, report_day_loads). */
export function ownerOfRow(r: { profile_id: string | null; dsp_account_id?: string | null }): ReportOwner {
  if (r.profile_id) return { profileId: r.profile_id };
  if (r.dsp_account_id) return { dspAccountId: r.dsp_account_id };
  throw new Error('a report row with neither a profile nor a DSP advertiser account');
}

/** The owner's columns of a stored row. */
export const ownerColumns = (o: ReportOwner) => ({
  profile_id: o.profileId ?? null,
  dsp_account_id: o.dspAccountId ?? null,
});

/** The rows of this owner (`where(...)`): by the column that names it, which each table indexes. */
export const ownerMatch = (o: ReportOwner): { profile_id: string } | { dsp_account_id: string } =>
  o.profileId !== undefined ? { profile_id: o.profileId } : { dsp_account_id: o.dspAccountId };

/** For logs: the id a human looks for. */
export const ownerLogFields = (o: ReportOwner) =>
  o.profileId ? { profileId: o.profileId } : { dspAccountId: o.dspAccountId };
