import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const amcConfigShape = {
  ...baseConfigShape,
  AMC_RUNNER_HOST: z.string().default('127.0.0.1'),
  AMC_RUNNER_PORT: port.default(8085),
  AMAZON_ADS_BASE_URL: z.string().default('http://127.0.0.1:18900'),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  /** The window used when an execution names none: the last N whole days AMC already has. */
  AMC_DEFAULT_WINDOW_DAYS: positiveInt.default(7),
  AMC_POLL_INTERVAL_MS: positiveInt.default(15_000),
  AMC_POLL_MIN_SPACING_MS: positiveInt.default(10_000),
};

export type AmcConfig = z.infer<z.ZodObject<typeof amcConfigShape>>;
export const loadAmcConfig = (env: Record<string, string | undefined> = process.env): AmcConfig => loadConfig(amcConfigShape, env);
