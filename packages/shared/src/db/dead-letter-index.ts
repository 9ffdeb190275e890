/** Indexes dead letters in ClickHouse for the pipeline-health dashboard; the bytes stay on Kafka. */
import { chDateTime, type ClickHouse } from './clickhouse.ts';
import type { DeadLetterRecord } from '../kafka/event-bus.ts';

export function clickhouseDeadLetterSink(ch: ClickHouse) {
  return async (records: DeadLetterRecord[]): Promise<void> => {
    await ch.client.insert({
      table: 'dead_letters',
      format: 'JSONEachRow',
      values: records.map((r) => ({
        at: chDateTime(r.at),
        topic: r.topic,
        consumer_group: r.consumerGroup,
        step: r.step,
        reason: r.reason.slice(0, 2000),
        source_partition: Math.max(0, r.sourcePartition),
        source_offset: r.sourceOffset,
        message_key: r.key ?? '',
      })),
    });
  };
}
