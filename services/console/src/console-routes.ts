/**
 * What the console serves: the built page (web/dist) and each service's API under /api/<service>/,
 * so the page has one origin. Every API call carries the operator's key to the service, which
 * decides what it may see; the console holds no key and no data of its own.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { FastifyInstance } from 'fastify';
import httpProxy from '@fastify/http-proxy';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export async function registerConsole(
  app: FastifyInstance,
  deps: { distDir: string; upstreams: Record<string, string> },
): Promise<void> {
  for (const [name, upstream] of Object.entries(deps.upstreams))
    await app.register(httpProxy, {
      upstream,
      prefix: `/api/${name}`,
      rewritePrefix: '',
      // The service checks the key; the console only passes it on.
      config: { public: true },
      // A service that does not answer is a 502 that names it, not a 500.
      replyOptions: {
        onError: (reply, { error }) => {
          reply.log.warn({ service: name, upstream, err: error }, 'a service behind the console does not answer');
          void reply.status(502).send({
            error: 'ADSYNC_UPSTREAM_UNAVAILABLE',
            message: `the ${name} service at ${upstream} does not answer; is it running? (deploy/local/stack status says)`,
            details: { service: name },
          });
        },
      },
      // Only the service's API, never its metrics or anything else on its port.
      preHandler: async (req, reply) => {
        if (!/^\/api\/[^/]+\/v1\//.test(req.url))
          return reply.status(404).send({
            error: 'ADSYNC_NOT_FOUND',
            message: `the console passes on /api/<service>/v1/… only, not ${req.url.split('?')[0]}`,
            details: null,
          });
      },
    });

  const index = join(deps.distDir, 'index.html');
  const page = () => {
    if (!existsSync(index)) throw new Error(`the console is not built (${index} is missing): run pnpm run build`);
    return readFileSync(index);
  };
  app.get('/', { schema: { hide: true }, config: { public: true } }, async (_req, reply) =>
    reply.type(TYPES['.html']!).header('cache-control', 'no-cache').send(page()),
  );
  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { schema: { hide: true }, config: { public: true } },
    async (req, reply) => {
      const rel = normalize(req.params['*']);
      const file = join(deps.distDir, 'assets', rel);
      if (
        rel.startsWith('..') ||
        !file.startsWith(join(deps.distDir, 'assets')) ||
        !existsSync(file) ||
        !statSync(file).isFile()
      )
        return reply.status(404).send({ error: 'ADSYNC_NOT_FOUND', message: `no asset ${rel}`, details: null });
      // Vite names assets by their content: they never change under a name.
      return reply
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(readFileSync(file));
    },
  );
}
