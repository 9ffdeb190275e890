/**
 * A report the sandbox remembers. Kept apart from the routes so that state.ts can
 * hold it without importing them: they import state.ts.
 */
import type { CreateReportRequest } from './report-contract.ts';
import type { ReportTotals } from './report-engine.ts';

export interface ReportRecord {
  reportId: string;
  /** Who asked: the profile scope, or the DSP account (Amazon-Ads-AccountId); only they may read it. */
  owner: string;
  profileIndex: number;
  dspAccountId: string | null;
  request: CreateReportRequest;
  createdAt: number;
  failed: boolean;
  cancelled: boolean;
  /** Fixed at completion, so a download always matches the totals reported for it. */
  generations: Record<string, number> | null;
  file: Buffer | null;
  totals: ReportTotals | null;
  badRows: number;
  dedupeKey: string;
}
