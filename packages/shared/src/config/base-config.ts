import { z } from 'zod';
import { hostPortList, loadConfig, logLevel, url } from './load-config.ts';

/**
 * What every service needs. Defaults are the addresses `deploy/local/stack up`
 * prints, so the demo runs with no environment at all.
 */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: logLevel.default('info'),
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:19092']),
  KAFKA_CLIENT_ID: z.string().default('adsync'),
  /** Empty means "no registry": the in-repo schemas are used with the same wire framing. */
  SCHEMA_REGISTRY_URL: url(['http', 'https']).optional(),
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://adsync:adsync@127.0.0.1:55432/adsync'),
  CLICKHOUSE_URL: url(['http', 'https']).default('http://127.0.0.1:18123'),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database identifier').default('adsync'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
};

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

export function loadBaseConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return loadConfig(baseConfigShape, env);
}
