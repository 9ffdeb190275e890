/** The etl-loader's two consumer groups, started together. */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { EventBus, ConsumerHandle, ConsumeOptions } from '@adsync/shared/kafka/event-bus';
import type { TopicName } from '@adsync/shared/events/contracts';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { processReadyReport } from './report-download.ts';
import { loadRowsParsed } from './clickhouse-load.ts';

export interface LoaderOptions {
  db: Knex;
  ch: ClickHouse;
  bus: EventBus;
  clients: AmazonClients;
  log: Logger;
  /** Starts a consumer (the service runtime's, which prefixes groups and watches health). */
  consume: <T extends TopicName>(o: ConsumeOptions<T>) => Promise<ConsumerHandle>;
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
  const load = await o.consume({
    topic: 'rows.parsed',
    groupId: 'adsync.etl-loader.clickhouse',
    maxBatchSize: o.loadBatchMessages,
    handleBatch: async (events, ctx) => {
      const res = await loadRowsParsed({ db: o.db, ch: o.ch, log: ctx.log }, events);
      ctx.log.debug({ rows: res.rows, reportsLoaded: res.reportsLoaded.length }, 'rows loaded into ClickHouse');
    },
  });
  return {
    consumers: [download, load],
    stop: async () => {
      await download.stop();
      await load.stop();
    },
  };
}
