/** The shared retry policy for supplier calls: 429/5xx/network retried with full-jitter backoff, honouring Retry-After. */
import { request, type Dispatcher } from 'undici';
import type { BackoffPolicy, Sleep } from '@adsync/shared/backoff';
import { retry } from '@adsync/shared/runtime/retry';
import { parseRetryAfter } from '@adsync/shared/amazon/retry-after';
import { SupplierError } from './connector.ts';

export interface HttpPolicy {
  maxAttempts: number;
  backoff: BackoffPolicy;
  sleep?: Sleep;
  dispatcher?: Dispatcher;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = { maxAttempts: 6, backoff: { baseMs: 300, maxMs: 20_000 } };

export async function callJson(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  policy: HttpPolicy,
  what: string,
): Promise<unknown> {
  return retry(
    async () => {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: init.method,
          headers: init.headers,
          body: init.body,
          dispatcher: policy.dispatcher,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
      } catch (err) {
        throw new SupplierError(`${what}: ${(err as Error).message}`, true);
      }
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return text ? JSON.parse(text) : null;
      const retriable = res.statusCode === 429 || res.statusCode >= 500;
      throw new SupplierError(
        `${what} answered ${res.statusCode}: ${text.slice(0, 200)}`,
        retriable,
        res.statusCode,
        parseRetryAfter(res.headers['retry-after'] as string | undefined),
      );
    },
    { maxAttempts: policy.maxAttempts, backoff: policy.backoff, sleep: policy.sleep },
  );
}
