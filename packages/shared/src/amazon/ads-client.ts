/**
 * The one Amazon Ads API client. Everything hostile about the API is handled here
 * so no service repeats it: regions and the sandbox override, access tokens
 * (cached, refreshed before expiry and once on 401), the required headers,
 * retries on 429/5xx/network errors with full-jitter backoff that honours
 * Retry-After, per-profile pacing and concurrency, both pagination styles as
 * async iterators, request ids in logs, and typed errors.
 */
import { metrics, operationOf } from '../runtime/metrics.ts';
import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { Logger } from '../logger.ts';
import { sleep as realSleep, type BackoffPolicy, type Sleep } from '../backoff.ts';
import { retry } from '../runtime/retry.ts';
import { AppError } from '../runtime/errors.ts';
import { OutboundRefusedError, closeOutbound, outboundRequest, type OutboundPolicy } from '../http/outbound.ts';
import { endpointsFor, type Region } from './regions.ts';
import { AmazonApiError, errorFromResponse, isScopeRefusal } from './errors.ts';
import { LwaTokenProvider, type LwaCredentials } from './lwa-token.ts';
import { parseRetryAfter } from './retry-after.ts';
import { KeyedRateLimiter, type RateLimitOptions } from './rate-limiter.ts';

export interface AdsClientOptions {
  region: Region;
  /** Sandbox (or proxy) base URL; serves both the API and the token endpoint. */
  baseUrl?: string;
  credentials: LwaCredentials;
  log: Logger;
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** Per-profile pacing. Amazon's limits are per profile and endpoint; these defaults stay under them. */
  rateLimit?: Partial<RateLimitOptions>;
  requestTimeoutMs?: number;
  sleep?: Sleep;
  dispatcher?: Dispatcher;
}

export interface AdsRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Sets Amazon-Advertising-API-Scope; omitted for calls above profile level (GET /v2/profiles). */
  profileId?: string;
  /** Sets Amazon-Ads-AccountId: a DSP advertiser, for DSP reports and Ads API v1. */
  accountId?: string;
  /** An array is sent as the key repeated (OpenAPI's form style, explode true). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** What the caller is doing, for logs and error messages. */
  what?: string;
  /** Report creation: Amazon sends no Retry-After, so back off harder on our own. */
  noRetryAfter?: boolean;
  /** What the pacing is per (default: the profile). AMC calls pace per instance. */
  rateKey?: string;
}

export interface AdsResponse<T> {
  status: number;
  body: T;
  requestId: string | null;
  headers: Record<string, string | string[] | undefined>;
}

/** Called once per page, so callers can keep Amazon's request ids for their run records. */
export type PageHook = (page: { requestId: string | null; count: number }) => void;

export class AmazonAdsClient {
  readonly apiUrl: string;
  readonly tokens: LwaTokenProvider;
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly limiter: KeyedRateLimiter;
  private readonly sleep: Sleep;
  private readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;
  /**
   * Where a download URL from an Amazon answer may point: Amazon's S3 (https, *.amazonaws.com,
   * public addresses only), or the base URL this client was pointed at (the sandbox, a proxy).
   */
  private readonly downloads: OutboundPolicy;
  readonly stats = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, refreshesOn401: 0 };

  constructor(opts: AdsClientOptions) {
    const ep = endpointsFor(opts.region, opts.baseUrl);
    this.apiUrl = ep.apiUrl;
    this.dispatcher = opts.dispatcher ?? new Agent({ connections: 32, keepAliveTimeout: 30_000, pipelining: 1 });
    this.tokens = new LwaTokenProvider({
      tokenUrl: ep.tokenUrl,
      credentials: opts.credentials,
      dispatcher: this.dispatcher,
    });
    this.log = opts.log.child({ component: 'amazon-ads-client', region: opts.region });
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 60_000 };
    this.limiter = new KeyedRateLimiter({ ratePerSec: 10, burst: 10, concurrency: 4, ...opts.rateLimit });
    this.sleep = opts.sleep ?? realSleep;
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.downloads = {
      purpose: 'download URL',
      hosts: ['.amazonaws.com'],
      trustedOrigins: opts.baseUrl ? [new URL(opts.baseUrl).origin] : [],
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await closeOutbound(this.downloads);
  }

  /** One logical call: paced, authorised, retried; resolves with a 2xx body or throws AmazonApiError. */
  async call<T = unknown>(req: AdsRequest): Promise<AdsResponse<T>> {
    const what = req.what ?? `${req.method} ${req.path}`;
    const log = this.log.child({ profileId: req.profileId, call: what });
    let refreshedOn401 = false;
    // Report creation throttles without Retry-After: back off harder on our own.
    const backoff = req.noRetryAfter ? { baseMs: this.backoff.baseMs * 4, maxMs: this.backoff.maxMs } : this.backoff;
    return retry(
      async () => {
        const token = await this.tokens.get();
        let res: Dispatcher.ResponseData;
        try {
          res = await this.limiter.run(req.rateKey ?? req.profileId ?? req.accountId ?? '-', () =>
            this.send(req, token),
          );
        } catch (err) {
          throw new AmazonApiError('network', `${what} failed: ${(err as Error).message}`, {
            hint: 'network trouble after every retry; check connectivity to Amazon',
            cause: err,
          });
        }
        this.stats.requests++;
        metrics.amazonCalls.inc({
          operation: `${req.method} ${operationOf(req.path)}`,
          status: String(res.statusCode),
        });
        const requestId = (res.headers['x-amz-request-id'] ?? res.headers['x-amzn-requestid'] ?? null) as string | null;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          const text = await res.body.text();
          log.debug({ status: res.statusCode, requestId }, 'amazon call ok');
          return {
            status: res.statusCode,
            body: (text ? JSON.parse(text) : null) as T,
            requestId,
            headers: res.headers,
          };
        }
        const body = await readErrorBody(res);
        if (res.statusCode === 401 && !refreshedOn401 && !isScopeRefusal(res.statusCode, body)) {
          // Once: the token may have been revoked server-side before its expiry.
          refreshedOn401 = true;
          this.stats.refreshesOn401++;
          this.tokens.invalidate(token);
          log.info({ requestId }, 'access token refused; refreshing once');
          throw new AppError('AMAZON_TOKEN_REFUSED', `${what}: access token refused`, {
            retriable: true,
            retryAfterMs: 0,
          });
        }
        if (res.statusCode === 429) this.stats.throttled++;
        else if (res.statusCode >= 500) this.stats.serverErrors++;
        const err = errorFromResponse(
          res.statusCode,
          body,
          requestId,
          what,
          req.noRetryAfter ? null : parseRetryAfter(res.headers['retry-after'] as string | undefined),
        );
        log.warn(
          { status: res.statusCode, requestId, amazonCode: err.amazonCode, kind: err.kind, retriable: err.retriable },
          'amazon call failed',
        );
        throw err;
      },
      {
        maxAttempts: this.maxAttempts,
        backoff,
        sleep: this.sleep,
        onRetry: (err, attempt, delayMs) => {
          if ((err as AppError).code === 'AMAZON_TOKEN_REFUSED') return;
          this.stats.retries++;
          log.warn({ attempt, delayMs, code: (err as AppError).code }, 'retrying');
        },
      },
    );
  }

  private send(req: AdsRequest, token: string): Promise<Dispatcher.ResponseData> {
    const url = new URL(req.path, this.apiUrl);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (Array.isArray(v)) for (const one of v) url.searchParams.append(k, one);
      else if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': this.tokens.clientId,
      accept: req.accept ?? req.contentType ?? 'application/json',
      ...req.headers,
    };
    if (req.profileId) headers['amazon-advertising-api-scope'] = req.profileId;
    if (req.accountId) headers['amazon-ads-accountid'] = req.accountId;
    // Ads API v1 names its client-id header Amazon-Ads-ClientId (every operation requires it).
    if (req.accountId || req.path.startsWith('/adsApi/')) headers['amazon-ads-clientid'] = this.tokens.clientId;
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = req.contentType ?? 'application/json';
      body = JSON.stringify(req.body);
    }
    return request(url, {
      method: req.method,
      headers,
      body,
      dispatcher: this.dispatcher,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** v3-style pagination (POST …/list with nextToken / maxResults). Streams one page at a time. */
  listV3<T>(opts: {
    path: string;
    profileId: string;
    mediaType: string;
    /** When the answer's media type differs from the request's (SB v3 lists). */
    accept?: string;
    key: string;
    body?: Record<string, unknown>;
    maxResults?: number;
    onPage?: PageHook;
  }): AsyncGenerator<T> {
    return this.tokenPages<T>(opts, 'the response shape changed; check the media type version', (nextToken, page) =>
      this.call<Record<string, unknown>>({
        method: 'POST',
        path: opts.path,
        profileId: opts.profileId,
        contentType: opts.mediaType,
        accept: opts.accept ?? opts.mediaType,
        body: { ...opts.body, maxResults: opts.maxResults ?? 1000, ...(nextToken ? { nextToken } : {}) },
        what: `${opts.path} page ${page}`,
      }),
    );
  }

  /** Pages that carry their items under `key` and the next page's token as `nextToken`, until none comes back. */
  private async *tokenPages<T>(
    opts: { path: string; key: string; onPage?: PageHook },
    hint: string,
    fetchPage: (nextToken: string | undefined, page: number) => Promise<AdsResponse<Record<string, unknown>>>,
  ): AsyncGenerator<T> {
    let nextToken: string | undefined;
    let page = 0;
    do {
      const res = await fetchPage(nextToken, page);
      const items = res.body[opts.key];
      if (!Array.isArray(items))
        throw new AmazonApiError('bad_request', `${opts.path} answered without "${opts.key}"`, {
          status: res.status,
          requestId: res.requestId,
          body: res.body,
          hint,
        });
      opts.onPage?.({ requestId: res.requestId, count: items.length });
      for (const item of items) yield item as T;
      nextToken = typeof res.body.nextToken === 'string' && res.body.nextToken ? res.body.nextToken : undefined;
      page++;
    } while (nextToken);
  }

  /** v2-style pagination (GET with startIndex / count); the last page is shorter than count. */
  async *listV2<T>(opts: {
    path: string;
    profileId: string;
    accept?: string;
    query?: Record<string, string | undefined>;
    count?: number;
    onPage?: PageHook;
  }): AsyncGenerator<T> {
    const count = opts.count ?? 1000;
    for (let startIndex = 0; ; startIndex += count) {
      const res = await this.call<unknown[]>({
        method: 'GET',
        path: opts.path,
        profileId: opts.profileId,
        query: { ...opts.query, startIndex, count },
        accept: opts.accept,
        what: `${opts.path} from ${startIndex}`,
      });
      if (!Array.isArray(res.body))
        throw new AmazonApiError('bad_request', `${opts.path} answered with a non-array`, {
          status: res.status,
          requestId: res.requestId,
          body: res.body,
          hint: 'the response shape changed',
        });
      opts.onPage?.({ requestId: res.requestId, count: res.body.length });
      for (const item of res.body) yield item as T;
      if (res.body.length < count) return;
    }
  }

  /** GET with pageSize / nextToken (budget rules); pages until no nextToken comes back. */
  listPageSize<T>(opts: {
    path: string;
    profileId: string;
    key: string;
    pageSize: number;
    onPage?: PageHook;
  }): AsyncGenerator<T> {
    return this.tokenPages<T>(opts, 'the response shape changed', (nextToken, page) =>
      this.call<Record<string, unknown>>({
        method: 'GET',
        path: opts.path,
        profileId: opts.profileId,
        query: { pageSize: opts.pageSize, ...(nextToken ? { nextToken } : {}) },
        what: `${opts.path} page ${page}`,
      }),
    );
  }

  /** A presigned download (S3): no Amazon auth headers, retried on network errors and 5xx. */
  async download(
    url: string,
    what = 'report download',
  ): Promise<{ status: number; body: Readable; size: number | null }> {
    return retry(
      async () => {
        let res: Dispatcher.ResponseData;
        try {
          res = await outboundRequest(url, this.downloads, { timeoutMs: this.timeoutMs });
        } catch (err) {
          if (err instanceof OutboundRefusedError)
            throw new AmazonApiError('bad_request', `${what}: ${err.message}`, {
              hint: 'the answer named a download URL outside Amazon S3; it is not fetched',
              cause: err,
            });
          throw new AmazonApiError('network', `${what} failed: ${(err as Error).message}`, {
            hint: 'network trouble after every retry',
            cause: err,
          });
        }
        if (res.statusCode === 200)
          return { status: 200, body: res.body, size: Number(res.headers['content-length'] ?? NaN) || null };
        const text = await res.body.text();
        const expired = /Request has expired|AccessDenied/.test(text);
        throw new AmazonApiError(
          expired ? 'url_expired' : res.statusCode >= 500 ? 'server' : 'bad_request',
          `${what} answered ${res.statusCode}: ${text.slice(0, 200)}`,
          {
            status: res.statusCode,
            hint: expired
              ? 'the presigned URL expired; fetch the report status again for a fresh URL'
              : 'the download failed',
          },
        );
      },
      { maxAttempts: this.maxAttempts, backoff: this.backoff, sleep: this.sleep },
    );
  }
}

async function readErrorBody(res: Dispatcher.ResponseData): Promise<unknown> {
  const text = await res.body.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
