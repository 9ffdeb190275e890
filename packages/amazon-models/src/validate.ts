/**
 * Requests and answers checked against Amazon's models with Ajv, on the models'
 * own schemas (references resolved by Ajv inside each document): path, query and
 * header parameters, the body's media type, its JSON and its schema; an answer's
 * status, Content-Type and body. No hand-written rule here: what a model says is
 * what is checked. A validator may carry patches — documented places where Amazon
 * accepts or answers more than its model says — applied to a private copy of the
 * model, never to the shared one.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { IncomingHttpHeaders } from 'node:http';
import { MODEL_NAMES, modelDocument, resolvePointer, type ModelName, type OpenApiDocument } from './models.ts';
import { declaredResponse, isJsonMediaType, type ModelOperation, type OperationParameter } from './operations.ts';

/** Changes one node of a model's schema (a leniency); `apply` edits a private copy in place. */
export interface SchemaPatch {
  model: ModelName;
  pointer: string;
  apply(node: Record<string, unknown>): void;
}

export type RequestProblem = {
  /** 400 for a malformed request, 415 for a media type the operation does not take. */
  status: 400 | 415;
  /**
   * What was wrong, as the JSON Schema keyword that refused it ("required", "enum",
   * "maximum", "maxLength", "pattern", "type", …), or "json" / "mediaType".
   */
  keyword: string;
  /** The offending value as text, when there is one. */
  trigger?: string;
  /** The values an enum allows. */
  allowed?: string[];
  /** Where: "$.stateFilter.include[0]", "query.count", "header.Prefer", "Content-Type". */
  location: string;
  message: string;
};

export type RequestCheck =
  | {
      ok: true;
      /** The parsed JSON body ({} for an absent optional body, undefined for operations without one). */
      body: unknown;
      /** Query parameters the model declares, typed as their schemas say. */
      query: Record<string, unknown>;
      path: Record<string, unknown>;
      /** The request media type matched (as the model spells it), when there is a body. */
      mediaType: string | null;
    }
  | { ok: false; problem: RequestProblem };

export interface RequestInput {
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  pathParams: Record<string, string>;
  body: Buffer;
}

export const mediaTypeOf = (contentType: unknown): string =>
  String(contentType ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

/** JSON pointer escaping for a $ref inside a URI (Ajv decodes the fragment). */
const refTo = (model: ModelName, pointer: string) =>
  `amazon:${model}#${pointer
    .replace(/^#/, '')
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;

const INT32 = 2 ** 31;

export class ModelValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(opts: { patches?: SchemaPatch[] } = {}) {
    this.ajv = new Ajv({
      strict: false,
      allErrors: false,
      validateSchema: false,
      coerceTypes: false,
      useDefaults: false,
      // Some models' patterns are written for Java; without the u flag they compile as plain RegExp.
      unicodeRegExp: false,
      logger: false,
    });
    addFormats.default(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && Math.abs(n) < INT32,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    for (const f of ['float', 'double']) this.ajv.addFormat(f, { type: 'number', validate: () => true });
    for (const f of ['byte', 'binary', 'password', 'string']) this.ajv.addFormat(f, true);
    const docs = new Map<ModelName, OpenApiDocument>();
    for (const name of MODEL_NAMES) docs.set(name, openApiNullable(structuredClone(modelDocument(name))));
    for (const p of opts.patches ?? [])
      p.apply(resolvePointer(docs.get(p.model), p.pointer) as Record<string, unknown>);
    for (const [name, doc] of docs) this.ajv.addSchema(doc, `amazon:${name}`);
  }

  /** The compiled check of the schema at a pointer of a model (compiled once, on first use). */
  validatorAt(model: ModelName, pointer: string): ValidateFunction {
    const ref = refTo(model, pointer);
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, v);
    }
    return v;
  }

  /** The schema node at a pointer, as this validator sees it (patches applied). */
  schemaAt(model: ModelName, pointer: string): Record<string, unknown> {
    return resolvePointer(this.ajv.getSchema(`amazon:${model}`)!.schema, pointer) as Record<string, unknown>;
  }

  /**
   * A request as Amazon's front door of the operation would take it: media type,
   * JSON, body schema, then path, query and header parameters. `extraMediaTypes`
   * are request media types accepted beyond the model's (documented leniencies).
   */
  checkRequest(op: ModelOperation, input: RequestInput, opts: { extraMediaTypes?: string[] } = {}): RequestCheck {
    const fail = (problem: RequestProblem): RequestCheck => ({ ok: false, problem });
    let body: unknown = undefined;
    let mediaType: string | null = null;
    if (op.requestBody) {
      const sent = mediaTypeOf(input.headers['content-type']);
      if (input.body.length === 0) {
        if (op.requestBody.required)
          return fail({
            status: 400,
            keyword: 'required',
            location: '$',
            message: 'request body is required',
          });
        body = {};
      } else {
        const declared = op.requestBody.content.find((c) => c.mediaType.toLowerCase() === sent);
        const extra = (opts.extraMediaTypes ?? []).find((m) => m.toLowerCase() === sent);
        if (!declared && !extra)
          return fail({
            status: 415,
            keyword: 'mediaType',
            trigger: sent,
            location: 'Content-Type',
            message: `Content-Type ${sent || '(none)'} is not supported; use ${op.requestBody.content.map((c) => c.mediaType).join(' or ')}`,
          });
        const entry = declared ?? op.requestBody.content.find((c) => isJsonMediaType(c.mediaType.toLowerCase()));
        mediaType = entry?.mediaType ?? null;
        if (isJsonMediaType(sent) || (entry && isJsonMediaType(entry.mediaType.toLowerCase()))) {
          try {
            body = JSON.parse(input.body.toString('utf8'));
          } catch {
            return fail({
              status: 400,
              keyword: 'json',
              location: '$',
              message: 'request body is not valid JSON',
            });
          }
        } else body = input.body;
      }
      const pointer = op.requestBody.content.find((c) => c.mediaType === mediaType)?.schemaPointer ?? null;
      if (pointer && input.body.length > 0) {
        const v = this.validatorAt(op.model, pointer);
        if (!v(body)) return fail(describe(pickError(v.errors!), '$', body));
      }
    }
    const path: Record<string, unknown> = {};
    const query: Record<string, unknown> = {};
    for (const p of op.parameters) {
      let raw: string | string[] | undefined;
      if (p.in === 'path') raw = input.pathParams[p.name];
      else if (p.in === 'query') {
        const all = input.query.getAll(p.name);
        raw = all.length === 0 ? undefined : isArraySchema(p) && p.explode !== false ? all : all[all.length - 1];
      } else if (p.in === 'header') {
        const h = input.headers[p.name.toLowerCase()];
        raw = Array.isArray(h) ? h.join(',') : h;
      } else continue;
      const where = `${p.in}.${p.name}`;
      if (raw === undefined || raw === '') {
        if (p.required)
          return fail({ status: 400, keyword: 'required', location: where, message: `${where} is required` });
        continue;
      }
      const value = coerce(p, raw);
      const v = this.validatorAt(op.model, p.schemaPointer);
      if (!v(value)) {
        const d = describe(pickError(v.errors!), where, value);
        return fail({ ...d, message: `${d.message} (got ${JSON.stringify(raw).slice(0, 100)})` });
      }
      if (p.in === 'path') path[p.name] = value;
      if (p.in === 'query') query[p.name] = value;
    }
    return { ok: true, body, query, path, mediaType };
  }

  /**
   * Whether an answer is one the model allows: its status among the operation's
   * responses, its Content-Type among that response's media types, its body valid.
   * Returns what is off the model (empty when the answer is on it).
   */
  checkResponse(op: ModelOperation, answer: { status: number; contentType: unknown; body: Buffer }): string[] {
    const status = String(answer.status);
    const entry = declaredResponse(op, status);
    if (!entry) return [`status ${status} is not among the model's answers (${Object.keys(op.responses).join(', ')})`];
    if (entry.content.length === 0)
      return answer.body.length === 0
        ? []
        : [`status ${status} has no body in the model, but ${answer.body.length} bytes were sent`];
    const sent = mediaTypeOf(answer.contentType);
    const media =
      entry.content.find((c) => c.mediaType.toLowerCase() === sent) ?? entry.content.find((c) => c.mediaType === '*/*');
    if (!media)
      return [
        `Content-Type ${sent || '(none)'} is not the model's (${entry.content.map((c) => c.mediaType).join(', ')})`,
      ];
    if (!media.schemaPointer) return [];
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return [`the body is not JSON, as ${media.mediaType} needs`];
    }
    const v = this.validatorAt(op.model, media.schemaPointer);
    if (v(body)) return [];
    return [describe(pickError(v.errors!), '$', body).message + ` (status ${status})`];
  }
}

/**
 * OpenAPI 3.0's `nullable: true` beside no `type` (on a $ref or a composition) means
 * "or null"; Ajv takes `nullable` only beside `type`, so such a node becomes
 * anyOf [the node, null]. Every other `nullable` is Ajv's own keyword.
 */
export function openApiNullable<T>(node: T): T {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (!n || typeof n !== 'object') return n;
    const o = n as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = walk(o[k]);
    if (o.nullable === true && o.type === undefined) {
      const { nullable: _n, ...rest } = o;
      return { anyOf: [rest, { type: 'null' }] };
    }
    return o;
  };
  return walk(node) as T;
}

const isArraySchema = (p: OperationParameter) => p.schema.type === 'array';

/** A parameter's text as the value its schema types it (left as text when it does not fit, so the schema refuses it). */
function coerce(p: OperationParameter, raw: string | string[]): unknown {
  const one = (s: string, schema: Record<string, unknown>): unknown => {
    if (schema.type === 'integer' || schema.type === 'number')
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? Number(s) : s;
    if (schema.type === 'boolean') return s === 'true' ? true : s === 'false' ? false : s;
    return s;
  };
  if (isArraySchema(p)) {
    const items = (p.schema.items as Record<string, unknown> | undefined) ?? {};
    const parts = Array.isArray(raw) ? raw.flatMap((r) => (p.explode === false ? r.split(',') : [r])) : raw.split(',');
    return parts.map((s) => one(s, items));
  }
  return one(Array.isArray(raw) ? raw[raw.length - 1]! : raw, p.schema);
}

/**
 * The error that says what was meant to be wrong. Where a value fails every branch of an
 * anyOf/oneOf, Ajv reports each branch's first error; a branch that fails on a discriminator
 * (a property allowing one value: `filterType` must be `CREATIVE_TYPE`) is not the branch the
 * request meant, so the deepest error of another branch is the one to tell.
 */
export function pickError(errors: ErrorObject[]): ErrorObject {
  const branchOf = (e: ErrorObject) => /^(.*\/(?:anyOf|oneOf)\/\d+)\//.exec(e.schemaPath)?.[1] ?? null;
  const discriminator = (e: ErrorObject) =>
    e.keyword === 'const' ||
    (e.keyword === 'enum' && ((e.params as { allowedValues?: unknown[] }).allowedValues?.length ?? 0) === 1);
  const wrongBranches = new Set(errors.filter((e) => branchOf(e) && discriminator(e)).map(branchOf));
  const candidates = errors.filter(
    (e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && !wrongBranches.has(branchOf(e)),
  );
  if (candidates.length === 0) return errors[0]!;
  const depth = (e: ErrorObject) => e.instancePath.split('/').length;
  return candidates.reduce((best, e) => (depth(e) > depth(best) ? e : best), candidates[0]!);
}

/** "$.stateFilter.include[0] must be one of …" from an Ajv error; `root` is the value validated. */
export function describe(err: ErrorObject, where: string, root?: unknown): RequestProblem {
  const segments = err.instancePath.split('/').filter(Boolean);
  const missing = (err.params as { missingProperty?: string }).missingProperty;
  let location = where;
  for (const s of [...segments, ...(missing ? [missing] : [])])
    location += /^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, '/').replace(/~0/g, '~')}`;
  const allowed = (err.params as { allowedValues?: unknown[] }).allowedValues;
  const what = allowed
    ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`
    : missing
      ? 'is required'
      : (err.message ?? 'is invalid');
  let offending: unknown = root;
  for (const s of segments) offending = (offending as Record<string, unknown> | undefined)?.[s.replace(/~1/g, '/')];
  return {
    status: 400,
    keyword: err.keyword,
    location,
    message: `${location === '$' ? 'request body' : location.replace(/^\$\./, '')} ${what}`,
    ...(offending !== undefined && !missing ? { trigger: JSON.stringify(offending).slice(0, 200) } : {}),
    ...(allowed ? { allowed: allowed.map(String) } : {}),
  };
}
