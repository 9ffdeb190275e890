import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { bool, loadConfig, port, positiveInt, url } from '@adsync/shared/config/load-config';
import type { AttributionOptions } from './attribution.ts';

export const entitySyncConfigShape = {
  ...baseConfigShape,
  ENTITY_SYNC_HOST: z.string().default('127.0.0.1'),
  ENTITY_SYNC_PORT: port.default(8081),
  /** Rows per upsert statement. */
  ENTITY_SYNC_BATCH_SIZE: positiveInt.default(2000),
  /**
   * Sync batches (profiles) run at once by each of: the service's sync loop, an ingestion run's
   * entity stage, and the CronJob entry — so up to twice this per pod while an ingestion runs.
   */
  ENTITY_SYNC_PROFILE_CONCURRENCY: positiveInt.default(4),
  /** How often a full sync checks on its Amazon export while it is generated. */
  ENTITY_SYNC_EXPORT_POLL_MS: positiveInt.default(5_000),
  /**
   * How long a sync batch or ingestion run stays claimed without its process renewing it.
   * After a crash, any replica takes it up again this long after the last renewal.
   */
  ENTITY_SYNC_LEASE_MS: positiveInt.default(60_000),
  /**
   * The Login with Amazon app advertisers consent to (POST /v1/accounts/:id/connect).
   * Against the sandbox (AMAZON_ADS_BASE_URL set) the sandbox's app is the default;
   * against Amazon both must be set.
   */
  LWA_CLIENT_ID: z.string().min(1).optional(),
  LWA_CLIENT_SECRET: z.string().min(1).optional(),
  /** This service's /v1/oauth/callback as the browser reaches it; must be an Allowed Return URL of the app. */
  OAUTH_REDIRECT_URI: url(['http', 'https']).optional(),
  /**
   * The operator console (services/console), if one serves this deployment: the consent callback's
   * page forwards the browser to the account's page there. Set by configuration only, so the
   * callback never sends a browser anywhere a request named.
   */
  CONSOLE_URL: url(['http', 'https']).optional(),
  /** How long a consent link works. */
  OAUTH_STATE_TTL_SEC: positiveInt.default(600),
  /** Amazon Attribution in every ingestion run (profiles Amazon does not serve are marked, not failed). */
  ATTRIBUTION_ENABLED: bool.default(true),
  /** Days an advertiser's first Amazon Attribution pull reaches back (performance keeps 13 months, products 90 days). */
  ATTRIBUTION_BACKFILL_DAYS: positiveInt.max(390).default(30),
  /** Days each later pull takes again: Amazon restates after 1, 7 and 28 days and recommends the last 30. */
  ATTRIBUTION_RESTATE_DAYS: positiveInt.max(390).default(30),
};

export type EntitySyncConfig = z.infer<z.ZodObject<typeof entitySyncConfigShape>>;

export const loadEntitySyncConfig = (env: Record<string, string | undefined> = process.env): EntitySyncConfig =>
  loadConfig(entitySyncConfigShape, env);

/** The options the configuration gives (null: Amazon Attribution is not pulled). */
export const attributionOptionsOf = (cfg: {
  ATTRIBUTION_ENABLED: boolean;
  ATTRIBUTION_BACKFILL_DAYS: number;
  ATTRIBUTION_RESTATE_DAYS: number;
}): AttributionOptions | null =>
  cfg.ATTRIBUTION_ENABLED
    ? { backfillDays: cfg.ATTRIBUTION_BACKFILL_DAYS, restateDays: cfg.ATTRIBUTION_RESTATE_DAYS }
    : null;
