import { z } from 'zod';
import { bool, hostPortList, loadConfig, logLevel, url, urlList } from './load-config.ts';
import { parseTrustedOrigins } from '../http/outbound.ts';

/**
 * What every service needs. Defaults are the addresses `deploy/local/stack up`
 * prints, so the demo runs with no environment at all.
 */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: logLevel.default('info'),
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:19092']),
  /**
   * Prepended to every topic and consumer group, so several environments (or test
   * runs) can share one cluster without seeing each other.
   */
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  /** A crashed member's partitions move to another replica after this long (Kafka's minimum is 6000). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
  /**
   * A Confluent-compatible Schema Registry (the stack runs Apicurio, base URL
   * …/apis/ccompat/v7). Empty means the in-repo schemas, with the same wire framing.
   */
  SCHEMA_REGISTRY_URL: url(['http', 'https']).optional(),
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://adsync:adsync@127.0.0.1:55432/adsync'),
  /** A server's HTTP URL, or a replica set's, comma-separated: the next replica takes over when one does not answer. */
  CLICKHOUSE_URL: urlList(['http', 'https']).default('http://127.0.0.1:18123'),
  /**
   * Cluster mode: the name of the cluster (remote_servers) whose replicas share ZooKeeper.
   * Migrations then create Replicated tables ON CLUSTER. Empty: one server.
   */
  CLICKHOUSE_CLUSTER: z
    .string()
    .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, 'expected a cluster name')
    .default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database identifier')
    .default('adsync'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /**
   * Where the Amazon Ads API (and Login with Amazon) answer. Defaults to the local
   * sandbox so the demo runs without credentials; set it empty for Amazon's regional endpoints.
   */
  AMAZON_ADS_BASE_URL: z.string().default('http://127.0.0.1:18900'),
  /**
   * Origins that URLs from outside (SNS SubscribeURL and certificates, presigned downloads,
   * webhooks) may point at over http and at private addresses: the local sandbox, nothing
   * else. Unset: the origin of AMAZON_ADS_BASE_URL outside production, none in production.
   */
  OUTBOUND_TRUSTED_ORIGINS: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      try {
        parseTrustedOrigins(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /**
   * How long a known API key is answered from memory instead of Postgres: a revoked key
   * stops working within this long. 0 checks Postgres on every request.
   */
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
  /** Key that seals secrets at rest (32 bytes, base64); a development key outside production. */
  ENCRYPTION_KEY: z.string().optional(),
  /** Keys secrets may still be sealed with, during a rotation (comma-separated). */
  ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  /** A bootstrap admin API key, stored hashed at start-up (optional). */
  ADMIN_API_KEY: z.string().min(24, 'use at least 24 characters').optional(),
  /**
   * Apply migrations when a process starts (the default, for the demo and small
   * deployments). Set false where the migrate Job runs them (deploy/k8s).
   */
  MIGRATE_ON_START: bool.default(true),
  /**
   * The longest a work loop sleeps when no notification woke it and nothing is due: a safety net
   * against a lost notification, not a poll. Loops wake on Postgres NOTIFY from the queue tables
   * they claim from, and at the next due time they read from them.
   */
  IDLE_CHECK_MS: z.coerce.number().int().positive().default(300_000),
};

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

export function loadBaseConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return loadConfig(baseConfigShape, env);
}

/**
 * The origins URLs from outside may reach as they are (outbound.ts): as set, or else the
 * sandbox the deployment points at, never in production unless set there.
 */
export function outboundTrustedOrigins(
  cfg: Pick<BaseConfig, 'OUTBOUND_TRUSTED_ORIGINS' | 'AMAZON_ADS_BASE_URL' | 'NODE_ENV'>,
): string[] {
  if (cfg.OUTBOUND_TRUSTED_ORIGINS !== undefined) return parseTrustedOrigins(cfg.OUTBOUND_TRUSTED_ORIGINS);
  if (cfg.NODE_ENV === 'production' || !cfg.AMAZON_ADS_BASE_URL) return [];
  return parseTrustedOrigins(cfg.AMAZON_ADS_BASE_URL);
}
