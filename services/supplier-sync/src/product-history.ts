/**
 * supplier_product_history in ClickHouse: one point per product a job changed, which the
 * ai_score (maintenance.ts) and the dashboards read. Written as TabSeparated, which
 * ClickHouse parses several times faster than JSONEachRow; on a price job that changes
 * every product, this insert was most of ClickHouse's share of the job.
 */
import { Readable } from 'node:stream';
import { insertText, type ClickHouse } from '@adsync/shared/db/clickhouse';
import { tsvField } from '@adsync/shared/db/tab-separated';
import type { StoredProduct } from './job-changes.ts';

export const HISTORY_COLUMNS = [
  'account_id',
  'supplier_id',
  'supplier_product_id',
  'sku',
  'at',
  'wholesale_price_micros',
  'retail_price_micros',
  'stock',
  'job_id',
] as const;

export interface HistoryStamp {
  accountId: string;
  supplierId: string;
  jobId: string;
  /** `YYYY-MM-DD hh:mm:ss`, UTC (chDateTime). */
  at: string;
}

/** The products' points as TabSeparated lines in HISTORY_COLUMNS order; an absent value is 0 or ''. Pure. */
export function historyLines(stamp: HistoryStamp, rows: readonly StoredProduct[]): string {
  const head = `${tsvField(stamp.accountId)}\t${tsvField(stamp.supplierId)}\t`;
  const tail = `\t${tsvField(stamp.jobId)}\n`;
  let text = '';
  for (const r of rows)
    text +=
      `${head}${tsvField(r.supplier_product_id)}\t${tsvField(r.sku ?? '')}\t${stamp.at}\t` +
      `${tsvField(r.wholesale_price_micros ?? 0)}\t${tsvField(r.retail_price_micros ?? 0)}\t${tsvField(r.stock ?? 0)}${tail}`;
  return text;
}

export async function recordHistory(
  ch: ClickHouse,
  stamp: HistoryStamp,
  rows: readonly StoredProduct[],
): Promise<void> {
  if (rows.length === 0) return;
  await insertText(
    ch,
    'supplier_product_history',
    'TabSeparated',
    Readable.from([historyLines(stamp, rows)]),
    undefined,
    HISTORY_COLUMNS,
  );
}
