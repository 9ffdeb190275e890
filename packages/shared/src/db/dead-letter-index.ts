/**
 * The module that owns ClickHouse `dead_letters`: the queryable index of every dead
 * letter, for the pipeline-health dashboard and for finding what to replay. The bytes
 * stay on the `<topic>.dlq` topics; etl-loader's consumer of those topics writes here,
 * so a letter any service dead-letters is indexed, and indexed once.
 */
import { chDateTime, type ClickHouse } from './clickhouse.ts';
import type { DeadLetterRecord } from '../kafka/event-bus.ts';
import type { Decoded } from '../kafka/batch-plan.ts';

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
    values: letters.map(({ value: r, offset }) => ({
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
    })),
    query_id: ch.queryId('dead-letter-index'),
  });
}
