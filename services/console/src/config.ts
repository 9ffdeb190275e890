import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';

const url = z.string().url();

/** The console's own port, and where each service's API answers (the CLI's ADSYNC_<SERVICE>_URL). */
export const consoleConfigShape = {
  ...baseConfigShape,
  CONSOLE_HOST: z.string().default('127.0.0.1'),
  CONSOLE_PORT: z.coerce.number().int().min(1).max(65535).default(8088),
  ADSYNC_ENTITY_SYNC_URL: url.default('http://127.0.0.1:8081'),
  ADSYNC_REPORT_REQUESTER_URL: url.default('http://127.0.0.1:8082'),
  ADSYNC_REPORT_POLLER_URL: url.default('http://127.0.0.1:8083'),
  ADSYNC_ETL_LOADER_URL: url.default('http://127.0.0.1:8084'),
  ADSYNC_AMC_RUNNER_URL: url.default('http://127.0.0.1:8085'),
  ADSYNC_SUPPLIER_SYNC_URL: url.default('http://127.0.0.1:8086'),
  ADSYNC_STREAM_CONSUMER_URL: url.default('http://127.0.0.1:8087'),
};
export type ConsoleConfig = z.infer<z.ZodObject<typeof consoleConfigShape>>;

/** The services the console's pages call, by the path segment they are reached under (/api/<name>/…). */
export function upstreams(cfg: ConsoleConfig): Record<string, string> {
  return {
    'entity-sync': cfg.ADSYNC_ENTITY_SYNC_URL,
    'report-requester': cfg.ADSYNC_REPORT_REQUESTER_URL,
    'report-poller': cfg.ADSYNC_REPORT_POLLER_URL,
    'etl-loader': cfg.ADSYNC_ETL_LOADER_URL,
    'amc-runner': cfg.ADSYNC_AMC_RUNNER_URL,
    'supplier-sync': cfg.ADSYNC_SUPPLIER_SYNC_URL,
    'stream-consumer': cfg.ADSYNC_STREAM_CONSUMER_URL,
  };
}
