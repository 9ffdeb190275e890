/**
 * Login with Amazon access tokens from a refresh token: cached, refreshed a minute
 * before expiry, refreshed at most once at a time (concurrent callers share the
 * refresh), and dropped on a 401 so the next call refreshes.
 */
import { metrics } from '../runtime/metrics.ts';
import { request, type Dispatcher } from 'undici';
import { LwaError } from './errors.ts';
import { sleep as realSleep, type Sleep } from '../backoff.ts';
import { retry } from '../runtime/retry.ts';
import { parseRetryAfter } from './retry-after.ts';

export interface LwaCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface AccessToken {
  token: string;
  expiresAt: number;
}

export class LwaTokenProvider {
  private readonly tokenUrl: string;
  private readonly creds: LwaCredentials;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly skewMs: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private cached: AccessToken | null = null;
  private inflight: Promise<AccessToken> | null = null;
  refreshCount = 0;

  constructor(opts: {
    tokenUrl: string;
    credentials: LwaCredentials;
    dispatcher?: Dispatcher;
    refreshSkewMs?: number;
    now?: () => number;
    sleep?: Sleep;
  }) {
    this.tokenUrl = opts.tokenUrl;
    this.creds = opts.credentials;
    this.dispatcher = opts.dispatcher;
    this.skewMs = opts.refreshSkewMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
  }

  get clientId(): string {
    return this.creds.clientId;
  }

  async get(): Promise<string> {
    if (this.cached && this.cached.expiresAt - this.skewMs > this.now()) return this.cached.token;
    return (await this.refresh()).token;
  }

  /** Forget a token the API refused, so the next get() refreshes (unless another caller already did). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = null;
  }

  private refresh(): Promise<AccessToken> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** LWA throttles and fails like any Amazon endpoint: retry 429/5xx/network errors, never a refused grant. */
  private doRefresh(): Promise<AccessToken> {
    return retry(() => this.refreshOnce(), {
      maxAttempts: 6,
      backoff: { baseMs: 250, maxMs: 10_000 },
      sleep: this.sleep,
    });
  }

  private async refreshOnce(): Promise<AccessToken> {
    let json: Record<string, unknown> & { access_token: string };
    try {
      json = await postTokenGrant(
        this.tokenUrl,
        {
          grant_type: 'refresh_token',
          refresh_token: this.creds.refreshToken,
          client_id: this.creds.clientId,
          client_secret: this.creds.clientSecret,
        },
        this.dispatcher,
      );
    } catch (err) {
      if (err instanceof LwaError) metrics.tokenRefreshes.inc({ outcome: String(err.status) });
      throw err;
    }
    this.refreshCount++;
    metrics.tokenRefreshes.inc({ outcome: 'ok' });
    const token = { token: json.access_token, expiresAt: this.now() + Number(json.expires_in ?? 3600) * 1000 };
    this.cached = token;
    return token;
  }
}

/**
 * One POST to a Login with Amazon token endpoint (either grant): the answer's JSON when it
 * carries an access token, else an LwaError with LWA's code and Retry-After. The refresh
 * token provider and the consent flow's code exchange both stand on it.
 */
export async function postTokenGrant(
  tokenUrl: string,
  params: Record<string, string>,
  dispatcher?: Dispatcher,
): Promise<Record<string, unknown> & { access_token: string }> {
  const res = await request(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
    dispatcher,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: 'unreadable_response', error_description: text.slice(0, 200) };
  }
  if (res.statusCode !== 200 || typeof json.access_token !== 'string')
    throw new LwaError(
      res.statusCode === 200 ? 502 : res.statusCode,
      json,
      parseRetryAfter(res.headers['retry-after'] as string | undefined),
      params.grant_type === 'authorization_code' ? 'authorization_code' : 'refresh_token',
    );
  return json as Record<string, unknown> & { access_token: string };
}
