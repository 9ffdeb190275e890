import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

/** AMC's own queries rarely run past a few hours; eight hours is "stuck", not "slow". */
export const DEFAULT_EXECUTION_TIMEOUT_MS = 8 * 3600_000;
/** AMC's data gaps are usually late data that lands within hours; a window is tried again every 6 h, for up to 7 days. */
export const DEFAULT_GAP_RECHECK_MS = 6 * 3600_000;
export const DEFAULT_GAP_MAX_WAIT_MS = 7 * 86_400_000;

export const amcConfigShape = {
  ...baseConfigShape,
  AMC_RUNNER_HOST: z.string().default('127.0.0.1'),
  AMC_RUNNER_PORT: port.default(8085),
  /** The window used when an execution names none: the last N whole days AMC already has. */
  AMC_DEFAULT_WINDOW_DAYS: positiveInt.default(7),
  /** How often AMC is asked for the runs its schedules started, while any schedule exists. */
  AMC_POLL_INTERVAL_MS: positiveInt.default(15_000),
  /** An execution's status is asked at most once per this many ms; a submission AMC refused for now waits as long. */
  AMC_POLL_MIN_SPACING_MS: positiveInt.default(10_000),
  /** An execution AMC keeps PENDING or RUNNING longer than this is given up (and cancelled at AMC). AMC's own default timeout is 6 h. */
  AMC_EXECUTION_TIMEOUT_MS: positiveInt.default(DEFAULT_EXECUTION_TIMEOUT_MS),
  /** Data-gap policy wait_and_rerun: a window over a gap runs again this long after, until AMC_GAP_MAX_WAIT_MS has passed. */
  AMC_GAP_RECHECK_MS: positiveInt.default(DEFAULT_GAP_RECHECK_MS),
  AMC_GAP_MAX_WAIT_MS: positiveInt.default(DEFAULT_GAP_MAX_WAIT_MS),
  /** How often every instance's workflows are compared with AMC's (drift), and the AMC dashboard file rewritten. */
  AMC_DRIFT_CHECK_INTERVAL_MS: positiveInt.default(3600_000),
  /** Where the generated Grafana dashboard (a panel per saved workflow) is written; empty: not written, still served at GET /v1/amc/dashboard. */
  AMC_DASHBOARD_FILE: z.string().default(''),
};

export type AmcConfig = z.infer<z.ZodObject<typeof amcConfigShape>>;
export const loadAmcConfig = (env: Record<string, string | undefined> = process.env): AmcConfig =>
  loadConfig(amcConfigShape, env);
