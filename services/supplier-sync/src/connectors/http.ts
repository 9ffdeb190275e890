/** The shared retry policy for supplier calls: 429/5xx/network retried with full-jitter backoff, honouring Retry-After. */
import { request, type Dispatcher } from 'undici';
import { backoffDelay, sleep as realSleep, type BackoffPolicy, type Sleep } from '@adsync/shared/backoff';
import { parseRetryAfter } from '@adsync/shared/amazon/retry-after';
import { SupplierError } from './connector.ts';

export interface HttpPolicy {
  maxAttempts: number;
  backoff: BackoffPolicy;
  sleep?: Sleep;
  dispatcher?: Dispatcher;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = { maxAttempts: 6, backoff: { baseMs: 300, maxMs: 20_000 } };

export async function callJson(url: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, policy: HttpPolicy, what: string): Promise<unknown> {
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: init.method, headers: init.headers, body: init.body, dispatcher: policy.dispatcher, headersTimeout: 30_000, bodyTimeout: 30_000 });
    } catch (err) {
      if (attempt >= policy.maxAttempts) throw new SupplierError(`${what}: ${(err as Error).message}`, true);
      await sleep(backoffDelay(attempt, policy.backoff));
      continue;
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return text ? JSON.parse(text) : null;
    const retriable = res.statusCode === 429 || res.statusCode >= 500;
    if (retriable && attempt < policy.maxAttempts) {
      const ra = parseRetryAfter(res.headers['retry-after'] as string | undefined);
      const jitter = backoffDelay(attempt, policy.backoff);
      await sleep(ra !== null ? ra + Math.floor(jitter / 4) : jitter);
      continue;
    }
    throw new SupplierError(`${what} answered ${res.statusCode}: ${text.slice(0, 200)}`, retriable, res.statusCode);
  }
}
