/**
 * Asks Amazon for the planned reports, once each.
 *
 * Every report is first recorded as `requesting` under a unique index on
 * (profile, type, window, columns) among reports in flight, so a second run — or a
 * second replica — finds it and does not ask again. Amazon's answer (a new id, or
 * a 425 naming the duplicate's id) is stored in the same transaction as the
 * report.requested outbox row. A crash before Amazon answered leaves `requesting`;
 * the next run asks again and adopts the id from Amazon's 425.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from '../db/postgres.ts';
import type { Logger } from '../logger.ts';
import type { AmazonClients } from '../amazon/account-clients.ts';
import { AmazonApiError } from '../amazon/errors.ts';
import { createReport } from '../amazon/reporting.ts';
import { isDspReportType, REPORT_TYPES } from '../amazon/report-catalog.ts';
import { activeProfiles, markInaccessible, sponsoredAdsProfile } from '../accounts/profiles.ts';
import {
  ADVERTISERS_PER_REPORT,
  accountAdvertisers,
  markAdvertiserInaccessible,
  reportableAdvertisersByProfile,
} from '../accounts/dsp-advertisers.ts';
import { ownerLogFields, type ReportOwner } from './report-owner.ts';
import * as reports from './pending-reports.ts';
import { localToday, planBackfill, planReports, planWindow, type PlannedReport, type Tier } from './report-plan.ts';

export const columnsHash = (columns: string[]): string =>
  createHash('sha256')
    .update([...columns].sort().join(','))
    .digest('hex')
    .slice(0, 16);

export interface RequestOptions {
  /** Only these profiles (and no advertiser accounts unless dspAccountIds names some). */
  profileIds?: string[];
  /** Only these DSP advertiser accounts (reached by Amazon-Ads-AccountId); by default every active one in scope. */
  dspAccountIds?: string[];
  accountId?: string;
  reportTypes: string[];
  tiers: Tier[];
  backfillDays?: number;
  /** An explicit window (POST /v1/reports/backfill), checked against retention by the caller. */
  window?: { from: string; to: string };
  runId?: string;
  now?: Date;
  /** Profiles handled at once; each profile's reports are created one after another. */
  concurrency?: number;
  /** The file format DSP reports are asked in (Amazon offers GZIP_JSON and CSV for DSP); GZIP_JSON by default. */
  dspFormat?: 'GZIP_JSON' | 'CSV';
  /** Requests stuck in `requesting` longer than this are retried (their process died). */
  staleRequestingMs?: number;
}

export interface RequestSummary {
  runId: string;
  profiles: number;
  /** DSP advertisers asked for with Amazon-Ads-AccountId (no profile reaches them). */
  advertiserAccounts: number;
  planned: number;
  requested: number;
  adoptedDuplicates: number;
  alreadyInFlight: number;
  retriedStale: number;
  failed: { profileId: string; dspAccountId?: string; reportType: string; window: string; reason: string }[];
  deferred: number;
}

interface Deps {
  db: Knex;
  clients: AmazonClients;
  log: Logger;
}

export async function requestReports(deps: Deps, opts: RequestOptions): Promise<RequestSummary> {
  const { db } = deps;
  const runId = opts.runId ?? randomUUID();
  const now = opts.now ?? new Date();
  const log = deps.log.child({ runId });
  // Advertiser accounts named alone: no profiles.
  const profiles =
    (opts.dspAccountIds && !opts.profileIds) || opts.profileIds?.length === 0
      ? []
      : await activeProfiles(db, { accountId: opts.accountId, profileIds: opts.profileIds });
  const summary: RequestSummary = {
    runId,
    profiles: profiles.length,
    advertiserAccounts: 0,
    planned: 0,
    requested: 0,
    adoptedDuplicates: 0,
    alreadyInFlight: 0,
    retriedStale: 0,
    failed: [],
    deferred: 0,
  };

  // DSP report types are asked under the DSP profiles that reach selected advertisers, for those.
  const dspAdvertisers = await reportableAdvertisersByProfile(
    db,
    profiles.map((p) => p.profile_id),
  );

  // DSP advertisers reached only through a manager account: their reports are their own.
  const accountOwned =
    opts.profileIds && !opts.dspAccountIds
      ? []
      : await accountAdvertisers(db, { accountId: opts.accountId, advertiserIds: opts.dspAccountIds });
  summary.advertiserAccounts = accountOwned.length;

  const owners: OwnerPlan[] = [
    ...profiles.map((p): OwnerPlan => {
      const advertiserIds = dspAdvertisers.get(p.profile_id)?.slice(0, ADVERTISERS_PER_REPORT) ?? [];
      if ((dspAdvertisers.get(p.profile_id)?.length ?? 0) > ADVERTISERS_PER_REPORT)
        log.warn(
          {
            profileId: p.profile_id,
            advertisers: dspAdvertisers.get(p.profile_id)!.length,
            limit: ADVERTISERS_PER_REPORT,
          },
          'more DSP advertisers under this profile than one report takes; reports cover the first ones',
        );
      return {
        owner: { profileId: p.profile_id },
        timezone: p.timezone,
        // DSP types under a DSP profile reaching selected advertisers; sponsored ads under a sponsored-ads profile.
        reportTypes: opts.reportTypes.filter((t) =>
          isDspReportType(t) ? advertiserIds.length > 0 : sponsoredAdsProfile(p),
        ),
        advertiserIds,
        refused: (reason) => markInaccessible(db, p.profile_id, reason),
      };
    }),
    ...accountOwned.map((a): OwnerPlan => ({
      owner: { dspAccountId: a.advertiser_id },
      timezone: a.timezone,
      reportTypes: opts.reportTypes.filter(isDspReportType),
      advertiserIds: [a.advertiser_id],
      refused: (reason) => markAdvertiserInaccessible(db, a.account_id, a.advertiser_id, reason),
    })),
  ];

  const handleOwner = async (o: OwnerPlan) => {
    const plog = log.child(ownerLogFields(o.owner));
    const today = localToday(o.timezone, now);
    const { advertiserIds, reportTypes } = o;
    const last = await reports.lastRequested(db, o.owner);
    const ends = await reports.lastEnds(db, o.owner);
    const plan: PlannedReport[] = opts.window
      ? planWindow(opts.window.from, opts.window.to, reportTypes)
      : opts.backfillDays
        ? planBackfill(today, opts.backfillDays, reportTypes, now)
        : planReports({
            today,
            now,
            reportTypes,
            tiers: opts.tiers,
            lastRequested: (t, tier) => last.get(`${t}|${tier}`) ?? null,
            lastEnd: (t, tier) => ends.get(`${t}|${tier}`) ?? null,
          });
    summary.planned += plan.length;

    // Record every planned report; the ones already in flight are skipped by the unique index.
    const toAsk: { id: string; reportTypeId: string; startDate: string; endDate: string; columns: string[] }[] = [];
    for (const r of plan) {
      const spec = REPORT_TYPES[r.reportTypeId]!;
      const id = await reports.recordPlanned(db, {
        owner: o.owner,
        reportType: r.reportTypeId,
        adProduct: spec.adProduct,
        startDate: r.startDate,
        endDate: r.endDate,
        columns: spec.columns,
        columnsHash: columnsHash(spec.columns),
        tier: r.tier,
        runId,
      });
      if (id)
        toAsk.push({
          id,
          reportTypeId: r.reportTypeId,
          startDate: r.startDate,
          endDate: r.endDate,
          columns: spec.columns,
        });
      else summary.alreadyInFlight++;
    }
    // Requests a previous run recorded but never got an answer for.
    const stale = await reports.staleRequesting(
      db,
      o.owner,
      toAsk.map((t) => t.id),
      new Date(now.getTime() - (opts.staleRequestingMs ?? 60_000)),
    );
    for (const s of stale) {
      toAsk.push({
        id: s.id,
        reportTypeId: s.report_type,
        startDate: isoDate(s.start_date),
        endDate: isoDate(s.end_date),
        columns: s.columns,
      });
      summary.retriedStale++;
    }
    if (toAsk.length === 0) return;

    let client;
    try {
      ({ client } = await deps.clients.forOwner(o.owner));
    } catch (err) {
      await reports.markFailed(
        db,
        toAsk.map((t) => t.id),
        (err as Error).message,
      );
      for (const t of toAsk)
        summary.failed.push({
          ...ownerFields(o.owner),
          reportType: t.reportTypeId,
          window: `${t.startDate}..${t.endDate}`,
          reason: (err as Error).message,
        });
      return;
    }
    for (const t of toAsk) {
      const window = `${t.startDate}..${t.endDate}`;
      try {
        const res = await createReport(client, o.owner, {
          reportTypeId: t.reportTypeId,
          startDate: t.startDate,
          endDate: t.endDate,
          columns: t.columns,
          ...(isDspReportType(t.reportTypeId) ? { advertiserIds, format: opts.dspFormat } : {}),
        });
        await reports.markRequested(db, t.id, res, {
          profileId: o.owner.profileId ?? '',
          dspAccountId: o.owner.dspAccountId ?? null,
          reportType: t.reportTypeId,
          adProduct: REPORT_TYPES[t.reportTypeId]!.adProduct,
          startDate: t.startDate,
          endDate: t.endDate,
          columns: t.columns,
          runId,
        });
        summary.requested++;
        if (res.duplicate) summary.adoptedDuplicates++;
        plog.info(
          {
            reportType: t.reportTypeId,
            window,
            reportId: res.reportId,
            duplicate: res.duplicate,
            pendingReportId: t.id,
          },
          'report requested',
        );
      } catch (err) {
        const e = err instanceof AmazonApiError ? err : null;
        if (e && e.retriable) {
          // Throttled or Amazon trouble after every retry: leave it `requesting`; the next run asks again.
          await reports.markDeferred(db, t.id, e.message);
          summary.deferred++;
          plog.warn({ reportType: t.reportTypeId, window, err: e.message }, 'report request deferred');
          continue;
        }
        const reason = (err as Error).message;
        await reports.markFailed(db, t.id, reason, true);
        summary.failed.push({ ...ownerFields(o.owner), reportType: t.reportTypeId, window, reason });
        plog.error({ reportType: t.reportTypeId, window, err: reason }, 'report request failed');
        if (e?.kind === 'forbidden') {
          await o.refused(reason);
          const rest = toAsk.slice(toAsk.indexOf(t) + 1);
          await reports.markFailed(
            db,
            rest.map((r) => r.id),
            `${o.owner.profileId ? 'profile' : 'DSP advertiser'} inaccessible: ${reason}`,
          );
          for (const r of rest)
            summary.failed.push({
              ...ownerFields(o.owner),
              reportType: r.reportTypeId,
              window: `${r.startDate}..${r.endDate}`,
              reason: `${o.owner.profileId ? 'profile' : 'DSP advertiser'} inaccessible`,
            });
          return;
        }
      }
    }
  };

  const queue = [...owners];
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, queue.length)) }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) await handleOwner(o);
    }),
  );
  log.info({ ...summary, failed: summary.failed.length }, 'report requests done');
  return summary;
}

/** One owner's share of a run: what it is asked as, its day, its types and (DSP) advertisers. */
interface OwnerPlan {
  owner: ReportOwner;
  timezone: string;
  reportTypes: string[];
  advertiserIds: string[];
  /** Amazon refused the owner (403): recorded so nothing more is asked until a discovery finds it again. */
  refused: (reason: string) => Promise<void>;
}

/** A failure's owner: the profile, or the advertiser account (profileId '' then). */
const ownerFields = (o: ReportOwner) => ({
  profileId: o.profileId ?? '',
  ...(o.dspAccountId ? { dspAccountId: o.dspAccountId } : {}),
});

function isoDate(d: Date | string): string {
  return typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10);
}
