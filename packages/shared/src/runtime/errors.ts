/**
 * One error model. Every error adsync raises says, in two fields a machine can
 * read, what it is (`code`, stable and searchable: ADSYNC_*, AMAZON_*, SUPPLIER_*)
 * and whether trying again can help (`retriable`). Retries, consumers and queues
 * decide from these two fields only; an API answers by `code` (HTTP_ANSWERS).
 */
export class AppError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  /** How long the other side asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | null;
  /** The specifics an API answer carries (which field, which account); the code when none are given. */
  readonly details: unknown;
  constructor(
    code: string,
    message: string,
    opts: { retriable: boolean; retryAfterMs?: number | null; cause?: unknown; details?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retriable = opts.retriable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.details = opts.details === undefined ? { code } : opts.details;
  }
}

/**
 * The one mapping from an error's code to what an API answers: its HTTP status and the
 * `error` name of the body. A code not here is ours to fix: 500.
 */
export const HTTP_ANSWERS: Record<string, { status: number; error: string }> = {
  ADSYNC_BAD_REQUEST: { status: 400, error: 'bad_request' },
  ADSYNC_UNAUTHORIZED: { status: 401, error: 'unauthorized' },
  ADSYNC_FORBIDDEN: { status: 403, error: 'forbidden' },
  ADSYNC_NOT_FOUND: { status: 404, error: 'not_found' },
  ADSYNC_CONFLICT: { status: 409, error: 'conflict' },
  ADSYNC_PAYLOAD_TOO_LARGE: { status: 413, error: 'payload_too_large' },
  ADSYNC_NO_CREDENTIALS: { status: 409, error: 'conflict' },
  ADSYNC_SYNC_RUNNING: { status: 409, error: 'conflict' },
  // Amazon refusing what the account gave us (credentials, a profile it may not use, a request
  // it calls invalid) is about the account's data: a 4xx that says what to fix. Only Amazon
  // being down or throttling us is a 5xx (503: try again later).
  AMAZON_AUTH: { status: 409, error: 'upstream_refused' },
  AMAZON_FORBIDDEN: { status: 409, error: 'upstream_refused' },
  AMAZON_NOT_FOUND: { status: 409, error: 'upstream_refused' },
  AMAZON_BAD_REQUEST: { status: 400, error: 'upstream_error' },
  AMAZON_DUPLICATE: { status: 502, error: 'upstream_error' },
  AMAZON_URL_EXPIRED: { status: 502, error: 'upstream_error' },
  AMAZON_THROTTLED: { status: 503, error: 'upstream_unavailable' },
  AMAZON_SERVER: { status: 503, error: 'upstream_unavailable' },
  AMAZON_NETWORK: { status: 503, error: 'upstream_unavailable' },
};

export const httpAnswerOf = (err: AppError): { status: number; error: string } =>
  HTTP_ANSWERS[err.code] ?? { status: 500, error: 'internal' };

/** A failure that no retry can fix (bad input, a missing record, refused access). */
export class PermanentError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ADSYNC_PERMANENT', message, { retriable: false, cause: options?.cause });
    this.name = 'PermanentError';
  }
}

/** Stopped on purpose (a shutdown): worth taking up again, by this process or another. */
export class InterruptedError extends AppError {
  constructor(message: string) {
    super('ADSYNC_INTERRUPTED', message, { retriable: true });
    this.name = 'InterruptedError';
  }
}

/**
 * One of our own servers dropped or never answered a request, as its driver reports that: a
 * bare `Error` with no code (node-postgres's "Connection terminated unexpectedly", the ClickHouse
 * client's "Timeout error."). The drivers' edges (db/postgres.ts, db/clickhouse.ts) turn those
 * into this, so the decision rests on the error's type, never on its wording.
 */
export class DependencyUnavailableError extends AppError {
  constructor(server: string, cause: unknown) {
    super('ADSYNC_DEPENDENCY_UNAVAILABLE', `${server} is unavailable: ${errorMessage(cause)}`, {
      retriable: true,
      cause,
    });
    this.name = 'DependencyUnavailableError';
  }
}

/** What a driver raised, as our error model reads it: a bare codeless `Error` is the server going away. */
export function classifyDriverError(server: string, err: unknown): unknown {
  const bare =
    err instanceof Error && err.constructor === Error && typeof (err as { code?: unknown }).code !== 'string';
  return bare ? new DependencyUnavailableError(server, err) : err;
}

/** Names of driver error classes that mean the server is unreachable (their own types, not their messages). */
const UNREACHABLE_TYPES = new Set([
  'KnexTimeoutError',
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
]);

/**
 * Connection-level trouble with a server: worth another try. Postgres' codes are
 * admin shutdown, cannot connect now, too many connections, serialization and deadlock.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  // ClickHouse's own: TIMEOUT_EXCEEDED, SOCKET_TIMEOUT, NETWORK_ERROR.
  '159',
  '209',
  '210',
]);

/** Whether another attempt can succeed: our own errors say so; others are judged by their codes and types. */
export function isRetriable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err instanceof AppError) return err.retriable;
  const e = err as {
    code?: unknown;
    retriable?: boolean;
    permanent?: boolean;
    name?: string;
    cause?: unknown;
    message?: string;
  };
  if (e.permanent === true) return false;
  if (e.retriable === true) return true; // kafkajs marks its own retriable errors
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || UNREACHABLE_TYPES.has(e.name ?? '')) return true;
  return e.cause ? isRetriable(e.cause) : false;
}

/**
 * Whether an error means one of our own servers (Postgres, ClickHouse, Kafka, the
 * registry) is unreachable, rather than something about the work itself. Work that
 * fails this way is waited for, never dead-lettered: the work is fine, the server will be back.
 */
export function isDependencyOutage(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err instanceof AppError) return err.code === 'ADSYNC_DEPENDENCY_UNAVAILABLE';
  const e = err as { code?: unknown; name?: string; cause?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (UNREACHABLE_TYPES.has(e.name ?? '')) return true;
  return e.cause ? isDependencyOutage(e.cause) : false;
}

/** The stable code of any error, for logs, dead letters and metrics. */
export function errorCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c ? c : 'ADSYNC_UNEXPECTED';
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
