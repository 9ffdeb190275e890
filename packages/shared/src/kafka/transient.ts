/**
 * Which failures are worth retrying. Dependency hiccups (connection refused,
 * timeouts, a server saying "try later") can succeed on a later attempt; a bad
 * payload never will, so it goes to the dead-letter topic at once.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  '57P01', '57P03', '53300', '40001', '40P01', // postgres: admin shutdown, cannot connect now, too many connections, serialization, deadlock
]);

export class PermanentError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if ((err as { permanent?: boolean }).permanent) return false;
  const e = err as { code?: unknown; retriable?: boolean; name?: string; cause?: unknown; message?: string };
  if (e.retriable === true) return true; // kafkajs marks its own retriable errors
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  if (typeof e.message === 'string' && /timeout|timed out|socket hang up|Connection terminated/i.test(e.message)) return true;
  return e.cause ? isTransient(e.cause) : false;
}
