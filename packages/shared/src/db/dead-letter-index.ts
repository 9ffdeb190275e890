/**
 * The module that owns ClickHouse `dead_letters`: the queryable index of every dead
 * letter, for the pipeline-health dashboard and for finding what to replay. The bytes
 * stay on the `<topic>.dlq` topics; etl-loader's consumer of those topics writes here,
 * so a letter any service dead-letters is indexed, and indexed once.
 */
import { chDate, chDateTime, chString, type ClickHouse } from './clickhouse.ts';
import type { DeadLetterRecord } from '../kafka/event-bus.ts';
import type { Decoded } from '../kafka/batch-plan.ts';
import { DLQ_HEADERS } from '../kafka/event-bus.ts';

const DLQ_HEADER_NAMES = new Set<string>(Object.values(DLQ_HEADERS));

/** The headers the message carried before it was dead-lettered, values in base64 (they may be binary). */
function originalHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    if (DLQ_HEADER_NAMES.has(k) || v === undefined || v === null) continue;
    const one = Array.isArray(v) ? v[0] : v;
    out[k] = (Buffer.isBuffer(one) ? one : Buffer.from(String(one))).toString('base64');
  }
  return out;
}

/** Writes one batch of dead letters read from a `<topic>.dlq` partition. */
export async function indexDeadLetters(
  ch: ClickHouse,
  dlqPartition: number,
  letters: Decoded<DeadLetterRecord>[],
): Promise<void> {
  if (letters.length === 0) return;
  await ch.client.insert({
    table: 'dead_letters',
    format: 'JSONEachRow',
    values: letters.map(({ value: r, offset, raw }) => ({
      at: chDateTime(r.at),
      topic: r.topic,
      consumer_group: r.consumerGroup,
      step: r.step,
      reason: r.reason.slice(0, 2000),
      source_partition: Number.isFinite(r.sourcePartition) ? r.sourcePartition : -1,
      source_offset: r.sourceOffset,
      message_key: r.key ?? '',
      dlq_partition: dlqPartition,
      dlq_offset: offset,
      message_value: raw.value ? Buffer.from(raw.value).toString('base64') : '',
      message_headers: JSON.stringify(originalHeaders(raw.headers)),
    })),
    query_id: ch.queryId('dead-letter-index'),
  });
}

export interface DeadLetterSelection {
  topic?: string;
  /** Letters whose reason contains this text. */
  reason?: string;
  /** Days, inclusive (UTC). */
  from?: string;
  to?: string;
  /** Exactly these letters (by their place on `<topic>.dlq`). */
  letters?: { partition: number; offset: string }[];
}

export interface IndexedLetter {
  topic: string;
  dlq_partition: number;
  dlq_offset: string;
  at: string;
  consumer_group: string;
  step: string;
  reason: string;
  source_partition: number;
  source_offset: string;
  message_key: string;
  /** Base64; empty for letters indexed before their bytes were kept. */
  message_value: string;
  message_headers: string;
}

/** Letters matching a selection, oldest first, at most `limit`. */
export async function findDeadLetters(
  ch: ClickHouse,
  sel: DeadLetterSelection,
  limit: number,
): Promise<IndexedLetter[]> {
  const where = ['1'];
  if (sel.topic) where.push(`topic = ${chString(sel.topic)}`);
  if (sel.reason) where.push(`positionCaseInsensitive(reason, ${chString(sel.reason)}) > 0`);
  if (sel.from) where.push(`toDate(at) >= ${chDate(sel.from)}`);
  if (sel.to) where.push(`toDate(at) <= ${chDate(sel.to)}`);
  if (sel.letters?.length)
    where.push(
      `(${sel.letters.map((l) => `(dlq_partition = ${Number(l.partition)} AND dlq_offset = ${chString(l.offset)})`).join(' OR ')})`,
    );
  const rs = await ch.client.query({
    query: `SELECT topic, dlq_partition, dlq_offset, toString(at) AS at, consumer_group, step, reason,
                   source_partition, source_offset, message_key, message_value, message_headers
            FROM dead_letters FINAL
            WHERE ${where.join(' AND ')}
            ORDER BY at, topic, dlq_partition, dlq_offset
            LIMIT ${Math.max(1, Math.floor(limit))}`,
    format: 'JSONEachRow',
    query_id: ch.queryId('dead-letter-find'),
  });
  return (await rs.json<IndexedLetter>()).map((r) => ({
    ...r,
    dlq_partition: Number(r.dlq_partition),
    source_partition: Number(r.source_partition),
  }));
}

/**
 * Dead letters of a queue that is not Kafka (Marketing Stream's SQS queue): indexed like the
 * others, keyed by the message id, the body kept (base64). `topic` is `sqs:<queue>`, which no
 * replay sends anywhere: they are listed, and not replayable.
 */
export async function indexQueueDeadLetters(
  ch: ClickHouse,
  topic: string,
  consumerGroup: string,
  letters: { messageId: string; body: string; reason: string; key: string }[],
): Promise<void> {
  if (letters.length === 0) return;
  const at = chDateTime(new Date());
  await ch.client.insert({
    table: 'dead_letters',
    format: 'JSONEachRow',
    values: letters.map((l) => ({
      at,
      topic,
      consumer_group: consumerGroup,
      step: 'normalise',
      reason: l.reason.slice(0, 2000),
      source_partition: -1,
      source_offset: l.messageId,
      message_key: l.key,
      dlq_partition: 0,
      dlq_offset: l.messageId,
      message_value: Buffer.from(l.body).toString('base64'),
      message_headers: '{}',
    })),
    query_id: ch.queryId('dead-letter-index'),
  });
}
