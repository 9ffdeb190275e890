/** The etl-loader's two consumer groups, started together. */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { EventBus, ConsumerHandle } from '@adsync/shared/kafka/event-bus';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { processReadyReport } from './report-download.ts';
import { loadRowsParsed } from './clickhouse-load.ts';

export interface LoaderOptions {
  db: Knex;
  ch: ClickHouse;
  bus: EventBus;
  clients: AmazonClients;
  log: Logger;
  rowsPerEvent: number;
  /** rows.parsed messages per ClickHouse insert. */
  loadBatchMessages: number;
  groupPrefix?: string;
  /** Reports downloaded at once (one per partition). */
  downloadConcurrency?: number;
  /** How long the group waits for a silent (crashed) member before handing its partitions over. */
  sessionTimeoutMs?: number;
}

export interface Loader {
  consumers: ConsumerHandle[];
  stop(): Promise<void>;
}

export async function startLoader(o: LoaderOptions): Promise<Loader> {
  const prefix = o.groupPrefix ?? 'adsync';
  const download = await o.bus.consume({
    topic: 'report.ready',
    groupId: `${prefix}.etl-loader.download`,
    maxBatchSize: 1,
    partitionsConsumedConcurrently: o.downloadConcurrency ?? 2,
    sessionTimeoutMs: o.sessionTimeoutMs,
    handle: async (events, ctx) => {
      for (const e of events) await processReadyReport({ db: o.db, bus: o.bus, clients: o.clients, log: ctx.log, rowsPerEvent: o.rowsPerEvent }, e.value);
    },
  });
  const load = await o.bus.consume({
    topic: 'rows.parsed',
    groupId: `${prefix}.etl-loader.clickhouse`,
    maxBatchSize: o.loadBatchMessages,
    sessionTimeoutMs: o.sessionTimeoutMs,
    handle: async (events, ctx) => {
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
