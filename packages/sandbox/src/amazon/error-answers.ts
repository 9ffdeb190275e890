/**
 * Amazon's refusals, in the shape each operation's model declares for the status.
 * The shape is read off the declared schema, so one rule serves every family:
 *  - `{code: "<status>", detail}` (Reporting v3, AsyncReportingError);
 *  - `{code, details}` (the universal format of en-us/reference/concepts/errors.md:
 *    SD, SB v3, budget rules, profiles);
 *  - `{message, errorCode?}` (Exports, UniversalApiError);
 *  - `{code: <the status's enum value>, message, errors?}` (the Smithy-generated SP v3,
 *    Portfolios and SB v4 models), whose `errors[].errorValue` names the kind of
 *    problem with a reason from the model's own enum;
 *  - `{code, message}` (Marketing Stream);
 *  - `{code: "<status>", details}` (Amazon Attribution's MaaSError: "The HTTP status code of the response").
 * A status the operation's model does not list (errors.md allows 401, 403, 404, 406,
 * 415, 422, 429 and 5xx on any call) is written in its model's family shape.
 */
import { randomUUID } from 'node:crypto';
import { deref, modelDocument, resolvePointer, type ModelName } from '@adsync/amazon-models/models';
import { declaredResponse, isJsonMediaType, type ModelOperation } from '@adsync/amazon-models/operations';
import { mediaTypeOf, type RequestProblem } from '@adsync/amazon-models/validate';

/** A refusal in our terms; the writer turns it into the model's words. */
export interface Problem {
  message: string;
  /** The JSON Schema keyword that refused the request ("required", "enum", …), or "token" / "notFound". */
  keyword?: string;
  /** "$.stateFilter.include[0]", "query.count". */
  location?: string;
  trigger?: string;
  allowed?: string[];
  /** For not-found refusals of the Smithy models. */
  entity?: { id: string; type: string };
}

export const fromRequestProblem = (p: RequestProblem): Problem => ({
  message: p.message,
  keyword: p.keyword,
  location: p.location,
  ...(p.trigger !== undefined ? { trigger: p.trigger } : {}),
  ...(p.allowed ? { allowed: p.allowed } : {}),
});

export interface Answer {
  status: number;
  contentType: string | null;
  /** None where the model lists the status without a body. */
  body: Record<string, unknown> | undefined;
}

/** Statuses errors.md says any call may answer, whatever its model lists. */
export const UNIVERSAL_STATUSES = [400, 401, 403, 404, 406, 415, 422, 429, 500, 502, 503, 504];

type Shape = 'reporting' | 'universal' | 'exports' | 'smithy' | 'stream' | 'dsp' | 'v1' | 'maas';

/** How each model writes errors at statuses its operations do not list. */
const FAMILY: Record<ModelName, Shape> = {
  SponsoredProducts: 'smithy',
  Portfolios: 'smithy',
  SponsoredBrandsV4: 'smithy',
  OfflineReport: 'reporting',
  MarketingStream: 'stream',
  // Exports' own {message} has no code; at a status its model does not list, errors.md's format.
  Exports: 'universal',
  SponsoredBrandsV3: 'universal',
  SponsoredDisplay: 'universal',
  Profiles: 'universal',
  DspAdvertisers: 'dsp',
  // Its errors carry no body in the model: errors.md's format.
  ManagerAccounts: 'universal',
  AdsApiV1: 'v1',
  // MaaSError: {code, details}, the code being the status ("200", "400", …) as its model says.
  Attribution: 'maas',
};

/** Ads API v1's one ErrorCode enum, by status (its 4xx and 5xx answers share it). */
const V1_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'CONTENT_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_ERROR',
};

/** Codes the universal format and the Smithy enums use (SponsoredProducts_prod_3p's *ErrorCode enums). */
const CODE_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'ACCESS_DENIED',
  404: 'NOT_FOUND',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  425: 'TOO_EARLY',
  429: 'THROTTLED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

type Schema = Record<string, unknown>;
const props = (s: Schema) => (s.properties as Record<string, unknown> | undefined) ?? {};

function shapeOf(doc: unknown, schema: Schema): Shape {
  const p = props(schema);
  if ('detail' in p) return 'reporting';
  if ('requestId' in p) return 'dsp';
  if ('details' in p) return 'universal';
  if ('errorCode' in p) return 'exports';
  if ('code' in p && Array.isArray(deref<Schema>(doc, p.code).enum)) return 'smithy';
  if ('code' in p && 'message' in p) return 'stream';
  return 'universal';
}

/** The answer Amazon gives when it refuses this operation's request with this status. */
export function errorAnswer(op: ModelOperation | null, status: number, problem: Problem): Answer {
  const declared = op ? declaredResponse(op, status) : null;
  // The model lists the status with no body (ManagerAccounts' errors): none is sent.
  if (declared && declared.content.length === 0) return { status, contentType: null, body: undefined };
  const media = declared?.content.find((c) => c.schemaPointer) ?? null;
  if (op && media) {
    const doc = modelDocument(op.model);
    const schema = deref<Schema>(doc, resolvePointer(doc, media.schemaPointer!));
    const family = FAMILY[op.model];
    const shape = family === 'v1' || family === 'maas' ? family : shapeOf(doc, schema);
    return { status, contentType: media.mediaType, body: write(shape, status, problem, doc, schema) };
  }
  const shape = op ? undeclaredShape(op) : 'universal';
  const contentType = declared?.content[0]?.mediaType ?? 'application/json';
  return { status, contentType, body: write(shape, status, problem, null, null) };
}

/** At a status its model does not list, an operation answers in the shape of its own 400 if that one has a code, else its family's. */
function undeclaredShape(op: ModelOperation): Shape {
  if (FAMILY[op.model] === 'maas') return 'maas';
  const media = declaredResponse(op, 400)?.content.find((c) => c.schemaPointer);
  if (media) {
    const doc = modelDocument(op.model);
    const shape = shapeOf(doc, deref<Schema>(doc, resolvePointer(doc, media.schemaPointer!)));
    if (shape !== 'exports') return shape;
  }
  return FAMILY[op.model];
}

function write(shape: Shape, status: number, problem: Problem, doc: unknown, schema: Schema | null): Schema {
  switch (shape) {
    case 'reporting':
      // "Required fields are invalid or missing: configuration adProduct" (amzn/ads-advanced-tools-docs#231).
      return {
        code: String(status),
        detail:
          (problem.keyword === 'required' || problem.keyword === 'type') && problem.location?.startsWith('$.')
            ? `Required fields are invalid or missing: ${problem.location.slice(2).replace(/\./g, ' ')}`
            : problem.message,
      };
    case 'universal':
      return { code: CODE_NAMES[status] ?? String(status), details: problem.message };
    case 'exports':
      return status >= 500 ? { errorCode: 'INTERNAL_ERROR', message: problem.message } : { message: problem.message };
    case 'stream':
      return { code: String(status), message: problem.message };
    case 'maas':
      return { code: String(status), details: problem.message };
    case 'v1':
      return { code: V1_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'), message: problem.message };
    case 'dsp': {
      // DspErrorV1, as the DSP models' examples write it: a parameter it refuses named in `errors`.
      const at = /^(query|path)\.(.+)$/.exec(problem.location ?? '');
      // The model's 422 example: "Validation Error" on top, what was wrong in errors[].message.
      const body: Schema = {
        message: status === 422 && at ? 'Validation Error' : problem.message,
        requestId: randomUUID(),
      };
      if (at)
        body.errors = [
          {
            errorType: at[1] === 'query' ? 'DSP_INVALID_QUERY_PARAM' : 'DSP_INVALID_PATH_PARAM',
            field: at[2],
            message: problem.message,
          },
        ];
      return body;
    }
    case 'smithy': {
      const codeSchema = schema ? deref<Schema>(doc, props(schema).code) : null;
      const code = (codeSchema?.enum as string[] | undefined)?.[0] ?? CODE_NAMES[status] ?? String(status);
      const body: Schema = { code, message: problem.message };
      if (schema && 'errors' in props(schema) && problem.location) {
        const item = deref<Schema>(doc, deref<Schema>(doc, props(schema).errors).items);
        const selector = deref<Schema>(doc, props(item).errorValue);
        const detail = selectorEntry(doc, selector, problem);
        if (detail) body.errors = [{ errorType: detail.key, errorValue: { [detail.key]: detail.value } }];
      }
      return body;
    }
  }
}

/** Which error of a Smithy selector a problem is, with a reason its enum allows. */
const KINDS: { keywords: string[]; key: string; reasons: string[] }[] = [
  { keywords: ['required'], key: 'missingValueError', reasons: ['MISSING_VALUE'] },
  { keywords: ['enum'], key: 'rangeError', reasons: ['INVALID_ENUM_VALUE', 'NOT_IN_LIST'] },
  { keywords: ['maximum', 'maxItems', 'exclusiveMaximum'], key: 'rangeError', reasons: ['TOO_HIGH'] },
  { keywords: ['minimum', 'minItems', 'exclusiveMinimum'], key: 'rangeError', reasons: ['TOO_LOW'] },
  { keywords: ['maxLength'], key: 'malformedValueError', reasons: ['TOO_LONG'] },
  { keywords: ['minLength'], key: 'malformedValueError', reasons: ['TOO_SHORT'] },
  { keywords: ['pattern', 'format'], key: 'malformedValueError', reasons: ['PATTERN_NOT_MATCHED'] },
  { keywords: ['token'], key: 'invalidInputError', reasons: ['INVALID_TOKEN'] },
  { keywords: ['notFound'], key: 'entityNotFoundError', reasons: ['ENTITY_NOT_FOUND'] },
];

function selectorEntry(doc: unknown, selector: Schema, problem: Problem): { key: string; value: Schema } | null {
  const available = props(selector);
  const kind = KINDS.find((k) => k.keywords.includes(problem.keyword ?? ''));
  const key = kind && kind.key in available ? kind.key : 'otherError' in available ? 'otherError' : null;
  if (!key) return null;
  const errorSchema = deref<Schema>(doc, available[key]);
  const reasonSchema = deref<Schema>(doc, props(errorSchema).reason ?? {});
  const allowedReasons = (reasonSchema.enum as string[] | undefined) ?? null;
  const reason =
    (kind && key === kind.key ? kind.reasons.find((r) => !allowedReasons || allowedReasons.includes(r)) : null) ??
    allowedReasons?.[0] ??
    'OTHER_ERROR';
  const value: Schema = {
    reason,
    message: problem.message,
    cause: {
      location: problem.location ?? '$',
      ...(problem.trigger !== undefined ? { trigger: problem.trigger } : {}),
    },
  };
  const errorProps = props(errorSchema);
  if ('allowed' in errorProps && problem.allowed) value.allowed = problem.allowed.slice(0, 100);
  if ('entityId' in errorProps) value.entityId = problem.entity?.id ?? problem.trigger ?? '';
  if ('entityType' in errorProps) {
    const types = (deref<Schema>(doc, errorProps.entityType).enum as string[] | undefined) ?? [];
    value.entityType = types.includes(problem.entity?.type ?? '') ? problem.entity!.type : (types[0] ?? 'UNKNOWN');
  }
  return { key, value };
}

/**
 * Whether an error answer at a status the operation does not list is one errors.md
 * allows: a listed status, a JSON media type, and a body with a string `code` and a human text.
 */
export function undeclaredErrorProblems(status: number, body: Buffer, contentType: unknown): string[] {
  if (!UNIVERSAL_STATUSES.includes(status))
    return [`status ${status} is neither in the operation's model nor among errors.md's statuses`];
  if (!isJsonMediaType(mediaTypeOf(contentType)) || mediaTypeOf(contentType) === '*/*')
    return [`Content-Type ${String(contentType ?? '(none)')} is not JSON (errors.md answers JSON)`];
  try {
    const b = JSON.parse(body.toString('utf8')) as Schema;
    const text = [b.details, b.detail, b.message].some((x) => typeof x === 'string');
    return typeof b.code === 'string' && text ? [] : ['the error body has no string code and text (errors.md)'];
  } catch {
    return ['the error body is not JSON'];
  }
}
