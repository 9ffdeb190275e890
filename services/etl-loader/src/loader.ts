/**
 * The etl-loader's consumer groups, started together: report downloads, the
 * ClickHouse load, and the dead-letter index (every `<topic>.dlq`, whichever
 * service dead-lettered the message, into ClickHouse `dead_letters`).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type {
  EventBus,
  ConsumerHandle,
  ConsumeOptions,
  DeadLetterConsumeOptions,
} from '@adsync/shared/kafka/event-bus';
import { indexDeadLetters } from '@adsync/shared/db/dead-letter-index';
import type { EventMap, TopicName } from '@adsync/shared/events/contracts';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { processReadyReport } from './report-download.ts';
import { loadRowsParsed, readRowsParsed } from './clickhouse-load.ts';
import { dlq, ok } from '@adsync/shared/kafka/event-bus';

export interface LoaderOptions {
  db: Knex;
  ch: ClickHouse;
  bus: EventBus;
  clients: AmazonClients;
  log: Logger;
  /** Starts a consumer (the service runtime's, which prefixes groups and watches health). */
  consume: <T extends TopicName, V = EventMap[T]>(o: ConsumeOptions<T, V>) => Promise<ConsumerHandle>;
  consumeDeadLetters: (o: DeadLetterConsumeOptions) => Promise<ConsumerHandle>;
  rowsPerEvent: number;
  /** rows.parsed messages per ClickHouse insert. */
  loadBatchMessages: number;
  /** Reports downloaded at once (one per partition). */
  downloadConcurrency?: number;
}

export interface Loader {
  consumers: ConsumerHandle[];
  stop(): Promise<void>;
}

// Below the broker's own cap on a fetch response (fetch.max.bytes, 55 MB by default).
const LOAD_FETCH_BYTES = 48 * 1024 * 1024;

/** rows.parsed → ClickHouse: the load consumer alone (the benchmark measures exactly this). */
export async function consumeRowsParsed(
  o: Pick<LoaderOptions, 'db' | 'ch' | 'consume' | 'loadBatchMessages'>,
): Promise<ConsumerHandle> {
  return o.consume({
    topic: 'rows.parsed',
    groupId: 'adsync.etl-loader.clickhouse',
    maxBatchSize: o.loadBatchMessages,
    // Kafka's fetch stops at 1 MiB per partition by default: about four messages of 1,000 rows,
    // so every insert was a few thousand rows, whatever loadBatchMessages said. ClickHouse
    // pays per insert (a part written, merged later), so a fetch must hold a whole batch.
    maxBytesPerPartition: LOAD_FETCH_BYTES,
    // The rows stay as the Avro bytes they came in: the load writes its text straight from them.
    decode: readRowsParsed,
    handleBatch: async (events, ctx) => {
      // Impossible messages are dead-lettered with their reasons; the rest of the batch loads.
      const res = await loadRowsParsed({ db: o.db, ch: o.ch, log: ctx.log }, events);
      ctx.log.debug({ rows: res.rows, reportsLoaded: res.reportsLoaded.length }, 'rows loaded into ClickHouse');
      return res.problems.map((p) => (p === null ? ok() : dlq(p.reason, p.step)));
    },
  });
}

export async function startLoader(o: LoaderOptions): Promise<Loader> {
  const download = await o.consume({
    topic: 'report.ready',
    groupId: 'adsync.etl-loader.download',
    partitionsConsumedConcurrently: o.downloadConcurrency ?? 2,
    handle: async (e, ctx) => {
      await processReadyReport(
        { db: o.db, bus: o.bus, clients: o.clients, log: ctx.log, rowsPerEvent: o.rowsPerEvent },
        e.value,
      );
    },
  });
  const load = await consumeRowsParsed(o);
  const deadLetters = await o.consumeDeadLetters({
    groupId: 'adsync.etl-loader.dead-letter-index',
    maxBatchSize: 500,
    handleBatch: async (letters, ctx) => indexDeadLetters(o.ch, ctx.partition, letters),
  });
  return {
    consumers: [download, load, deadLetters],
    stop: async () => {
      await download.stop();
      await load.stop();
      await deadLetters.stop();
    },
  };
}
