/**
 * One declaration per Amazon operation the sandbox plays: its method and path (as
 * Amazon's model spells them), the guide page it also follows, and a handler. What
 * the operation accepts and answers is not declared here: it is Amazon's model of
 * the operation (packages/amazon-models), plus the documented leniencies
 * (leniencies.ts). One pipeline does what Amazon's front door does, in its order —
 * token, client id and profile scope, then the request against the model (media
 * type, JSON, body, parameters) — so a malformed request gets the model's 4xx in
 * the model's shape, never a 5xx; and every answer goes out through one function
 * that holds it to the model (the strict mode: an answer off the model is recorded
 * as a violation, which fails the test that started the sandbox).
 */
import type { ServerResponse } from 'node:http';
import { declaredResponse, operationAt, successStatus, type ModelOperation } from '@adsync/amazon-models/operations';
import { mediaTypeOf } from '@adsync/amazon-models/validate';
import { route, type Req, type Route } from '../http-kit.ts';
import type { SandboxState } from '../state.ts';
import { errorAnswer, fromRequestProblem, undeclaredErrorProblems, type Problem } from './error-answers.ts';
import { SANDBOX_MODELS, leniencyMediaTypes } from './leniencies.ts';

export type JsonSchema = Record<string, unknown>;

export interface Ctx {
  req: Req;
  res: ServerResponse;
  state: SandboxState;
  op: ModelOperation;
  /**
   * The profile named by Amazon-Advertising-API-Scope (null for operations above profile level);
   * for a call made with Amazon-Ads-AccountId instead, the profile whose authorisation reaches that DSP account.
   */
  profile: number | null;
  profileId: string | null;
  /** The DSP advertiser account named by Amazon-Ads-AccountId, where the model takes it instead of a scope. */
  accountId: string | null;
  /** The JSON body as parsed ({} for an absent optional body). */
  body: unknown;
  /** The query parameters the model declares, typed by their schemas. */
  query: Record<string, unknown>;
  /** Refuses the request: the model's error shape for this operation and status. */
  fail(status: number, problem: string | Problem): void;
  /** Answers: the status defaults to the operation's success status, the media type to the one Accept picks among the model's. */
  ok(body: unknown, opts?: { status?: number; mediaType?: string }): void;
}

export interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path as Amazon's model declares it, {placeholders} included. */
  path: string;
  summary: string;
  /** The guide page this follows beyond the model (idealerror/amazon-ads-api-docs path). */
  doc: string;
  /** Needs Amazon-Advertising-API-Scope naming an accessible profile (default true). */
  scope?: boolean;
  handle(ctx: Ctx): void | Promise<void>;
}

export interface Authorised {
  profile: number | null;
  profileId: string | null;
  accountId: string | null;
}

/**
 * Which resource header an operation's model asks for: none (above profile level), the profile
 * scope, or either the scope or a DSP account (Reporting and Marketing Stream declare both
 * optional, Amazon-Ads-AccountId being "the identifier of a DSP advertiser account"), or the DSP
 * account alone (/dsp/streams/subscriptions requires Amazon-Ads-Account-ID).
 */
export type Access = 'none' | 'scope' | 'scope-or-account' | 'account';

export function accessOf(op: ModelOperation, declaredScope: boolean | undefined): Access {
  if (declaredScope === false) return 'none';
  const header = (name: string) =>
    op.parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === name.toLowerCase());
  const scope = header('Amazon-Advertising-API-Scope');
  // DSP's own Marketing Stream routes: the advertiser account only, spelled Amazon-Ads-Account-ID.
  if (header('Amazon-Ads-Account-ID')?.required) return 'account';
  return header('Amazon-Ads-AccountId') && !scope?.required ? 'scope-or-account' : 'scope';
}

/** What the gateway refuses, before the operation's own checks. */
export type GateResult = Authorised | { status: number; problem: Problem };

export const isRefusal = (g: GateResult): g is { status: number; problem: Problem } => 'problem' in g;

/** The model operation of a declaration; every Amazon endpoint the sandbox plays has one. */
export function operationOf(ep: { method: string; path: string }): ModelOperation {
  const op = operationAt(ep.method, ep.path);
  if (!op) throw new Error(`${ep.method} ${ep.path} is not in any of Amazon's models`);
  return op;
}

/** The media type Accept picks among the ones the model declares for a status (the first when none fits). */
export function negotiate(op: ModelOperation, status: number, accept: unknown): string | null {
  const declared = declaredResponse(op, status)?.content.map((c) => c.mediaType) ?? [];
  if (declared.length === 0) return null;
  for (const want of String(accept ?? '')
    .split(',')
    .map(mediaTypeOf)) {
    const hit = declared.find((d) => d.toLowerCase() === want);
    if (hit) return hit;
  }
  return declared[0]!;
}

/**
 * Sends an answer of an Amazon operation, holding it to the model first: status,
 * Content-Type and body. What is off the model is recorded (and logged once);
 * the answer is still sent, so the caller sees what the sandbox did.
 */
export function sendAnswer(
  state: SandboxState,
  res: ServerResponse,
  op: ModelOperation | null,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const payload =
    body === undefined ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  if (op && state.strict) {
    const problems = declaredResponse(op, status)
      ? SANDBOX_MODELS.checkResponse(op, { status, contentType, body: payload })
      : undeclaredErrorProblems(status, payload, contentType);
    if (problems.length) state.recordViolation({ operation: `${op.model}.${op.operationId}`, status, problems });
  }
  const headers: Record<string, string | number> = { 'content-length': payload.length };
  if (contentType && payload.length > 0) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  res.end(payload);
}

/** Sends a refusal of an operation (or of a request that reached none) in its model's shape. */
export function sendError(
  state: SandboxState,
  res: ServerResponse,
  op: ModelOperation | null,
  status: number,
  problem: string | Problem,
): void {
  const a = errorAnswer(op, status, typeof problem === 'string' ? { message: problem } : problem);
  sendAnswer(state, res, op, a.status, a.contentType, a.body);
}

/** Turns declarations into routes. `authorise` plays Amazon's gateway (token, client id, scope). */
export function endpointRoutes(
  state: SandboxState,
  endpoints: Endpoint[],
  authorise: (req: Req, access: Access, clientIdHeader?: string) => GateResult,
): Route[] {
  return endpoints.map((ep) => {
    const op = operationOf(ep);
    const access = accessOf(op, ep.scope);
    const clientIdHeader = op.parameters.find((p) => p.in === 'header' && /^amazon-ads-clientid$/i.test(p.name))?.name;
    const extraMediaTypes = leniencyMediaTypes(op);
    const r = route(ep.method, ep.path, async (req, res) => {
      const fail = (status: number, problem: string | Problem) => sendError(state, res, op, status, problem);
      const who = authorise(req, access, clientIdHeader);
      if (isRefusal(who)) return fail(who.status, who.problem);
      const checked = SANDBOX_MODELS.checkRequest(
        op,
        { headers: req.headers, query: req.query, pathParams: req.params, body: req.body },
        { extraMediaTypes },
      );
      if (!checked.ok) return fail(checked.problem.status, fromRequestProblem(checked.problem));
      const ctx: Ctx = {
        req,
        res,
        state,
        op,
        profile: who.profile,
        profileId: who.profileId,
        accountId: who.accountId,
        body: checked.body ?? {},
        query: checked.query,
        fail,
        ok: (body, opts = {}) => {
          const status = opts.status ?? successStatus(op);
          sendAnswer(state, res, op, status, opts.mediaType ?? negotiate(op, status, req.headers.accept), body);
        },
      };
      await ep.handle(ctx);
    });
    return Object.assign(r, { op });
  });
}

/** What the OpenAPI document needs of an operation the models do not cover (AMC, Login with Amazon). */
export interface Documented {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  summary: string;
  doc: string;
  bodyDoc?: JsonSchema;
  query?: Record<string, JsonSchema>;
  contentTypes?: string[];
}

/** OpenAPI operations for what no Amazon model covers (AMC, Login with Amazon), from our reading of the guides. */
export function documentedPaths(endpoints: Documented[]): Record<string, Record<string, unknown>> {
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
    if (ep.bodyDoc)
      op.requestBody = {
        required: true,
        content: { [ep.contentTypes?.[0] ?? 'application/json']: { schema: ep.bodyDoc } },
      };
    (paths[ep.path] ??= {})[ep.method.toLowerCase()] = op;
  }
  return paths;
}
