/**
 * The Fastify base every adsync HTTP API starts from:
 *  - GET /health (liveness, no auth) and GET /ready (every dependency answers; no auth),
 *  - GET /openapi.json generated from the routes' JSON schemas (no auth),
 *  - bearer API keys on every other route, admin or scoped to one account,
 *  - one error shape, `{ error, message, details }`, for validation, auth and crashes.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import type { Knex } from 'knex';
import type { Logger } from '../logger.ts';
import { authenticate, mayAccessAccount, type Principal } from './api-keys.ts';
import { HttpError, describeValidation, errorBodySchema, forbidden, unauthorized, type ErrorBody } from './errors.ts';

export type ReadinessCheck = () => Promise<{ ok: boolean; detail: string }>;

export interface HttpServerOptions {
  name: string;
  version?: string;
  log: Logger;
  /** Where API keys live. */
  db: Knex;
  readiness: Record<string, ReadinessCheck>;
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

const PUBLIC_PATHS = new Set(['/health', '/ready', '/openapi.json']);

export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1_048_576,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : crypto.randomUUID(),
  });
  app.decorateRequest('principal', null);

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
    return Object.assign(new HttpError(400, 'bad_request', message, details), { validation: true });
  });

  app.setErrorHandler((err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) req.log.error({ err }, err.message);
      return reply
        .status(err.statusCode)
        .send({ error: err.error, message: err.message, details: err.details } satisfies ErrorBody);
    }
    const upstream = err as {
      name?: string;
      kind?: string;
      retriable?: boolean;
      requestId?: string | null;
      status?: number | null;
    };
    if (upstream.name === 'AmazonApiError' || upstream.name === 'LwaError') {
      // Amazon (or a supplier) failed us: say so, with Amazon's request id, instead of a bare 500.
      req.log.warn({ err }, 'upstream API failed');
      return reply.status(upstream.retriable ? 503 : 502).send({
        error: 'upstream_error',
        message: (err as Error).message,
        details: {
          kind: upstream.kind,
          upstreamStatus: upstream.status ?? null,
          amazonRequestId: upstream.requestId ?? null,
          retry: upstream.retriable === true,
        },
      });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status < 500) {
      // Fastify's own client errors: bad JSON, body too large, wrong content type.
      return reply.status(status).send({
        error: status === 413 ? 'payload_too_large' : 'bad_request',
        message: err.message,
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

  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (PUBLIC_PATHS.has(path) || req.routeOptions.config?.public) return;
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw unauthorized('send an API key as "Authorization: Bearer <key>"');
    const principal = await authenticate(opts.db, match[1] ?? '');
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
  if (!mayAccessAccount(p, accountId)) throw forbidden('this API key is scoped to another account', { accountId });
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
