/**
 * The module that owns `pending_amazon_reports` (every report we asked Amazon for,
 * from request to load) and `report_day_loads` (which pull loaded each profile,
 * report type and day). Three services move a report along — the requester asks,
 * the poller polls, the loader loads — and all of them do it through here.
 *
 * Status: requesting (recorded, Amazon not yet answered) → pending / processing
 * (Amazon's status) → completed (report.ready published) → loaded (rows in
 * ClickHouse); failed, with failure_reason, from any of them.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '../db/postgres.ts';
import { pgArray } from '../db/array-literal.ts';
import { enqueue } from '../db/outbox.ts';
import { profileIdsOfAccount } from '../accounts/profiles.ts';
import { claim, queueDepth, type QueueSpec } from '../runtime/work-queue.ts';
import type { ReportReady, ReportRequested } from '../events/contracts.ts';
import { advertiserIdsOfAccountQuery } from '../accounts/dsp-advertisers.ts';
import { ownerColumns, ownerMatch, type ReportOwner } from './report-owner.ts';

/** Reports still on their way. Migration 0003's unique index ("ask once") uses the same list. */
export const IN_FLIGHT_STATUSES = ['requesting', 'pending', 'processing', 'completed'] as const;
const IN_FLIGHT_SQL = IN_FLIGHT_STATUSES.map((s) => `'${s}'`).join(', ');

/** Reports Amazon is generating, due for a status check. A claim moves the next check out by the spacing. */
export const POLL_QUEUE: QueueSpec = {
  table: 'pending_amazon_reports',
  claimable: `status in ('pending', 'processing') and next_poll_at <= now()`,
  order: 'next_poll_at',
  claim: `poll_count = t.poll_count + 1, last_polled_at = now(), next_poll_at = now() + (:lease * interval '1 millisecond'), updated_at = now()`,
  waiting: `status in (${IN_FLIGHT_SQL})`,
  ageColumn: 'created_at',
  due: { rows: `status in ('pending', 'processing')`, at: 'next_poll_at' },
};

/**
 * How long a process holds a `requesting` report while it asks Amazon for it. It renews the hold
 * just before asking, so the lease covers one request with its retries; a holder that died lets
 * it lapse and REQUEST_QUEUE hands the report to whoever asks next.
 */
export const REQUEST_LEASE_MS = 60_000;

/** Reports recorded but not yet answered by Amazon whose holder let the lease lapse (died, or deferred). */
export const REQUEST_QUEUE: QueueSpec = {
  table: 'pending_amazon_reports',
  claimable: `status = 'requesting' and (request_lease_until is null or request_lease_until < now())`,
  order: 'created_at',
  claim: `request_lease_until = now() + (:lease * interval '1 millisecond'), request_holder = :owner, updated_at = now()`,
  waiting: `status = 'requesting'`,
  ageColumn: 'created_at',
  due: { rows: `status = 'requesting'`, at: 'coalesce(request_lease_until, now())' },
};

export interface PendingReport {
  id: string;
  /** The owner: a profile, or (null) the DSP advertiser account in dsp_account_id. */
  profile_id: string | null;
  dsp_account_id: string | null;
  report_type: string;
  ad_product: string;
  start_date: string;
  end_date: string;
  columns: string[];
  status: string;
  amazon_report_id: string | null;
  poll_count: number;
  run_id: string | null;
  tier: string;
  download_url: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export interface PlannedRow {
  owner: ReportOwner;
  reportType: string;
  adProduct: string;
  startDate: string;
  endDate: string;
  columns: string[];
  columnsHash: string;
  tier: string;
  runId: string;
  /** Who asks Amazon for it: the report is held for them for REQUEST_LEASE_MS. */
  holder: string;
}

/** Records a planned report unless one like it is in flight; returns its id, or null when it already is. */
export async function recordPlanned(db: Knex, r: PlannedRow): Promise<string | null> {
  const res = await db.raw(
    `insert into pending_amazon_reports (profile_id, dsp_account_id, report_type, ad_product, start_date, end_date, columns, columns_hash, tier, run_id, request_holder, request_lease_until)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() + (? * interval '1 millisecond'))
     on conflict (${r.owner.profileId !== undefined ? 'profile_id' : 'dsp_account_id'}, report_type, start_date, end_date, columns_hash)
       where ${r.owner.profileId !== undefined ? '' : 'dsp_account_id is not null and '}status in (${IN_FLIGHT_SQL}) do nothing
     returning id`,
    [
      ownerColumns(r.owner).profile_id,
      ownerColumns(r.owner).dsp_account_id,
      r.reportType,
      r.adProduct,
      r.startDate,
      r.endDate,
      pgArray(r.columns),
      r.columnsHash,
      r.tier,
      r.runId,
      r.holder,
      REQUEST_LEASE_MS,
    ],
  );
  return (res.rows[0] as { id: string } | undefined)?.id ?? null;
}

/** When each (report type, tier) was last asked for, for the planner. */
export async function lastRequested(db: Knex, owner: ReportOwner): Promise<Map<string, Date>> {
  const rows = await db('pending_amazon_reports')
    .where(ownerMatch(owner))
    .whereNot({ status: 'failed' })
    .groupBy('report_type', 'tier')
    .select('report_type', 'tier', db.raw('max(created_at) as last'));
  return new Map(
    rows.map((r: { report_type: string; tier: string; last: Date }) => [
      `${r.report_type}|${r.tier}`,
      new Date(r.last),
    ]),
  );
}

/** The newest day each (report type, tier) has asked for, not counting failed requests. */
export async function lastEnds(db: Knex, owner: ReportOwner): Promise<Map<string, string>> {
  const rows = await db('pending_amazon_reports')
    .where(ownerMatch(owner))
    .whereNot({ status: 'failed' })
    .groupBy('report_type', 'tier')
    .select('report_type', 'tier', db.raw("to_char(max(end_date), 'YYYY-MM-DD') as last_end"));
  return new Map(
    rows.map((r: { report_type: string; tier: string; last_end: string }) => [
      `${r.report_type}|${r.tier}`,
      r.last_end,
    ]),
  );
}

/**
 * Takes reports recorded as `requesting` whose holder let the lease lapse (it died mid-request, or
 * Amazon deferred it): they are held for `holder` now. With an owner, only that owner's.
 */
export function claimLapsedRequests(
  db: Knex,
  o: { holder: string; limit: number; owner?: ReportOwner },
): Promise<PendingReport[]> {
  return claim<PendingReport>(db, REQUEST_QUEUE, {
    limit: o.limit,
    leaseMs: REQUEST_LEASE_MS,
    owner: o.holder,
    ...(o.owner
      ? {
          where: o.owner.profileId
            ? { sql: 'profile_id = :profileId', bindings: { profileId: o.owner.profileId } }
            : { sql: 'dsp_account_id = :dspAccountId', bindings: { dspAccountId: o.owner.dspAccountId } },
        }
      : {}),
  });
}

/**
 * Renews the hold just before asking Amazon. False when the report is no longer this holder's
 * (its lease lapsed and another process took it, or it was answered meanwhile): then it is not asked.
 */
export async function renewRequestHold(db: Knex, id: string, holder: string): Promise<boolean> {
  const n = await db('pending_amazon_reports')
    .where({ id, status: 'requesting', request_holder: holder })
    .update({ request_lease_until: db.raw(`now() + (? * interval '1 millisecond')`, [REQUEST_LEASE_MS]) });
  return n === 1;
}

/**
 * Amazon answered with a report id: record it and announce report.requested, in one transaction.
 * Only a report still `requesting` is moved on: when two processes asked (a hold that lapsed while
 * its request was slow), Amazon's 425 gave both the same id and the second records nothing.
 */
export async function markRequested(
  db: Knex,
  id: string,
  answer: { reportId: string; duplicate: boolean },
  event: Omit<ReportRequested, 'eventId' | 'occurredAt' | 'pendingReportId' | 'reportId'>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const moved = await tx('pending_amazon_reports')
      .where({ id, status: 'requesting' })
      .update({
        status: 'pending',
        amazon_report_id: answer.reportId,
        duplicate_of_existing: answer.duplicate,
        request_attempts: tx.raw('request_attempts + 1'),
        next_poll_at: tx.fn.now(),
        updated_at: tx.fn.now(),
        failure_reason: null,
      });
    if (moved === 0) return false;
    await enqueue(tx, 'report.requested', id, {
      ...event,
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      pendingReportId: id,
      reportId: answer.reportId,
    });
    return true;
  });
}

/**
 * Amazon was busy after every retry: stays `requesting`, held for a back-off that doubles with
 * each deferral (a minute, two, four… at most an hour), after which report-requester asks again.
 * Only while this holder still holds it: a report another process took over is that one's.
 */
export async function markDeferred(db: Knex, id: string, reason: string, holder: string): Promise<void> {
  await db('pending_amazon_reports')
    .where({ id, status: 'requesting', request_holder: holder })
    .update({
      request_attempts: db.raw('request_attempts + 1'),
      request_lease_until: db.raw(
        `now() + least(3600, 60 * power(2, least(request_attempts, 6))) * interval '1 second'`,
      ),
      failure_reason: `will retry: ${reason}`,
      updated_at: db.fn.now(),
    });
}

export async function markFailed(
  db: Knex,
  ids: string | string[],
  reason: string,
  countAttempt = false,
  /** The asker's hold: only reports still `requesting` under it fail (one taken over, or answered meanwhile, is not this asker's to fail). */
  holder?: string,
): Promise<void> {
  const list = Array.isArray(ids) ? ids : [ids];
  if (list.length === 0) return;
  await db('pending_amazon_reports')
    .whereIn('id', list)
    .where((q) => (holder === undefined ? q : q.where({ status: 'requesting', request_holder: holder })))
    .update({
      status: 'failed',
      failure_reason: reason,
      updated_at: db.fn.now(),
      ...(countAttempt ? { request_attempts: db.raw('request_attempts + 1') } : {}),
    });
}

/** Claims up to `limit` reports due for a status check (other replicas never get the same ones). */
export function claimDue(db: Knex, limit: number, spacingMs: number): Promise<PendingReport[]> {
  return claim<PendingReport>(db, POLL_QUEUE, { limit, leaseMs: spacingMs });
}

/** Amazon finished the report: record its URL and announce report.ready, in one transaction. */
export async function markCompleted(
  db: Knex,
  r: PendingReport,
  done: { url: string; fileSize: number | null },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx('pending_amazon_reports').where({ id: r.id }).update({
      status: 'completed',
      download_url: done.url,
      file_size: done.fileSize,
      completed_at: tx.fn.now(),
      updated_at: tx.fn.now(),
      failure_reason: null,
    });
    const event: ReportReady = {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      pendingReportId: r.id,
      // An advertiser account's report has no profile: '' here, the account in dspAccountId.
      profileId: r.profile_id ?? '',
      dspAccountId: r.dsp_account_id,
      reportId: r.amazon_report_id!,
      reportType: r.report_type,
      startDate: r.start_date,
      endDate: r.end_date,
      downloadUrl: done.url,
      fileSize: done.fileSize ?? null,
      runId: r.run_id,
    };
    await enqueue(tx, 'report.ready', r.id, event);
  });
}

/** Amazon is still generating it. */
export async function markWaiting(db: Knex, id: string, amazonStatus: string): Promise<void> {
  await db('pending_amazon_reports')
    .where({ id })
    .update({ status: amazonStatus === 'PROCESSING' ? 'processing' : 'pending' });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The report with this id; an id that cannot be one (an event from elsewhere) finds nothing rather than a database error. */
export async function findReport(db: Knex, id: string): Promise<PendingReport | undefined> {
  if (!UUID.test(id)) return undefined;
  return db('pending_amazon_reports').where({ id }).first();
}

/** The reports with these ids (ids that cannot be one are left out). */
export async function findReports(
  db: Knex,
  ids: string[],
): Promise<(PendingReport & { row_count: number | null; bad_row_count: number | null })[]> {
  const valid = ids.filter((id) => UUID.test(id));
  if (!valid.length) return [];
  return db('pending_amazon_reports').whereIn('id', valid);
}

/** Rows of these reports that will not load (their message was refused): the pulls are not whole. */
export async function recordUnloadable(db: Knex, rowsByReport: Map<string, number>): Promise<void> {
  for (const [id, rows] of rowsByReport) {
    if (!UUID.test(id)) continue;
    await db('pending_amazon_reports')
      .where({ id })
      .update({ bad_row_count: db.raw('coalesce(bad_row_count, 0) + ?', [Math.max(1, rows)]) });
  }
}

/**
 * Loaded reports of an owner and type, pulled after `after`, covering any day of from..to: pulls
 * newer than one that is loading now (a redelivered or late older pull), which stay the truth.
 */
export async function newerLoaded(
  db: Knex,
  o: { owner: ReportOwner; reportType: string; from: string; to: string; after: Date; exceptId: string },
): Promise<{ start_date: string; end_date: string; completed_at: Date; bad_row_count: number | null }[]> {
  return (
    db('pending_amazon_reports')
      .where({ ...ownerMatch(o.owner), report_type: o.reportType, status: 'loaded' })
      .whereNot('id', o.exceptId)
      // completed_at keeps microseconds; a pull's version is its millisecond.
      .where('completed_at', '>=', new Date(o.after.getTime() + 1))
      .where('start_date', '<=', o.to)
      .where('end_date', '>=', o.from)
      .select('start_date', 'end_date', 'completed_at', 'bad_row_count')
  );
}

export async function setDownloadUrl(db: Knex, id: string, url: string): Promise<void> {
  await db('pending_amazon_reports').where({ id }).update({ download_url: url, updated_at: db.fn.now() });
}

/**
 * The report's file is parsed: its row count, and a record per day of the window of
 * which pull loaded it (zero-row days included). Only a newer (or the same) pull may
 * replace a day's record.
 */
export async function recordParsed(
  db: Knex,
  r: {
    id: string;
    owner: ReportOwner;
    reportType: string;
    pulledAt: string;
    rows: number;
    /** Rows of the file that did not parse (dead-lettered). */
    badRows?: number;
    perDay: Map<string, number>;
    days: string[];
  },
): Promise<void> {
  const days = r.days.map((d) => ({
    ...ownerColumns(r.owner),
    report_type: r.reportType,
    day: d,
    pending_report_id: r.id,
    rows: r.perDay.get(d) ?? 0,
    pulled_at: r.pulledAt,
  }));
  await db.transaction(async (tx) => {
    await tx.raw(
      `insert into report_day_loads (profile_id, dsp_account_id, report_type, day, pending_report_id, rows, pulled_at)
       select * from jsonb_to_recordset(?::jsonb) as t(profile_id text, dsp_account_id text, report_type text, day date, pending_report_id uuid, rows int, pulled_at timestamptz)
       on conflict ${r.owner.profileId !== undefined ? '(profile_id, report_type, day)' : '(dsp_account_id, report_type, day) where dsp_account_id is not null'} do update set pending_report_id = excluded.pending_report_id, rows = excluded.rows, pulled_at = excluded.pulled_at
       where report_day_loads.pulled_at <= excluded.pulled_at`,
      [JSON.stringify(days)],
    );
    await tx('pending_amazon_reports')
      .where({ id: r.id })
      .update({ row_count: r.rows, bad_row_count: r.badRows ?? 0, updated_at: tx.fn.now() });
  });
}

/** Every row of these reports is in ClickHouse. Returns the ones that moved to `loaded` now (not before). */
export async function markLoaded(db: Knex | Knex.Transaction, ids: string[]): Promise<PendingReport[]> {
  if (ids.length === 0) return [];
  return db('pending_amazon_reports')
    .whereIn('id', ids)
    .whereIn('status', ['completed', 'loaded'])
    .update({ status: 'loaded', loaded_at: db.fn.now(), updated_at: db.fn.now() })
    .returning('*');
}

/** Reports (aliased `r`) of one account: its profiles' and its advertiser accounts'. */
function ownedBy(db: Knex, q: Knex.QueryBuilder, accountId: string): Knex.QueryBuilder {
  return q.where((b) =>
    b
      .whereIn('r.profile_id', profileIdsOfAccount(db, accountId))
      .orWhereIn('r.dsp_account_id', advertiserIdsOfAccountQuery(db, accountId)),
  );
}

/** The seed's monitoring view: by report type and status, count, average polls, latest created (one account's, or all). */
export function monitoringView(db: Knex, accountId?: string) {
  let q = db('pending_amazon_reports as r');
  if (accountId) q = ownedBy(db, q, accountId);
  return q
    .groupBy('r.report_type', 'r.status')
    .orderBy(['r.report_type', 'r.status'])
    .select(
      'r.report_type',
      'r.status',
      db.raw('count(*)::int as count'),
      db.raw('round(avg(r.poll_count)::numeric, 2)::float as avg_polls'),
      db.raw('max(r.created_at) as latest_created'),
    );
}

/** The reports of one request run (one account's, or all). */
export function runReports(db: Knex, runId: string, accountId?: string) {
  let q = db('pending_amazon_reports as r').where('r.run_id', runId);
  if (accountId) q = ownedBy(db, q, accountId);
  return q
    .orderBy(['r.created_at', 'r.id'])
    .select(
      'r.id',
      'r.profile_id',
      'r.dsp_account_id',
      'r.report_type',
      'r.start_date',
      'r.end_date',
      'r.tier',
      'r.status',
      'r.amazon_report_id',
      'r.poll_count',
      'r.row_count',
      'r.failure_reason',
    );
}

export async function runStatusCounts(
  db: Knex,
  runId: string,
  accountId?: string,
): Promise<{ status: string; n: number }[]> {
  let q = db('pending_amazon_reports as r').where('r.run_id', runId);
  if (accountId) q = ownedBy(db, q, accountId);
  return q.groupBy('r.status').select('r.status as status', db.raw('count(*)::int as n'));
}

/**
 * The days of these report types a profile has loaded in a window: a day's record is written
 * when its file is parsed, before its rows reach ClickHouse, so only a pull marked loaded counts.
 */
export async function loadedDays(
  db: Knex,
  o: { profileId: string; reportTypes: string[]; from: string; to: string },
): Promise<{ report_type: string; day: string }[]> {
  return db('report_day_loads as l')
    .join('pending_amazon_reports as r', 'r.id', 'l.pending_report_id')
    .where({ 'l.profile_id': o.profileId, 'r.status': 'loaded' })
    .whereIn('l.report_type', o.reportTypes)
    .whereBetween('l.day', [o.from, o.to])
    .select('l.report_type as report_type', db.raw(`to_char(l.day, 'YYYY-MM-DD') as day`));
}

/**
 * The report types the owner's scheduled requests asked for lately (two weeks; a backfill, a
 * one-off, does not count): what REPORT_TYPES has it asked, breakdowns named there included.
 */
export function typesScheduled(db: Knex, owner: ReportOwner): Promise<string[]> {
  return db('pending_amazon_reports')
    .where(ownerMatch(owner))
    .whereNot({ tier: 'backfill' })
    .where('created_at', '>', db.raw(`now() - interval '14 days'`))
    .distinct()
    .pluck('report_type');
}

/** For completeness: the day records and the reports covering a window of one owner. */
export async function coverage(db: Knex, owner: ReportOwner, from: string, to: string) {
  const loads: { report_type: string; day: string; rows: number }[] = await db('report_day_loads')
    .where(ownerMatch(owner))
    .whereBetween('day', [from, to])
    .select('report_type', 'day', 'rows');
  const reports: {
    report_type: string;
    start_date: string;
    end_date: string;
    status: string;
    failure_reason: string | null;
  }[] = await db('pending_amazon_reports')
    .where(ownerMatch(owner))
    .where('end_date', '>=', from)
    .where('start_date', '<=', to)
    .orderBy('created_at', 'desc')
    .select('report_type', 'start_date', 'end_date', 'status', 'failure_reason');
  return { loads, reports };
}

/** Depth and age of the reports in flight, for status and metrics. */
export const inFlightDepth = (db: Knex) => queueDepth(db, POLL_QUEUE);

export const isInFlight = (status: string): boolean => (IN_FLIGHT_STATUSES as readonly string[]).includes(status);
