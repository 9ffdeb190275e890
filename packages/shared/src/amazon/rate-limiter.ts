/**
 * Per-key (per-profile) pacing: a token bucket for requests per second and a cap
 * on requests in flight. Amazon throttles per profile, so one busy profile must
 * not starve the others, and none should hammer the API into 429s.
 */
export interface RateLimitOptions {
  ratePerSec: number;
  burst: number;
  concurrency: number;
}

interface KeyState {
  tokens: number;
  updatedAt: number;
  inFlight: number;
  waiters: (() => void)[];
}

export class KeyedRateLimiter {
  private readonly opts: RateLimitOptions;
  private readonly keys = new Map<string, KeyState>();
  private readonly now: () => number;

  constructor(opts: RateLimitOptions, now: () => number = Date.now) {
    this.opts = opts;
    this.now = now;
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) {
      s = { tokens: this.opts.burst, updatedAt: this.now(), inFlight: 0, waiters: [] };
      this.keys.set(key, s);
    }
    return s;
  }

  /** Pure bucket arithmetic: how long until one token is available. */
  static waitFor(tokens: number, ratePerSec: number): number {
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / ratePerSec) * 1000);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const s = this.state(key);
    while (s.inFlight >= this.opts.concurrency) await new Promise<void>((r) => s.waiters.push(r));
    s.inFlight++;
    try {
      for (;;) {
        const t = this.now();
        s.tokens = Math.min(this.opts.burst, s.tokens + ((t - s.updatedAt) / 1000) * this.opts.ratePerSec);
        s.updatedAt = t;
        const wait = KeyedRateLimiter.waitFor(s.tokens, this.opts.ratePerSec);
        if (wait === 0) break;
        await new Promise((r) => setTimeout(r, wait));
      }
      s.tokens -= 1;
      return await fn();
    } finally {
      s.inFlight--;
      s.waiters.shift()?.();
    }
  }
}
