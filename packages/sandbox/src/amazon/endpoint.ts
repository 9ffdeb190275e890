/**
 * One declaration per Amazon endpoint the sandbox plays: method, path, the media
 * types Amazon accepts, the body and query schema, the error family it answers
 * in, and the page of Amazon's docs it follows. A single pipeline then does what
 * Amazon's front door does, in its order — authorisation, profile scope, media
 * type, JSON, schema — so a malformed request gets Amazon's 4xx, never a 5xx, and
 * the same declarations produce the OpenAPI document the fuzzer runs from.
 */
import type { ServerResponse } from 'node:http';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { route, send, type Req, type Route } from '../http-kit.ts';
import type { SandboxState } from '../state.ts';

/**
 * How an API family writes errors:
 *  - gateway/legacy (profiles, SD, SB v3, budget rules, exports): {code, details}
 *    (en-us/reference/concepts/errors.md, "universal format");
 *  - spV3 (SP v3, Portfolios v3, SB v4 lists): {code, message, errors?} (SponsoredProducts_prod_3p);
 *  - reporting: {code: "<status>", detail} (offline-report-prod-3p, AsyncReportingError).
 */
export type ErrorFamily = 'legacy' | 'spV3' | 'reporting';

const CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'ACCESS_DENIED',
  404: 'NOT_FOUND',
  406: 'NOT_ACCEPTABLE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  425: 'TOO_EARLY',
  429: 'THROTTLED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
};

export function errorBody(
  family: ErrorFamily,
  status: number,
  message: string,
  cause?: { location: string; trigger?: string },
): Record<string, unknown> {
  if (family === 'reporting') return { code: String(status), detail: message };
  if (family === 'spV3') {
    const body: Record<string, unknown> = { code: CODES[status] ?? String(status), message };
    if (status === 400 && cause)
      body.errors = [
        {
          errorType: 'malformedValueError',
          errorValue: { malformedValueError: { reason: 'INVALID_VALUE', message, cause } },
        },
      ];
    return body;
  }
  return { code: CODES[status] ?? String(status), details: message };
}

export function sendError(
  res: ServerResponse,
  family: ErrorFamily,
  status: number,
  message: string,
  cause?: { location: string; trigger?: string },
): void {
  send(res, status, errorBody(family, status, message, cause));
}

export type JsonSchema = Record<string, unknown>;

export interface Ctx {
  req: Req;
  res: ServerResponse;
  state: SandboxState;
  /** The profile named by Amazon-Advertising-API-Scope (null for endpoints above profile level). */
  profile: number | null;
  profileId: string | null;
  body: unknown;
  query: Record<string, string>;
  fail(status: number, message: string): void;
  ok(body: unknown, contentType?: string, status?: number): void;
}

export interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with {placeholders}. */
  path: string;
  summary: string;
  /** The page of Amazon's docs this follows (idealerror/amazon-ads-api-docs path, or the reference name). */
  doc: string;
  family: ErrorFamily;
  /** Needs Amazon-Advertising-API-Scope naming an accessible profile (default true). */
  scope?: boolean;
  /** Content-Type values Amazon accepts for the body, compared case-insensitively (RFC 6838); 'any' skips the check. */
  contentTypes?: string[] | 'any';
  /** The media type of the answer (also sent as Content-Type). */
  produces?: string;
  body?: JsonSchema;
  /** A body the handler checks itself (Amazon's own wording); described here for the OpenAPI document only. */
  bodyDoc?: JsonSchema;
  /** Query parameters, each a JSON schema of its string value. */
  query?: Record<string, JsonSchema>;
  /** The request body is optional (Amazon treats a missing body as {}). */
  optionalBody?: boolean;
  handle(ctx: Ctx): void | Promise<void>;
}

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
const compiled = new WeakMap<object, ValidateFunction>();
function validator(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** "$.stateFilter.include" plus a sentence, from Ajv's first error. */
function describe(err: ErrorObject, root: string): { location: string; message: string } {
  const path = err.instancePath.split('/').filter(Boolean).join('.');
  const missing = (err.params as { missingProperty?: string }).missingProperty;
  const location = `${root}${path ? `.${path}` : ''}${missing ? `.${missing}` : ''}`;
  const allowed = (err.params as { allowedValues?: unknown[] }).allowedValues;
  const what = allowed
    ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`
    : missing
      ? 'is required'
      : (err.message ?? 'is invalid');
  return { location, message: `${location.replace(/^\$\.?/, '') || 'request body'} ${what}` };
}

const mediaType = (h: unknown) =>
  String(h ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

export interface Authorised {
  profile: number | null;
  profileId: string | null;
}

/** Turns declarations into routes. `authorise` plays Amazon's gateway (token, client id, scope). */
export function endpointRoutes(
  state: SandboxState,
  endpoints: Endpoint[],
  authorise: (req: Req, res: ServerResponse, needScope: boolean) => Authorised | false,
): Route[] {
  return endpoints.map((ep) => {
    const r = route(ep.method, ep.path, async (req, res) => {
      const who = authorise(req, res, ep.scope !== false);
      if (who === false) return;
      const fail = (status: number, message: string, cause?: { location: string; trigger?: string }) =>
        sendError(res, ep.family, status, message, cause);
      let body: unknown = undefined;
      if (ep.body || ep.method === 'POST' || ep.method === 'PUT') {
        if (ep.contentTypes && ep.contentTypes !== 'any' && req.body.length > 0) {
          const ct = mediaType(req.headers['content-type']);
          if (!ep.contentTypes.some((m) => m.toLowerCase() === ct)) {
            return fail(415, `Content-Type ${ct || '(none)'} is not supported; use ${ep.contentTypes.join(' or ')}`);
          }
        }
        if (req.body.length === 0) {
          if (ep.body && !ep.optionalBody) return fail(400, 'request body is required');
          body = {};
        } else {
          try {
            body = JSON.parse(req.body.toString('utf8'));
          } catch {
            return fail(400, 'request body is not valid JSON');
          }
        }
        if (ep.body) {
          const v = validator(ep.body);
          if (!v(body)) {
            const d = describe(v.errors![0]!, '$');
            return fail(400, d.message, { location: d.location, trigger: JSON.stringify(body).slice(0, 200) });
          }
        }
      }
      const query: Record<string, string> = {};
      for (const [k, v] of req.query) query[k] = v;
      for (const [name, schema] of Object.entries(ep.query ?? {})) {
        if (query[name] === undefined) continue;
        const v = validator(schema);
        const raw = query[name]!;
        const value =
          schema.type === 'integer' || schema.type === 'number'
            ? /^-?\d+(\.\d+)?$/.test(raw)
              ? Number(raw)
              : raw
            : schema.type === 'boolean'
              ? raw === 'true'
                ? true
                : raw === 'false'
                  ? false
                  : raw
              : raw;
        if (!v(value))
          return fail(400, `${name} ${describe(v.errors![0]!, '').message.trim() || 'is invalid'}`, {
            location: `$.${name}`,
            trigger: raw.slice(0, 200),
          });
      }
      const ctx: Ctx = {
        req,
        res,
        state,
        profile: who.profile,
        profileId: who.profileId,
        body,
        query,
        fail: (status, message) => fail(status, message),
        ok: (b, contentType = ep.produces ?? 'application/json', status = 200) => send(res, status, b, contentType),
      };
      await ep.handle(ctx);
    });
    return Object.assign(r, { family: ep.family });
  });
}

/** What the OpenAPI document needs of an endpoint (routes played outside the pipeline declare only this). */
export type Documented = Pick<
  Endpoint,
  'method' | 'path' | 'summary' | 'doc' | 'body' | 'bodyDoc' | 'query' | 'contentTypes' | 'optionalBody'
>;

/** The OpenAPI document of the declared endpoints, for schemathesis. */
export function openApiOf(endpoints: Documented[], title: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const ep of endpoints) {
    const params = [...ep.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.=-]+$' },
    }));
    for (const [name, schema] of Object.entries(ep.query ?? {}))
      params.push({ name, in: 'query', required: false, schema } as never);
    const op: Record<string, unknown> = {
      summary: ep.summary,
      description: `Follows ${ep.doc}`,
      operationId: `${ep.method.toLowerCase()}${ep.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      parameters: params,
      responses: { default: { description: 'Amazon answer' } },
    };
    const bodySchema = ep.body ?? ep.bodyDoc;
    if (bodySchema)
      op.requestBody = {
        required: !ep.optionalBody,
        content: {
          [ep.contentTypes && ep.contentTypes !== 'any' ? ep.contentTypes[0]! : 'application/json']: {
            schema: bodySchema,
          },
        },
      };
    (paths[ep.path] ??= {})[ep.method.toLowerCase()] = op;
  }
  return { openapi: '3.0.3', info: { title, version: '1' }, paths };
}
