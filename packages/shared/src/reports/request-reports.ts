/**
 * Asks Amazon for the planned reports, once each.
 *
 * Every report is first recorded as `requesting` under a unique index on
 * (profile, type, window, columns) among reports in flight, so a second run — or a
 * second replica — finds it and does not ask again. Amazon's answer (a new id, or
 * a 425 naming the duplicate's id) is stored in the same transaction as the
 * report.requested outbox row. A recorded report is held by the process that asks
 * for it (a lease, renewed just before asking); a crash before Amazon answered lets
 * the lease lapse, and report-requester's loop (or the next run for that owner) asks
 * again and adopts the id from Amazon's 425.
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
import { ownerKey, ownerLogFields, ownerOfRow, type ReportOwner } from './report-owner.ts';
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

const emptySummary = (runId: string): RequestSummary => ({
  runId,
  profiles: 0,
  advertiserAccounts: 0,
  planned: 0,
  requested: 0,
  adoptedDuplicates: 0,
  alreadyInFlight: 0,
  retriedStale: 0,
  failed: [],
  deferred: 0,
});

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
  // This call's hold on the reports it records (a retaken run must not renew the dead one's holds).
  const holder = `run:${runId}:${randomUUID()}`;
  // Advertiser accounts named alone: no profiles.
  const profiles =
    (opts.dspAccountIds && !opts.profileIds) || opts.profileIds?.length === 0
      ? []
      : await activeProfiles(db, { accountId: opts.accountId, profileIds: opts.profileIds });
  const summary: RequestSummary = { ...emptySummary(runId), profiles: profiles.length };

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
    const { reportTypes } = o;
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
    const toAsk: ToAsk[] = [];
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
        holder,
      });
      if (id)
        toAsk.push({
          id,
          reportTypeId: r.reportTypeId,
          startDate: r.startDate,
          endDate: r.endDate,
          columns: spec.columns,
          runId,
        });
      else summary.alreadyInFlight++;
    }
    // Requests a process recorded and never got Amazon's answer for (it died, or Amazon deferred them).
    const lapsed = await reports.claimLapsedRequests(db, { holder, limit: 10_000, owner: o.owner });
    toAsk.push(...lapsed.map(toAskOf));
    summary.retriedStale += lapsed.length;
    await askReports(deps, o, toAsk, { holder, dspFormat: opts.dspFormat, summary, log: plog });
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

/**
 * Asks again for reports whose holder let the lease lapse: a process that died between recording
 * a report and storing Amazon's answer, or a request Amazon deferred. Without this, such a report
 * waits for the next request run of its owner, which may never come. Amazon's 425 names a report
 * it already made, so asking twice creates nothing twice.
 */
export async function reaskLapsedRequests(
  deps: Deps,
  o: { limit?: number; dspFormat?: 'GZIP_JSON' | 'CSV' } = {},
): Promise<RequestSummary> {
  const { db } = deps;
  const runId = `reask:${randomUUID()}`;
  const summary = emptySummary(runId);
  const lapsed = await reports.claimLapsedRequests(db, { holder: runId, limit: o.limit ?? 200 });
  if (lapsed.length === 0) return summary;
  summary.retriedStale = lapsed.length;
  const byOwner = new Map<string, { owner: ReportOwner; rows: reports.PendingReport[] }>();
  for (const r of lapsed) {
    const owner = ownerOfRow(r);
    const entry = byOwner.get(ownerKey(owner)) ?? { owner, rows: [] };
    entry.rows.push(r);
    byOwner.set(ownerKey(owner), entry);
  }
  for (const { owner, rows } of byOwner.values()) {
    const log = deps.log.child({ runId, ...ownerLogFields(owner) });
    const plan = await ownerPlanOf(db, owner);
    if (!plan) {
      const reason = 'the DSP advertiser is no longer selected';
      await reports.markFailed(
        db,
        rows.map((r) => r.id),
        reason,
        false,
        runId,
      );
      for (const r of rows)
        summary.failed.push({
          ...ownerFields(owner),
          reportType: r.report_type,
          window: `${isoDate(r.start_date)}..${isoDate(r.end_date)}`,
          reason,
        });
      continue;
    }
    if (owner.profileId) summary.profiles++;
    else summary.advertiserAccounts++;
    await askReports(deps, plan, rows.map(toAskOf), { holder: runId, dspFormat: o.dspFormat, summary, log });
  }
  deps.log.info({ ...summary, failed: summary.failed.length }, 'lapsed report requests asked again');
  return summary;
}

/** What a stored report's owner is asked as now: its DSP advertisers, and how a refusal is recorded. */
async function ownerPlanOf(db: Knex, owner: ReportOwner): Promise<OwnerPlan | null> {
  // The plan's day and types are not needed to ask again: the stored report says what it is.
  if (owner.profileId !== undefined) {
    const pid = owner.profileId;
    const advertiserIds = (await reportableAdvertisersByProfile(db, [pid])).get(pid)?.slice(0, ADVERTISERS_PER_REPORT);
    return {
      owner,
      timezone: 'UTC',
      reportTypes: [],
      advertiserIds: advertiserIds ?? [],
      refused: (reason) => markInaccessible(db, pid, reason),
    };
  }
  const [a] = await accountAdvertisers(db, { advertiserIds: [owner.dspAccountId] });
  if (!a) return null;
  return {
    owner,
    timezone: a.timezone,
    reportTypes: [],
    advertiserIds: [a.advertiser_id],
    refused: (reason) => markAdvertiserInaccessible(db, a.account_id, a.advertiser_id, reason),
  };
}

/** A recorded report to ask Amazon for, with the run that planned it. */
interface ToAsk {
  id: string;
  reportTypeId: string;
  startDate: string;
  endDate: string;
  columns: string[];
  runId: string | null;
}

const toAskOf = (r: reports.PendingReport): ToAsk => ({
  id: r.id,
  reportTypeId: r.report_type,
  startDate: isoDate(r.start_date),
  endDate: isoDate(r.end_date),
  columns: r.columns,
  runId: r.run_id,
});

/**
 * Asks Amazon for one owner's recorded reports, one after another, each only while this holder
 * still holds it. Amazon's answer moves it to `pending`; busy Amazon leaves it held (deferred);
 * a refusal fails it, and a 403 fails the owner's rest and marks the owner inaccessible.
 */
async function askReports(
  deps: Deps,
  o: OwnerPlan,
  toAsk: ToAsk[],
  ctx: { holder: string; dspFormat?: 'GZIP_JSON' | 'CSV'; summary: RequestSummary; log: Logger },
): Promise<void> {
  const { db } = deps;
  const { summary, log: plog } = ctx;
  const { advertiserIds } = o;
  if (toAsk.length === 0) return;

  let client;
  try {
    ({ client } = await deps.clients.forOwner(o.owner));
  } catch (err) {
    await reports.markFailed(
      db,
      toAsk.map((t) => t.id),
      (err as Error).message,
      false,
      ctx.holder,
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
    // Asked one after another: a report whose hold lapsed meanwhile may be another process's now.
    if (!(await reports.renewRequestHold(db, t.id, ctx.holder))) {
      plog.info({ reportType: t.reportTypeId, window, pendingReportId: t.id }, 'report taken over; not asked here');
      continue;
    }
    try {
      const res = await createReport(client, o.owner, {
        reportTypeId: t.reportTypeId,
        startDate: t.startDate,
        endDate: t.endDate,
        columns: t.columns,
        ...(isDspReportType(t.reportTypeId) ? { advertiserIds, format: ctx.dspFormat } : {}),
      });
      const recorded = await reports.markRequested(db, t.id, res, {
        profileId: o.owner.profileId ?? '',
        dspAccountId: o.owner.dspAccountId ?? null,
        reportType: t.reportTypeId,
        adProduct: REPORT_TYPES[t.reportTypeId]!.adProduct,
        startDate: t.startDate,
        endDate: t.endDate,
        columns: t.columns,
        runId: t.runId,
      });
      if (!recorded) continue;
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
        await reports.markDeferred(db, t.id, e.message, ctx.holder);
        summary.deferred++;
        plog.warn({ reportType: t.reportTypeId, window, err: e.message }, 'report request deferred');
        continue;
      }
      const reason = (err as Error).message;
      await reports.markFailed(db, t.id, reason, true, ctx.holder);
      summary.failed.push({ ...ownerFields(o.owner), reportType: t.reportTypeId, window, reason });
      plog.error({ reportType: t.reportTypeId, window, err: reason }, 'report request failed');
      // A cross-product report (conversion paths) is for brand owners only: its refusal is that
      // report's, not the owner's.
      if (e?.kind === 'forbidden' && REPORT_TYPES[t.reportTypeId]?.adProduct !== 'ALL') {
        await o.refused(reason);
        const rest = toAsk.slice(toAsk.indexOf(t) + 1);
        await reports.markFailed(
          db,
          rest.map((r) => r.id),
          `${o.owner.profileId ? 'profile' : 'DSP advertiser'} inaccessible: ${reason}`,
          false,
          ctx.holder,
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
