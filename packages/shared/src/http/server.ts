/**
 * The Fastify base every adsync HTTP API starts from:
 *  - GET /health (liveness, no auth) and GET /ready (every dependency answers; no auth),
 *  - GET /openapi.json generated from the routes' JSON schemas (no auth),
 *  - bearer API keys on every other route, admin or scoped to one account,
 *  - one error shape, `{ error, message, details }`, for validation, auth and crashes.
 */
import { AppError, httpAnswerOf } from '../runtime/errors.ts';
import { metricsContentType, scrape } from '../runtime/metrics.ts';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import type { Knex } from 'knex';
import type { Logger } from '../logger.ts';
import { createAuthenticator, mayAccessAccount, type Principal } from './api-keys.ts';
import {
  badRequest,
  describeValidation,
  errorBodySchema,
  forbidden,
  fromDatabaseError,
  notFound,
  payloadTooLarge,
  unauthorized,
  type ErrorBody,
} from './errors.ts';
import { nulPaths, validatorCompiler } from './validation.ts';
import { findAccount } from '../accounts/accounts.ts';

export type ReadinessCheck = () => Promise<{ ok: boolean; detail: string }>;

export interface HttpServerOptions {
  name: string;
  version?: string;
  log: Logger;
  /** Where API keys are checked; without it, only public routes answer (a service that checks no keys). */
  db?: Knex;
  readiness: Record<string, ReadinessCheck>;
  /** How long a known API key is answered from memory (see createAuthenticator); 5 s by default. */
  apiKeyCacheMs?: number;
  /** Body size cap; report and AMC payloads are small, uploads do not exist. */
  bodyLimit?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes that answer without an API key (health, readiness, the OpenAPI document). */
    public?: boolean;
  }
}

/** Query parameters that are credentials (a consent state or code, tokens, signatures): never logged. */
const SECRET_PARAMS = /^(state|code|code_verifier|token|access_token|refresh_token|x-amz-signature|signature)$/i;

/** A request URL as logged: the values of credential parameters replaced. Pure. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const name = decodeURIComponentSafe(pair.split('=')[0] ?? '');
      return SECRET_PARAMS.test(name) ? `${pair.split('=')[0]}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

const decodeURIComponentSafe = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

// /metrics carries no tenant data (bounded labels only), and Prometheus scrapes without a key.
const PUBLIC_PATHS = new Set(['/health', '/ready', '/openapi.json', '/metrics']);

export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? 1_048_576;
  const tooLarge = `the request body is over this service's limit of ${bodyLimit} bytes (${(bodyLimit / 1_048_576).toFixed(1)} MiB)`;
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit,
    // One line per request (below) instead of Fastify's two: a status endpoint polled by a
    // dashboard answers thousands of requests a second, and logging was most of its cost.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : crypto.randomUUID(),
  });
  app.decorateRequest('principal', null);
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      { method: req.method, url: redactUrl(req.url), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
    done();
  });
  app.setValidatorCompiler(validatorCompiler);

  // Every route documents the errors every route can answer, so clients (and the fuzzer) know them.
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { response?: Record<string, unknown>; hide?: boolean };
    if (schema.hide) return;
    schema.response = { ...STANDARD_ERRORS, ...schema.response };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: `adsync ${opts.name}`, version: opts.version ?? '0.1.0' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'adsync API key (adsk_…)' } },
      },
      security: [{ bearer: [] }],
    },
  });

  app.setSchemaErrorFormatter((errors, dataVar) => {
    const { message, details } = describeValidation(dataVar, errors as never);
    return Object.assign(badRequest(message, details), { validation: true });
  });

  app.setErrorHandler((err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    // A database refusal that validation should have caught first: still the client's input, never a 500.
    const fromDb = err instanceof AppError ? null : fromDatabaseError(err);
    if (fromDb) {
      req.log.warn(
        { err, code: (err as { code?: string }).code },
        'input refused by the database; validation missed it',
      );
      err = fromDb;
    }
    if (err instanceof AppError) {
      const answer = httpAnswerOf(err);
      if (answer.status !== 500) {
        // Amazon refusing or failing is worth a warning in our logs; a caller's mistake is not.
        if (err.code.startsWith('AMAZON_')) req.log.warn({ err }, 'upstream API failed');
        return reply
          .status(answer.status)
          .send({ error: answer.error, message: err.message, details: err.details } satisfies ErrorBody);
      }
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status < 500) {
      // Fastify's own client errors: bad JSON, body too large, wrong content type.
      return reply.status(status).send({
        error: status === 413 ? 'payload_too_large' : 'bad_request',
        message: status === 413 ? tooLarge : err.message,
        details: { code: (err as FastifyError).code ?? null },
      });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({
      error: 'internal',
      message: 'internal error; the request id in details finds it in the logs',
      details: { requestId: req.id },
    });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      error: 'not_found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      details: null,
    } satisfies ErrorBody),
  );

  app.addHook('preValidation', async (req) => {
    const bad = [...nulPaths(req.body, 'body'), ...nulPaths(req.query, 'query'), ...nulPaths(req.params, 'params')];
    if (bad.length)
      throw badRequest(`${bad.join(', ')} contains a NUL character, which no field accepts`, {
        fields: bad.map((path) => ({ path, problem: 'contains a NUL character (\\u0000)' })),
      });
  });

  const authenticateKey = opts.db ? createAuthenticator(opts.db, { ttlMs: opts.apiKeyCacheMs }) : async () => null;
  // A body declared over the limit is answered 413 before anything else reads it (Node discards
  // the rest), so the sender gets the reason rather than a connection closed mid-upload.
  app.addHook('onRequest', async (req) => {
    if (Number(req.headers['content-length'] ?? 0) > bodyLimit)
      throw payloadTooLarge(tooLarge, { limitBytes: bodyLimit });
  });
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (PUBLIC_PATHS.has(path) || req.routeOptions.config?.public) return;
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw unauthorized('send an API key as "Authorization: Bearer <key>"');
    const principal = await authenticateKey(match[1] ?? '');
    if (!principal) throw unauthorized('the API key is unknown or revoked');
    req.principal = principal;
  });

  app.get('/health', { schema: { hide: true }, config: { public: true } }, async () => ({
    status: 'ok',
    service: opts.name,
  }));

  app.get('/ready', { schema: { hide: true }, config: { public: true } }, async (_req, reply) => {
    const entries = await Promise.all(
      Object.entries(opts.readiness).map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch (err) {
          return [name, { ok: false, detail: (err as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, r]) => r.ok);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true }, config: { public: true } }, async (_req, reply) =>
    reply.type(metricsContentType).send(await scrape()),
  );

  return app;
}

/** The authenticated principal of a request (routes behind auth always have one). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized('send an API key as "Authorization: Bearer <key>"');
  return req.principal;
}

/** Throws 403 unless the request's key may act on this account. */
export function requireAccount(req: FastifyRequest, accountId: string): void {
  const p = principalOf(req);
  // The details never name the account: a key must not learn which account owns a resource it named.
  if (!mayAccessAccount(p, accountId)) throw forbidden('this API key may not act on that resource');
}

/**
 * The account a request names must be one this key may act on (403 otherwise) and
 * must exist (404): an unknown id is the client's mistake, not a foreign-key 500.
 */
export async function requireKnownAccount(req: FastifyRequest, db: Knex, accountId: string): Promise<void> {
  requireAccount(req, accountId);
  if (!(await findAccount(db, accountId))) throw notFound(`no account ${accountId}`, { accountId });
}

/**
 * Which account a list answers for: the one the query names (which this key must own), else an
 * account key's own; undefined only for an admin naming none (every account).
 */
export async function listedAccount(
  req: FastifyRequest,
  db: Knex,
  accountId: string | undefined,
): Promise<string | undefined> {
  if (accountId) await requireKnownAccount(req, db, accountId);
  const p = principalOf(req);
  return accountId ?? (p.scope === 'account' ? p.accountId : undefined);
}

export function requireAdmin(req: FastifyRequest): void {
  if (principalOf(req).scope !== 'admin') throw forbidden('this route needs an admin API key');
}

/** Standard error responses for a route's schema, so the OpenAPI document lists them. */
export const errorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
} as const;

/**
 * What any route may answer besides its own results: bad input (400, 413 too large,
 * 415 wrong content type), no or a wrong key (401, 403), a named thing missing (404),
 * a conflict with the current state (409), and Amazon or a supplier failing us (502,
 * or 503 when trying again later can help).
 */
const STANDARD_ERRORS = {
  ...errorResponses,
  409: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  502: errorBodySchema,
  503: errorBodySchema,
} as const;
