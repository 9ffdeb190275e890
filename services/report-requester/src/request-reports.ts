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
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { createReport } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { enqueue } from '@adsync/shared/db/outbox';
import { localToday, planBackfill, planReports, type PlannedReport, type Tier } from './report-plan.ts';

export const columnsHash = (columns: string[]): string => createHash('sha256').update([...columns].sort().join(',')).digest('hex').slice(0, 16);

export interface RequestOptions {
  profileIds?: string[];
  accountId?: string;
  reportTypes: string[];
  tiers: Tier[];
  backfillDays?: number;
  runId?: string;
  now?: Date;
  /** Profiles handled at once; each profile's reports are created one after another. */
  concurrency?: number;
  /** Requests stuck in `requesting` longer than this are retried (their process died). */
  staleRequestingMs?: number;
}

export interface RequestSummary {
  runId: string;
  profiles: number;
  planned: number;
  requested: number;
  adoptedDuplicates: number;
  alreadyInFlight: number;
  retriedStale: number;
  failed: { profileId: string; reportType: string; window: string; reason: string }[];
  deferred: number;
}

interface Deps {
  db: Knex;
  clients: AmazonClients;
  log: Logger;
}

async function lastRequestedMap(db: Knex, profileId: string): Promise<Map<string, Date>> {
  const rows = await db('pending_amazon_reports').where({ profile_id: profileId }).whereNot({ status: 'failed' }).groupBy('report_type', 'tier').select('report_type', 'tier', db.raw('max(created_at) as last'));
  return new Map(rows.map((r: { report_type: string; tier: string; last: Date }) => [`${r.report_type}|${r.tier}`, new Date(r.last)]));
}

export async function requestReports(deps: Deps, opts: RequestOptions): Promise<RequestSummary> {
  const { db } = deps;
  const runId = opts.runId ?? randomUUID();
  const now = opts.now ?? new Date();
  const log = deps.log.child({ runId });
  let q = db('profiles').where({ status: 'active' }).select('profile_id', 'account_id', 'timezone').orderBy('profile_id');
  if (opts.profileIds?.length) q = q.whereIn('profile_id', opts.profileIds);
  if (opts.accountId) q = q.where({ account_id: opts.accountId });
  const profiles = await q;
  const summary: RequestSummary = { runId, profiles: profiles.length, planned: 0, requested: 0, adoptedDuplicates: 0, alreadyInFlight: 0, retriedStale: 0, failed: [], deferred: 0 };

  const handleProfile = async (p: { profile_id: string; account_id: string; timezone: string }) => {
    const plog = log.child({ profileId: p.profile_id });
    const today = localToday(p.timezone, now);
    const last = await lastRequestedMap(db, p.profile_id);
    const plan: PlannedReport[] = opts.backfillDays
      ? planBackfill(today, opts.backfillDays, opts.reportTypes)
      : planReports({ today, now, reportTypes: opts.reportTypes, tiers: opts.tiers, lastRequested: (t, tier) => last.get(`${t}|${tier}`) ?? null });
    summary.planned += plan.length;

    // Record every planned report; the ones already in flight are skipped by the unique index.
    const toAsk: { id: string; reportTypeId: string; startDate: string; endDate: string; columns: string[] }[] = [];
    for (const r of plan) {
      const spec = REPORT_TYPES[r.reportTypeId]!;
      const inserted = await db.raw(
        `insert into pending_amazon_reports (profile_id, report_type, ad_product, start_date, end_date, columns, columns_hash, tier, run_id)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (profile_id, report_type, start_date, end_date, columns_hash) where status in ('requesting', 'pending', 'processing', 'completed') do nothing
         returning id`,
        [p.profile_id, r.reportTypeId, spec.adProduct, r.startDate, r.endDate, { toPostgres: (prep: (v: unknown) => unknown) => prep(spec.columns) } as never, columnsHash(spec.columns), r.tier, runId],
      );
      const row = inserted.rows[0] as { id: string } | undefined;
      if (row) toAsk.push({ id: row.id, reportTypeId: r.reportTypeId, startDate: r.startDate, endDate: r.endDate, columns: spec.columns });
      else summary.alreadyInFlight++;
    }
    // Requests a previous run recorded but never got an answer for.
    const stale = await db('pending_amazon_reports')
      .where({ profile_id: p.profile_id, status: 'requesting' })
      .whereNotIn('id', toAsk.map((t) => t.id))
      .where('updated_at', '<', new Date(now.getTime() - (opts.staleRequestingMs ?? 60_000)))
      .select('id', 'report_type', 'start_date', 'end_date', 'columns');
    for (const s of stale) {
      toAsk.push({ id: s.id, reportTypeId: s.report_type, startDate: isoDate(s.start_date), endDate: isoDate(s.end_date), columns: s.columns });
      summary.retriedStale++;
    }
    if (toAsk.length === 0) return;

    let client;
    try {
      ({ client } = await deps.clients.forProfile(p.profile_id));
    } catch (err) {
      await failAll(db, toAsk, (err as Error).message);
      for (const t of toAsk) summary.failed.push({ profileId: p.profile_id, reportType: t.reportTypeId, window: `${t.startDate}..${t.endDate}`, reason: (err as Error).message });
      return;
    }
    for (const t of toAsk) {
      const window = `${t.startDate}..${t.endDate}`;
      try {
        const res = await createReport(client, p.profile_id, { reportTypeId: t.reportTypeId, startDate: t.startDate, endDate: t.endDate, columns: t.columns });
        await db.transaction(async (tx) => {
          await tx('pending_amazon_reports').where({ id: t.id }).update({
            status: 'pending', amazon_report_id: res.reportId, duplicate_of_existing: res.duplicate, request_attempts: tx.raw('request_attempts + 1'), next_poll_at: tx.fn.now(), updated_at: tx.fn.now(), failure_reason: null,
          });
          await enqueue(tx, 'report.requested', t.id, {
            eventId: randomUUID(), occurredAt: new Date().toISOString(), pendingReportId: t.id, profileId: p.profile_id, reportId: res.reportId, reportType: t.reportTypeId,
            adProduct: REPORT_TYPES[t.reportTypeId]!.adProduct, startDate: t.startDate, endDate: t.endDate, columns: t.columns, runId,
          });
        });
        summary.requested++;
        if (res.duplicate) summary.adoptedDuplicates++;
        plog.info({ reportType: t.reportTypeId, window, reportId: res.reportId, duplicate: res.duplicate, pendingReportId: t.id }, 'report requested');
      } catch (err) {
        const e = err instanceof AmazonApiError ? err : null;
        if (e && e.retriable) {
          // Throttled or Amazon trouble after every retry: leave it `requesting`; the next run asks again.
          await db('pending_amazon_reports').where({ id: t.id }).update({ request_attempts: db.raw('request_attempts + 1'), failure_reason: `will retry: ${e.message}`, updated_at: db.fn.now() });
          summary.deferred++;
          plog.warn({ reportType: t.reportTypeId, window, err: e.message }, 'report request deferred');
          continue;
        }
        const reason = (err as Error).message;
        await db('pending_amazon_reports').where({ id: t.id }).update({ status: 'failed', failure_reason: reason, request_attempts: db.raw('request_attempts + 1'), updated_at: db.fn.now() });
        summary.failed.push({ profileId: p.profile_id, reportType: t.reportTypeId, window, reason });
        plog.error({ reportType: t.reportTypeId, window, err: reason }, 'report request failed');
        if (e?.kind === 'forbidden') {
          await db('profiles').where({ profile_id: p.profile_id }).update({ status: 'inaccessible', status_reason: reason, updated_at: db.fn.now() });
          const rest = toAsk.slice(toAsk.indexOf(t) + 1);
          await failAll(db, rest, `profile inaccessible: ${reason}`);
          for (const r of rest) summary.failed.push({ profileId: p.profile_id, reportType: r.reportTypeId, window: `${r.startDate}..${r.endDate}`, reason: 'profile inaccessible' });
          return;
        }
      }
    }
  };

  const queue = [...profiles];
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, queue.length)) }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) await handleProfile(p);
  }));
  log.info({ ...summary, failed: summary.failed.length }, 'report requests done');
  return summary;
}

async function failAll(db: Knex, items: { id: string }[], reason: string): Promise<void> {
  if (items.length) await db('pending_amazon_reports').whereIn('id', items.map((i) => i.id)).update({ status: 'failed', failure_reason: reason, updated_at: db.fn.now() });
}

function isoDate(d: Date | string): string {
  return typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10);
}
