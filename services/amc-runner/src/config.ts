import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

/** AMC's own queries rarely run past a few hours; eight hours is "stuck", not "slow". */
export const DEFAULT_EXECUTION_TIMEOUT_MS = 8 * 3600_000;

export const amcConfigShape = {
  ...baseConfigShape,
  AMC_RUNNER_HOST: z.string().default('127.0.0.1'),
  AMC_RUNNER_PORT: port.default(8085),
  /** The window used when an execution names none: the last N whole days AMC already has. */
  AMC_DEFAULT_WINDOW_DAYS: positiveInt.default(7),
  AMC_POLL_INTERVAL_MS: positiveInt.default(15_000),
  AMC_POLL_MIN_SPACING_MS: positiveInt.default(10_000),
  /** An execution AMC keeps PENDING or RUNNING longer than this is given up (and cancelled at AMC). AMC's own default timeout is 6 h. */
  AMC_EXECUTION_TIMEOUT_MS: positiveInt.default(DEFAULT_EXECUTION_TIMEOUT_MS),
};

export type AmcConfig = z.infer<z.ZodObject<typeof amcConfigShape>>;
export const loadAmcConfig = (env: Record<string, string | undefined> = process.env): AmcConfig =>
  loadConfig(amcConfigShape, env);
