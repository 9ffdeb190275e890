// A client pointed at an in-process sandbox, for tests and benchmarks.
import { AmazonAdsClient, type AdsClientOptions } from '@adsync/shared/amazon/ads-client';
import { createLogger } from '@adsync/shared/logger';
import type { Sandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from './amazon/gateway.ts';

export function sandboxClient(sandbox: Sandbox, opts: Partial<AdsClientOptions> = {}): AmazonAdsClient {
  return new AmazonAdsClient({
    region: 'NA',
    baseUrl: sandbox.url,
    credentials: {
      clientId: SANDBOX_CLIENT_ID,
      clientSecret: SANDBOX_CLIENT_SECRET,
      refreshToken: SANDBOX_REFRESH_TOKEN,
    },
    log: createLogger({ name: 'test-client', level: process.env.LOG_LEVEL ?? 'error', pretty: false }),
    backoff: { baseMs: 5, maxMs: 50 },
    rateLimit: { ratePerSec: 10_000, burst: 10_000, concurrency: 8 },
    ...opts,
  });
}
