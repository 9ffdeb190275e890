import { AppError } from '../runtime/errors.ts';

/**
 * Every error an adsync API answers has the same body: `{ error, message, details }`.
 * `error` is a stable machine code, `message` says what to do, `details` carries
 * the specifics (which field, which account).
 */
export interface ErrorBody {
  error: string;
  message: string;
  details: unknown;
}

/** What a request got wrong (or may not do): an AppError whose code says which answer (HTTP_ANSWERS). */
export class HttpError extends AppError {
  constructor(code: string, message: string, details: unknown = null) {
    super(code, message, { retriable: false, details });
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details: unknown = null) =>
  new HttpError('ADSYNC_BAD_REQUEST', message, details);
export const unauthorized = (message: string) => new HttpError('ADSYNC_UNAUTHORIZED', message);
export const forbidden = (message: string, details: unknown = null) =>
  new HttpError('ADSYNC_FORBIDDEN', message, details);
export const notFound = (message: string, details: unknown = null) =>
  new HttpError('ADSYNC_NOT_FOUND', message, details);
export const conflict = (message: string, details: unknown = null) =>
  new HttpError('ADSYNC_CONFLICT', message, details);
export const payloadTooLarge = (message: string, details: unknown = null) =>
  new HttpError('ADSYNC_PAYLOAD_TOO_LARGE', message, details);

/**
 * Postgres refusing a value is the client's input reaching the database unchecked;
 * it answers 4xx, never 500. Validation and ownership checks are the first line —
 * this is the net under them.
 */
export function fromDatabaseError(err: unknown): HttpError | null {
  const e = err as { code?: unknown; detail?: unknown; constraint?: unknown } | null;
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  const detail = typeof e.detail === 'string' ? e.detail : null;
  switch (e.code) {
    case '23503': // foreign_key_violation
      return notFound('a record this request names does not exist', { constraint: e.constraint ?? null, detail });
    case '23505': // unique_violation
      return conflict('a record with these values already exists', { constraint: e.constraint ?? null });
    case '22P02': // invalid_text_representation
    case '22021': // character_not_in_repertoire
    case '22007': // invalid_datetime_format
    case '22008': // datetime_field_overflow
    case '22003': // numeric_value_out_of_range
    case '22001': // string_data_right_truncation
    case '54000': // program_limit_exceeded (e.g. an index row too large)
      return badRequest('a value in this request cannot be stored as given', { code: e.code });
    default:
      return null;
  }
}

/** JSON schema of the error body, for the OpenAPI document. */
export const errorBodySchema = {
  type: 'object',
  required: ['error', 'message', 'details'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: {},
  },
} as const;

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns Ajv's validation output into "body.profileId: must be string" lines a user can act on. */
export function describeValidation(
  context: string,
  issues: AjvIssue[],
): { message: string; details: { path: string; problem: string }[] } {
  const details = issues.map((i) => {
    const base = `${context}${i.instancePath ? i.instancePath.replaceAll('/', '.') : ''}`;
    const missing = i.params?.missingProperty as string | undefined;
    const extra = i.params?.additionalProperty as string | undefined;
    const allowed = i.params?.allowedValues as unknown[] | undefined;
    const path = missing ? `${base}.${missing}` : extra ? `${base}.${extra}` : base;
    let problem = i.message ?? 'is invalid';
    if (extra) problem = 'is not an accepted field';
    if (allowed) problem = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    return { path, problem };
  });
  return { message: details.map((d) => `${d.path} ${d.problem}`).join('; '), details };
}
