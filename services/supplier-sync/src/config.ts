import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const supplierConfigShape = {
  ...baseConfigShape,
  SUPPLIER_SYNC_HOST: z.string().default('127.0.0.1'),
  SUPPLIER_SYNC_PORT: port.default(8086),
  /** Where the BigBuy and AliExpress APIs answer; the sandbox by default. Empty: their real hosts. */
  BIGBUY_BASE_URL: z.string().default('http://127.0.0.1:18900'),
  ALIEXPRESS_BASE_URL: z.string().default('http://127.0.0.1:18900'),
  SUPPLIER_WORKERS: positiveInt.default(2),
  SUPPLIER_LEASE_MS: positiveInt.default(60_000),
  SUPPLIER_JOB_MAX_ATTEMPTS: positiveInt.default(5),
};

export type SupplierConfig = z.infer<z.ZodObject<typeof supplierConfigShape>>;
export const loadSupplierConfig = (env: Record<string, string | undefined> = process.env): SupplierConfig =>
  loadConfig(supplierConfigShape, env);

export const realBaseUrl = (kind: string, configured: string): string =>
  configured || (kind === 'bigbuy' ? 'https://api.bigbuy.eu' : 'https://api-sg.aliexpress.com');
