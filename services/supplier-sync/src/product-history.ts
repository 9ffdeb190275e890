/**
 * The module that owns `supplier_product_history` (ClickHouse): one point per product a
 * job changed, which the ai_score (maintenance.ts) and the dashboards read. Written as
 * TabSeparated, which ClickHouse parses several times faster than JSONEachRow; on a price
 * job that changes every product, this insert was most of ClickHouse's share of the job.
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

/** What every line of one stamp shares: the text before the product, its time, and the end. */
function historyFrame(stamp: HistoryStamp) {
  return {
    head: `${tsvField(stamp.accountId)}\t${tsvField(stamp.supplierId)}\t`,
    at: stamp.at,
    tail: `\t${tsvField(stamp.jobId)}\n`,
  };
}

/** The products' points as TabSeparated lines in HISTORY_COLUMNS order; an absent value is 0 or ''. Pure. */
export function historyLines(stamp: HistoryStamp, rows: readonly StoredProduct[]): string {
  const { head, at, tail } = historyFrame(stamp);
  let text = '';
  for (const r of rows)
    text +=
      `${head}${tsvField(r.supplier_product_id)}\t${tsvField(r.sku ?? '')}\t${at}\t` +
      `${tsvField(r.wholesale_price_micros ?? 0)}\t${tsvField(r.retail_price_micros ?? 0)}\t${tsvField(r.stock ?? 0)}${tail}`;
  return text;
}

/** tsvField for a text expression, in SQL; chr() rather than quoted backslashes, which depend on server settings. */
const sqlTsvText = (e: string) =>
  `replace(replace(replace(replace(${e}, chr(92), chr(92) || chr(92)), chr(9), chr(92) || 't'), chr(10), chr(92) || 'n'), chr(13), chr(92) || 'r')`;

/**
 * historyLines in SQL: an aggregate over `rows` (an alias with StoredProduct's columns) that
 * Postgres turns into the same text, so a statement that changes products can hand back their
 * history ready to insert, and no row has to be read into the service. A test holds the two
 * to the same text. Every part of a line is non-null (string_agg would skip the line).
 */
export function historyLinesSql(rows: string, stamp: HistoryStamp): { sql: string; bindings: string[] } {
  const { head, at, tail } = historyFrame(stamp);
  const num = (c: string) => `coalesce(${rows}.${c}, 0)::text`;
  return {
    sql: `string_agg(?::text || ${sqlTsvText(`${rows}.supplier_product_id`)} || chr(9) || ${sqlTsvText(`coalesce(${rows}.sku, '')`)}
      || chr(9) || ?::text || chr(9) || ${num('wholesale_price_micros')} || chr(9) || ${num('retail_price_micros')}
      || chr(9) || ${num('stock')} || ?::text, '')`,
    bindings: [head, at, tail],
  };
}

/** Inserts history text made by historyLines or historyLinesSql. */
export async function insertHistory(ch: ClickHouse, text: string): Promise<void> {
  if (text === '') return;
  await insertText(ch, 'supplier_product_history', 'TabSeparated', Readable.from([text]), undefined, HISTORY_COLUMNS);
}

export async function recordHistory(
  ch: ClickHouse,
  stamp: HistoryStamp,
  rows: readonly StoredProduct[],
): Promise<void> {
  await insertHistory(ch, historyLines(stamp, rows));
}

/** Per product, over the last 30 days: the share of points in stock, and the retail price's mean and deviation. */
export async function historyStatistics(ch: ClickHouse): Promise<
  {
    supplier_id: string;
    supplier_product_id: string;
    availability: number;
    mean: number;
    sd: number;
  }[]
> {
  const rs = await ch.client.query({
    query: `SELECT supplier_id, supplier_product_id, avg(stock > 0) AS availability, avg(retail_price_micros) AS mean, stddevPop(retail_price_micros) AS sd
            FROM supplier_product_history WHERE at >= now() - 30 * 86400 GROUP BY supplier_id, supplier_product_id`,
    format: 'JSONEachRow',
  });
  return rs.json();
}
