import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const etlLoaderConfigShape = {
  ...baseConfigShape,
  ETL_LOADER_HOST: z.string().default('127.0.0.1'),
  ETL_LOADER_PORT: port.default(8084),
  /** Consumer groups are named <prefix>adsync.etl-loader.*; the topic prefix is reused so environments sharing a cluster stay apart. */
  AMAZON_ADS_BASE_URL: z.string().default('http://127.0.0.1:18900'),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  /** Rows per rows.parsed message; keeps messages well under Kafka's 1 MB default. */
  ETL_ROWS_PER_EVENT: positiveInt.default(1000),
  /** rows.parsed messages per ClickHouse insert (×rows per event = rows per insert). */
  ETL_LOAD_BATCH_MESSAGES: positiveInt.default(50),
  ETL_DOWNLOAD_CONCURRENCY: positiveInt.default(2),
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  /** A crashed loader's partitions move to another replica after this long (Kafka's minimum is 6000). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
};

export type EtlLoaderConfig = z.infer<z.ZodObject<typeof etlLoaderConfigShape>>;
export const loadEtlLoaderConfig = (env: Record<string, string | undefined> = process.env): EtlLoaderConfig => loadConfig(etlLoaderConfigShape, env);
