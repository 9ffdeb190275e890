import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const pollerConfigShape = {
  ...baseConfigShape,
  REPORT_POLLER_HOST: z.string().default('127.0.0.1'),
  REPORT_POLLER_PORT: port.default(8083),
  /** Reports polled per tick (a tick runs when a report is due, or is requested: NOTIFY). */
  POLL_MAX_REPORTS: positiveInt.default(10),
  /** A report is polled at most once per this many ms (the seed: every 10–30 s). */
  POLL_MIN_SPACING_MS: positiveInt.default(10_000),
  /** Polls before a report is given up (~15 minutes at 10 s). */
  POLL_MAX_ATTEMPTS: positiveInt.default(100),
};

export type PollerConfig = z.infer<z.ZodObject<typeof pollerConfigShape>>;
export const loadPollerConfig = (env: Record<string, string | undefined> = process.env): PollerConfig =>
  loadConfig(pollerConfigShape, env);
