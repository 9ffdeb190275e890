/**
 * Typed Amazon errors, on the one error model (runtime/errors.ts): `code` is ours
 * and stable (AMAZON_THROTTLED, AMAZON_FORBIDDEN, …), `amazonCode` is what Amazon
 * wrote. Each says what the caller (or a human) should do next, and carries
 * Amazon's request id so a support ticket can name the exact call.
 */
import { AppError } from '../runtime/errors.ts';

export type AmazonErrorKind =
  'auth' | 'forbidden' | 'throttled' | 'not_found' | 'bad_request' | 'duplicate' | 'server' | 'network' | 'url_expired';

export class AmazonApiError extends AppError {
  readonly kind: AmazonErrorKind;
  readonly status: number | null;
  /** Amazon's own error code (e.g. UNAUTHORIZED, INVALID_ARGUMENT), when it sent one. */
  readonly amazonCode: string | null;
  readonly requestId: string | null;
  readonly body: unknown;
  readonly hint: string;
  constructor(
    kind: AmazonErrorKind,
    message: string,
    opts: {
      status?: number | null;
      amazonCode?: string | null;
      requestId?: string | null;
      body?: unknown;
      hint: string;
      cause?: unknown;
      retryAfterMs?: number | null;
    },
  ) {
    const retriable = kind === 'throttled' || kind === 'server' || kind === 'network';
    super(`AMAZON_${kind.toUpperCase()}`, `${message} — ${opts.hint}`, {
      retriable,
      retryAfterMs: opts.retryAfterMs,
      cause: opts.cause,
      details: {
        kind,
        upstreamStatus: opts.status ?? null,
        amazonRequestId: opts.requestId ?? null,
        retry: retriable,
      },
    });
    this.name = 'AmazonApiError';
    this.kind = kind;
    this.status = opts.status ?? null;
    this.amazonCode = opts.amazonCode ?? null;
    this.requestId = opts.requestId ?? null;
    this.body = opts.body;
    this.hint = opts.hint;
  }
  /** Bad input and missing access never succeed on retry. */
  get permanent(): boolean {
    return !this.retriable;
  }
}

function describe(body: unknown): { code: string | null; detail: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const code = (b.code ?? b.error ?? null) as string | null;
    const detail = String(b.details ?? b.detail ?? b.message ?? b.error_description ?? '');
    return { code: code === null ? null : String(code), detail };
  }
  return { code: null, detail: typeof body === 'string' ? body.slice(0, 300) : '' };
}

/**
 * A 401 about the profile scope ("Not authorized to access scope", "No matching
 * advertiser found for scope": en-us/reference/concepts/errors.md), or in the same words about
 * the DSP advertiser of Amazon-Ads-AccountId, is about that resource, not the token: refreshing
 * cannot help, and the account's other profiles and advertisers are fine.
 */
export function isScopeRefusal(status: number, body: unknown): boolean {
  return (
    status === 401 &&
    /^(not authorized to access (scope|account)|no matching advertiser found for scope)\b/i.test(
      describe(body).detail.trim(),
    )
  );
}

export function errorFromResponse(
  status: number,
  body: unknown,
  requestId: string | null,
  what: string,
  retryAfterMs: number | null = null,
): AmazonApiError {
  const { code, detail } = describe(body);
  const msg = `${what} answered ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`;
  const o = { status, amazonCode: code, requestId, body, retryAfterMs };
  if (isScopeRefusal(status, body))
    return new AmazonApiError('forbidden', msg, {
      ...o,
      hint: "these credentials cannot access this profile; check the profile id, its region and the account's permissions",
    });
  if (status === 401)
    return new AmazonApiError('auth', msg, {
      ...o,
      hint: 'the access token was refused after a refresh; re-authorise the account (its refresh token may be revoked)',
    });
  if (status === 403)
    return new AmazonApiError('forbidden', msg, {
      ...o,
      hint: "these credentials cannot access this profile; check the profile id and the account's permissions",
    });
  if (status === 404)
    return new AmazonApiError('not_found', msg, {
      ...o,
      hint: 'the resource does not exist (or no longer); check the id',
    });
  if (status === 425)
    return new AmazonApiError('duplicate', msg, {
      ...o,
      hint: 'an identical request is still in progress; use the id Amazon names',
    });
  if (status === 429)
    return new AmazonApiError('throttled', msg, {
      ...o,
      hint: 'rate limited after every retry; lower concurrency or spread the work over time',
    });
  if (status >= 500)
    return new AmazonApiError('server', msg, { ...o, hint: 'Amazon failed after every retry; try again later' });
  return new AmazonApiError('bad_request', msg, { ...o, hint: 'the request is invalid; fix it before retrying' });
}

/** Login with Amazon refused or failed a token grant. 429 and 5xx are worth retrying; a refused grant never is. */
export class LwaError extends AmazonApiError {
  constructor(
    status: number,
    body: unknown,
    retryAfterMs: number | null = null,
    grant: 'refresh_token' | 'authorization_code' = 'refresh_token',
  ) {
    const { code, detail } = describe(body);
    const revoked = code === 'invalid_grant';
    const transient = status === 429 || status >= 500;
    const what = grant === 'refresh_token' ? 'the refresh token' : 'the authorization code';
    super(
      transient ? (status === 429 ? 'throttled' : 'server') : 'auth',
      `Login with Amazon refused ${what} (${status} ${code ?? ''}${detail ? `: ${detail}` : ''})`,
      {
        status,
        amazonCode: code,
        body,
        retryAfterMs,
        hint: transient
          ? 'Login with Amazon is busy or failing; retried with backoff'
          : revoked
            ? grant === 'refresh_token'
              ? 'the refresh token is revoked or expired; the account must authorise adsync again'
              : 'an authorization code works once and for 5 minutes; start the connection again'
            : code === 'invalid_client'
              ? "the client id or client secret is wrong; check the account's credentials"
              : "check the account's credentials",
      },
    );
    this.name = 'LwaError';
  }
}
