/**
 * One error model. Every error adsync raises says, in two fields a machine can
 * read, what it is (`code`, stable and searchable: ADSYNC_*, AMAZON_*, SUPPLIER_*)
 * and whether trying again can help (`retriable`). Retries, consumers and queues
 * decide from these two fields only.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  /** How long the other side asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | null;
  /** The HTTP status an API answers when this reaches it (a 4xx for what the caller can fix); 500 otherwise. */
  readonly httpStatus: number | null;
  constructor(
    code: string,
    message: string,
    opts: { retriable: boolean; retryAfterMs?: number | null; cause?: unknown; httpStatus?: number },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retriable = opts.retriable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.httpStatus = opts.httpStatus ?? null;
  }
}

/** A failure that no retry can fix (bad input, a missing record, refused access). */
export class PermanentError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ADSYNC_PERMANENT', message, { retriable: false, cause: options?.cause });
    this.name = 'PermanentError';
  }
}

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
]);

const TRANSIENT_MESSAGE =
  /timeout|timed out|socket hang up|Connection terminated|connect ECONNREFUSED|Knex: Timeout acquiring a connection|Client network socket disconnected/i;

/** Whether another attempt can succeed: our own errors say so; others are judged by their connection-level codes. */
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
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
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
  const e = err as { code?: unknown; name?: string; cause?: unknown; message?: string };
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  if (
    e.name === 'KafkaJSConnectionError' ||
    e.name === 'KafkaJSNumberOfRetriesExceeded' ||
    e.name === 'KafkaJSRequestTimeoutError'
  )
    return true;
  return e.cause ? isDependencyOutage(e.cause) : false;
}

/** The stable code of any error, for logs, dead letters and metrics. */
export function errorCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c ? c : 'ADSYNC_UNEXPECTED';
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
