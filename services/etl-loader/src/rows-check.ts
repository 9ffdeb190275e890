/**
 * What a rows.parsed message must be before it goes near ClickHouse. A message can
 * fit its Avro schema and still be impossible (a negative click count, a day that
 * does not exist); ClickHouse would refuse the whole insert, every time. Such a
 * message is dead-lettered with these reasons and the rest of the batch loads.
 */
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';

const COUNTS = ['impressions', 'clicks', 'orders', 'units'] as const;
const MONEY = ['costMicros', 'salesMicros'] as const;

function isCalendarDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s && s >= '2000-01-01' && s <= '2100-12-31';
}

function rowProblems(r: MetricRow): string[] {
  const out: string[] = [];
  if (!isCalendarDay(r.date)) out.push(`date ${JSON.stringify(r.date)} is not a calendar day`);
  if (!r.entityId) out.push('entityId is empty');
  for (const k of COUNTS)
    if (!Number.isSafeInteger(r[k]) || r[k] < 0) out.push(`${k} ${r[k]} is not a count (a whole number ≥ 0)`);
  for (const k of MONEY)
    if (!Number.isSafeInteger(r[k]) || r[k] < 0)
      out.push(`${k} ${r[k]} is not an amount in micros (a whole number ≥ 0)`);
  return out;
}

/** Why the message cannot be loaded, or null when it can. */
export function rowsParsedProblem(ev: RowsParsed): string | null {
  if (Number.isNaN(Date.parse(ev.pulledAt))) return `pulledAt ${JSON.stringify(ev.pulledAt)} is not a time`;
  const found: string[] = [];
  for (const [i, r] of ev.rows.entries()) {
    for (const p of rowProblems(r)) found.push(`row ${i}: ${p}`);
    if (found.length >= 5) break;
  }
  return found.length ? `impossible rows in report ${ev.reportId} batch ${ev.batchIndex}: ${found.join('; ')}` : null;
}
