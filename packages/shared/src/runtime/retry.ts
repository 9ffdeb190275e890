/**
 * The one retry primitive: full-jitter exponential backoff (AWS architecture blog),
 * never sooner than the other side asked (Retry-After), only for errors that can
 * succeed on another attempt, stopped by an abort signal. `sleep` is injectable so
 * tests of retry behaviour run in microseconds.
 *
 * Considered instead: cockatiel and p-retry. Both retry well; neither reads a
 * Retry-After carried by the error into the next delay without wrapping them in
 * about as much code as this, and every caller here needs exactly that.
 */
import { backoffDelay, sleep as realSleep, type BackoffPolicy, type Sleep } from '../backoff.ts';
import { AppError, isRetriable } from './errors.ts';

export interface RetryPolicy {
  maxAttempts: number;
  backoff: BackoffPolicy;
  sleep?: Sleep;
  signal?: AbortSignal;
  /** Which failures deserve another attempt (default: isRetriable). */
  retriable?: (err: unknown) => boolean;
  /** Called before each wait, for logs and counters. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export class RetryAborted extends AppError {
  constructor(cause: unknown) {
    super('ADSYNC_ABORTED', 'stopped while waiting to retry', { retriable: false, cause });
    this.name = 'RetryAborted';
  }
}

/** The wait before the next attempt: the jittered backoff, or Retry-After plus a little jitter when the error carries one. */
export function retryDelay(
  err: unknown,
  attempt: number,
  backoff: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const jitter = backoffDelay(attempt, backoff, random);
  const asked = (err as { retryAfterMs?: number | null } | null)?.retryAfterMs;
  // Never sooner than asked; the jitter spreads replicas that were told the same.
  return typeof asked === 'number' && asked >= 0 ? asked + Math.floor(jitter / 4) : jitter;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  const retriable = policy.retriable ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.maxAttempts || !retriable(err)) throw err;
      if (policy.signal?.aborted) throw new RetryAborted(err);
      const delay = retryDelay(err, attempt, policy.backoff);
      policy.onRetry?.(err, attempt, delay);
      await sleep(delay);
      if (policy.signal?.aborted) throw new RetryAborted(err);
    }
  }
}
