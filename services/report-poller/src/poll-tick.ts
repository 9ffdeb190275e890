/**
 * One poll tick: claim at most N due reports, ask Amazon for each one's status
 * once, record the answer. The claim (the shared work-queue primitive) moves
 * next_poll_at forward as it takes a report, so replicas never poll one report
 * twice in the same spacing window. A COMPLETED report is marked and its report.ready
 * event enqueued in one transaction.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { getReportStatus } from '@adsync/shared/amazon/reporting';
import * as reports from '@adsync/shared/reports/pending-reports';
import { ownerLogFields, ownerOfRow } from '@adsync/shared/reports/report-owner';

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

/** Claims up to N due reports; the claim moves each one's next poll out by the spacing, so replicas never poll one twice. */
export const claimDue = (db: Knex, opts: PollOptions) => reports.claimDue(db, opts.maxReports, opts.minSpacingMs);

export async function pollTick(
  deps: { db: Knex; clients: AmazonClients; log: Logger },
  opts: PollOptions = DEFAULT_POLL,
): Promise<TickResult> {
  const { db } = deps;
  const claimed = await claimDue(db, opts);
  const result: TickResult = { claimed: claimed.length, completed: 0, failed: 0, waiting: 0, errors: 0 };
  await Promise.all(
    claimed.map(async (r) => {
      const owner = ownerOfRow(r);
      const log = deps.log.child({
        ...ownerLogFields(owner),
        pendingReportId: r.id,
        reportId: r.amazon_report_id,
        reportType: r.report_type,
      });
      try {
        const { client } = await deps.clients.forOwner(owner);
        const s = await getReportStatus(client, owner, r.amazon_report_id!);
        if (s.status === 'COMPLETED' && s.url) {
          await reports.markCompleted(db, r, { url: s.url, fileSize: s.fileSize ?? null });
          result.completed++;
          log.info({ polls: r.poll_count, fileSize: s.fileSize }, 'report completed');
        } else if (s.status === 'FAILED') {
          await reports.markFailed(db, r.id, `Amazon reported FAILED: ${s.failureReason ?? 'no reason given'}`);
          result.failed++;
          log.warn({ reason: s.failureReason }, 'report failed at Amazon');
        } else if (r.poll_count >= opts.maxPolls) {
          await reports.markFailed(db, r.id, `gave up after ${r.poll_count} polls; Amazon still says ${s.status}`);
          result.failed++;
          log.warn({ polls: r.poll_count, status: s.status }, 'report abandoned after the poll limit');
        } else {
          await reports.markWaiting(db, r.id, s.status);
          result.waiting++;
        }
      } catch (err) {
        result.errors++;
        if (err instanceof AmazonApiError && !err.retriable) {
          // 404 (Amazon forgot it), 403 (access lost), refused credentials: polling again cannot help.
          await reports.markFailed(db, r.id, err.message);
          result.failed++;
          log.error({ err: err.message }, 'report polling failed permanently');
        } else if (r.poll_count >= opts.maxPolls) {
          await reports.markFailed(
            db,
            r.id,
            `gave up after ${r.poll_count} polls; last error: ${(err as Error).message}`,
          );
          result.failed++;
        } else {
          log.warn({ err: (err as Error).message, polls: r.poll_count }, 'report poll failed; will poll again');
        }
      }
    }),
  );
  return result;
}
