import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const etlLoaderConfigShape = {
  ...baseConfigShape,
  ETL_LOADER_HOST: z.string().default('127.0.0.1'),
  ETL_LOADER_PORT: port.default(8084),
  /** Rows per rows.parsed message; keeps messages well under Kafka's 1 MB default. */
  ETL_ROWS_PER_EVENT: positiveInt.default(1000),
  /**
   * rows.parsed messages per ClickHouse insert at most (×rows per event = rows per insert):
   * ClickHouse pays per part written and merged, so a backlog loads in inserts of up to 400,000
   * rows (about as many as one fetch holds); a trickle still loads as it comes.
   */
  ETL_LOAD_BATCH_MESSAGES: positiveInt.default(400),
  ETL_DOWNLOAD_CONCURRENCY: positiveInt.default(2),
};

export type EtlLoaderConfig = z.infer<z.ZodObject<typeof etlLoaderConfigShape>>;
export const loadEtlLoaderConfig = (env: Record<string, string | undefined> = process.env): EtlLoaderConfig =>
  loadConfig(etlLoaderConfigShape, env);
