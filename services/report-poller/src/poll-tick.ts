/**
 * One poll tick: claim at most N due reports, ask Amazon for each one's status
 * once, record the answer. Claiming moves next_poll_at forward inside the same
 * statement (FOR UPDATE SKIP LOCKED), so replicas never poll one report twice in
 * the same spacing window. A COMPLETED report is marked and its report.ready
 * event enqueued in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { getReportStatus } from '@adsync/shared/amazon/reporting';
import { enqueue } from '@adsync/shared/db/outbox';

export interface PollOptions {
  maxReports: number;
  minSpacingMs: number;
  maxPolls: number;
}

export const DEFAULT_POLL: PollOptions = { maxReports: 10, minSpacingMs: 10_000, maxPolls: 100 };

export interface TickResult {
  claimed: number;
  completed: number;
  failed: number;
  waiting: number;
  errors: number;
}

interface Claimed {
  id: string;
  profile_id: string;
  report_type: string;
  amazon_report_id: string;
  start_date: string;
  end_date: string;
  poll_count: number;
  status: string;
  run_id: string | null;
}

export async function claimDue(db: Knex, opts: PollOptions): Promise<Claimed[]> {
  const res = await db.raw(
    `with due as (
       select id from pending_amazon_reports
       where status in ('pending', 'processing') and next_poll_at <= now()
       order by next_poll_at
       limit ?
       for update skip locked
     )
     update pending_amazon_reports p
        set poll_count = p.poll_count + 1, last_polled_at = now(),
            next_poll_at = now() + (? * interval '1 millisecond'), updated_at = now()
       from due where p.id = due.id
     returning p.id, p.profile_id, p.report_type, p.amazon_report_id, p.start_date, p.end_date, p.poll_count, p.status, p.run_id`,
    [opts.maxReports, opts.minSpacingMs],
  );
  return res.rows as Claimed[];
}

export async function pollTick(deps: { db: Knex; clients: AmazonClients; log: Logger }, opts: PollOptions = DEFAULT_POLL): Promise<TickResult> {
  const { db } = deps;
  const claimed = await claimDue(db, opts);
  const result: TickResult = { claimed: claimed.length, completed: 0, failed: 0, waiting: 0, errors: 0 };
  await Promise.all(claimed.map(async (r) => {
    const log = deps.log.child({ profileId: r.profile_id, pendingReportId: r.id, reportId: r.amazon_report_id, reportType: r.report_type });
    try {
      const { client } = await deps.clients.forProfile(r.profile_id);
      const s = await getReportStatus(client, r.profile_id, r.amazon_report_id);
      if (s.status === 'COMPLETED' && s.url) {
        await db.transaction(async (tx) => {
          await tx('pending_amazon_reports').where({ id: r.id }).update({ status: 'completed', download_url: s.url, file_size: s.fileSize, completed_at: tx.fn.now(), updated_at: tx.fn.now(), failure_reason: null });
          await enqueue(tx, 'report.ready', r.id, {
            eventId: randomUUID(), occurredAt: new Date().toISOString(), pendingReportId: r.id, profileId: r.profile_id, reportId: r.amazon_report_id, reportType: r.report_type,
            startDate: r.start_date, endDate: r.end_date, downloadUrl: s.url!, fileSize: s.fileSize ?? null, runId: r.run_id,
          });
        });
        result.completed++;
        log.info({ polls: r.poll_count, fileSize: s.fileSize }, 'report completed');
      } else if (s.status === 'FAILED') {
        await markFailed(db, r.id, `Amazon reported FAILED: ${s.failureReason ?? 'no reason given'}`);
        result.failed++;
        log.warn({ reason: s.failureReason }, 'report failed at Amazon');
      } else if (r.poll_count >= opts.maxPolls) {
        await markFailed(db, r.id, `gave up after ${r.poll_count} polls; Amazon still says ${s.status}`);
        result.failed++;
        log.warn({ polls: r.poll_count, status: s.status }, 'report abandoned after the poll limit');
      } else {
        await db('pending_amazon_reports').where({ id: r.id }).update({ status: s.status === 'PROCESSING' ? 'processing' : 'pending' });
        result.waiting++;
      }
    } catch (err) {
      result.errors++;
      if (err instanceof AmazonApiError && !err.retriable) {
        // 404 (Amazon forgot it), 403 (access lost), refused credentials: polling again cannot help.
        await markFailed(db, r.id, err.message);
        result.failed++;
        log.error({ err: err.message }, 'report polling failed permanently');
      } else if (r.poll_count >= opts.maxPolls) {
        await markFailed(db, r.id, `gave up after ${r.poll_count} polls; last error: ${(err as Error).message}`);
        result.failed++;
      } else {
        log.warn({ err: (err as Error).message, polls: r.poll_count }, 'report poll failed; will poll again');
      }
    }
  }));
  return result;
}

async function markFailed(db: Knex, id: string, reason: string): Promise<void> {
  await db('pending_amazon_reports').where({ id }).update({ status: 'failed', failure_reason: reason, updated_at: db.fn.now() });
}

/** The seed's monitoring view: by report type and status, count, average polls, latest created. */
export async function monitoringView(db: Knex) {
  return db('pending_amazon_reports')
    .groupBy('report_type', 'status')
    .orderBy(['report_type', 'status'])
    .select('report_type', 'status', db.raw('count(*)::int as count'), db.raw('round(avg(poll_count)::numeric, 2)::float as avg_polls'), db.raw('max(created_at) as latest_created'));
}
