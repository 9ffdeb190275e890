import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createHttpServer, redactUrl, requireAccount, errorResponses } from './server.ts';
import { createApiKey, createAuthenticator, ensureAdminKey, revokeApiKey } from './api-keys.ts';
import { freshPostgres, testLogger, type FreshPostgres } from '../testing/test-stack.ts';
import { migratePostgres } from '../db/migrations.ts';

let pg: FreshPostgres;
let app: FastifyInstance;
let accountA: string;
let accountB: string;
let keyA: string;
let keyRevoked: string;
const ADMIN = 'adsk_test_admin_key_for_server_tests';
let dbUp = true;

before(async () => {
  pg = await freshPostgres();
  await migratePostgres(pg.db);
  [{ id: accountA }, { id: accountB }] = await pg
    .db('accounts')
    .insert([{ company_name: 'A' }, { company_name: 'B' }])
    .returning('id');
  keyA = (await createApiKey(pg.db, { scope: 'account', accountId: accountA })).key;
  const revoked = await createApiKey(pg.db, { scope: 'account', accountId: accountA });
  await revokeApiKey(pg.db, revoked.id);
  keyRevoked = revoked.key;
  await ensureAdminKey(pg.db, ADMIN);
  await ensureAdminKey(pg.db, ADMIN); // idempotent

  app = await createHttpServer({
    name: 'test',
    log: testLogger(),
    db: pg.db,
    readiness: {
      postgres: async () => ({ ok: true, detail: 'ok' }),
      flaky: async () => ({ ok: dbUp, detail: dbUp ? 'ok' : 'down for the test' }),
    },
  });
  app.get<{ Params: { id: string }; Querystring: { mode: string } }>(
    '/v1/accounts/:id/things',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { mode: { type: 'string', enum: ['full', 'incremental'], default: 'incremental' } },
        },
        response: {
          200: { type: 'object', properties: { accountId: { type: 'string' }, mode: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireAccount(req, req.params.id);
      return { accountId: req.params.id, mode: req.query.mode };
    },
  );
  app.get('/boom', async () => {
    throw new Error('secret internals');
  });
  await app.ready();
});

after(async () => {
  await app?.close();
  await pg?.drop();
});

const get = (url: string, key?: string) =>
  app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

test('health, readiness and the OpenAPI document need no key', async () => {
  assert.equal((await get('/health')).statusCode, 200);
  const ready = await get('/ready');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().checks.postgres.ok, true);
  const doc = (await get('/openapi.json')).json();
  assert.ok(doc.paths['/v1/accounts/{id}/things'], 'the validated route is in the OpenAPI document');
  assert.deepEqual(
    doc.paths['/v1/accounts/{id}/things'].get.parameters.find((p: { name: string }) => p.name === 'mode').schema.enum,
    ['full', 'incremental'],
  );
});

test('readiness answers 503 naming the dependency that is down', async () => {
  dbUp = false;
  try {
    const res = await get('/ready');
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().checks.flaky.detail, 'down for the test');
  } finally {
    dbUp = true;
  }
});

test('routes refuse a missing, unknown or revoked key with 401', async () => {
  for (const key of [undefined, 'adsk_nope', keyRevoked]) {
    const res = await get(`/v1/accounts/${accountA}/things`, key);
    assert.equal(res.statusCode, 401);
    const body = res.json();
    assert.equal(body.error, 'unauthorized');
    assert.ok(body.message.length > 0);
    assert.ok('details' in body);
  }
});

test('an account key reaches its own account and nothing else', async () => {
  const own = await get(`/v1/accounts/${accountA}/things?mode=full`, keyA);
  assert.equal(own.statusCode, 200);
  assert.deepEqual(own.json(), { accountId: accountA, mode: 'full' });
  const other = await get(`/v1/accounts/${accountB}/things`, keyA);
  assert.equal(other.statusCode, 403);
  // The refusal names no account: a key must not learn who owns what it asked for.
  assert.equal(other.json().details, null);
  assert.doesNotMatch(other.body, new RegExp(accountB));
});

test('an admin key reaches every account', async () => {
  const res = await get(`/v1/accounts/${accountB}/things`, ADMIN);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().mode, 'incremental', 'schema default applied');
});

test('invalid input is a 400 that names each bad field', async () => {
  const res = await get(`/v1/accounts/not-a-uuid/things?mode=sideways&extra=1`, ADMIN);
  assert.equal(res.statusCode, 400);
  const body = res.json();
  assert.equal(body.error, 'bad_request');
  const paths = body.details.map((d: { path: string }) => d.path);
  assert.ok(paths.includes('params.id'), JSON.stringify(body));
  assert.match(body.message, /params\.id/);
});

test('crashes answer 500 without leaking internals; unknown routes answer 404 in the same shape', async () => {
  const res = await get('/boom', ADMIN);
  assert.equal(res.statusCode, 500);
  assert.equal(res.json().error, 'internal');
  assert.doesNotMatch(res.body, /secret internals/);
  const missing = await get('/nope', ADMIN);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error, 'not_found');
});

test('a known key is answered from memory for API_KEY_CACHE_MS: revoked, it stops working after that long, and an unknown key is never remembered', async () => {
  const auth = createAuthenticator(pg.db, { ttlMs: 300 });
  const k = await createApiKey(pg.db, { scope: 'account', accountId: accountB });
  assert.deepEqual(await auth(k.key), { scope: 'account', keyId: k.id, accountId: accountB });
  await revokeApiKey(pg.db, k.id);
  assert.ok(await auth(k.key), 'within the memory window the key still reads as known');
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(await auth(k.key), null, 'after the window the revocation holds');
  // An unknown key created after it was first refused works at once: refusals are not remembered.
  const later = `adsk_${'x'.repeat(43)}`;
  assert.equal(await auth(later), null);
  await ensureAdminKey(pg.db, later);
  assert.equal((await auth(later))?.scope, 'admin');
  // With the memory off, a revocation holds on the very next request.
  const strict = createAuthenticator(pg.db, { ttlMs: 0 });
  const k2 = await createApiKey(pg.db, { scope: 'account', accountId: accountB });
  assert.ok(await strict(k2.key));
  await revokeApiKey(pg.db, k2.id);
  assert.equal(await strict(k2.key), null);
});

test('a body over the limit is a 413 naming the limit, over a real connection, with or without a key', async () => {
  const { request } = await import('undici');
  const big = await createHttpServer({
    name: 'big',
    log: testLogger(),
    db: pg.db,
    readiness: {},
    bodyLimit: 1_048_576,
  });
  big.post('/v1/echo', async (req) => ({ size: JSON.stringify(req.body).length }));
  await big.listen({ port: 0, host: '127.0.0.1' });
  try {
    const url = `http://127.0.0.1:${(big.server.address() as { port: number }).port}/v1/echo`;
    const body = JSON.stringify({ x: 'a'.repeat(6 * 1_048_576) });
    for (const key of [ADMIN, 'not-a-key']) {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      });
      assert.equal(res.statusCode, 413);
      const answer = (await res.body.json()) as { error: string; message: string };
      assert.equal(answer.error, 'payload_too_large');
      assert.match(answer.message, /over this service's limit of 1048576 bytes \(1\.0 MiB\)/);
    }
    // Without a Content-Length (chunked), the parser's limit answers the same.
    const chunked = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: Readable.from(
        (function* () {
          yield '{"x":"';
          for (let i = 0; i < 6; i++) yield 'a'.repeat(1_048_576);
          yield '"}';
        })(),
      ),
    });
    assert.equal(chunked.statusCode, 413);
    assert.match(((await chunked.body.json()) as { message: string }).message, /limit of 1048576 bytes/);
  } finally {
    await big.close();
  }
});

test('a request is logged without the credentials its URL carries (a consent state or code, tokens, signatures)', () => {
  assert.equal(
    redactUrl('/v1/oauth/callback?code=ANabc&scope=advertising%3A%3Acampaign_management&state=v1.secret'),
    '/v1/oauth/callback?code=[redacted]&scope=advertising%3A%3Acampaign_management&state=[redacted]',
  );
  assert.equal(
    redactUrl('/v1/reports/gaps?from=2026-11-01&to=2026-11-02'),
    '/v1/reports/gaps?from=2026-11-01&to=2026-11-02',
  );
  assert.equal(redactUrl('/dl?X-Amz-Signature=abc&x=1'), '/dl?X-Amz-Signature=[redacted]&x=1');
  assert.equal(redactUrl('/health'), '/health');
});

test('a NUL character is looked for in parsed bodies only: a stream passed on untouched is not walked', async () => {
  // A proxy's route keeps the body as the request stream: walking its object graph spun a core
  // for minutes (the console's first POST did). A parsed body is still checked to any depth.
  const { nulPaths } = await import('./validation.ts');
  const stream = Readable.from(['{"a":1}']);
  const started = performance.now();
  assert.deepEqual(nulPaths(stream, 'body'), []);
  assert.ok(performance.now() - started < 50, 'a stream is not walked');
  assert.deepEqual(nulPaths({ a: [{ b: 'x\u0000' }], 'k\u0000': 1 }, 'body'), ['body.a[0].b', 'body (a key)']);
  assert.deepEqual(nulPaths(Object.assign(Object.create(null), { q: '\u0000' }), 'query'), ['query.q']);
  // As Fastify parses a query string: an object whose prototype has none.
  const parsed = Object.assign(Object.create(Object.create(null)), { profileId: '12\u00003' });
  assert.deepEqual(nulPaths(parsed, 'query'), ['query.profileId']);
});

test('a server without a database (the console) answers its public routes and refuses every other, even with a real key', async () => {
  const keyless = await createHttpServer({ name: 'keyless', log: testLogger(), readiness: {} });
  keyless.get('/v1/private', async () => ({ secret: true }));
  keyless.get('/open', { config: { public: true } }, async () => ({ open: true }));
  try {
    assert.equal((await keyless.inject({ url: '/open' })).statusCode, 200);
    assert.equal((await keyless.inject({ url: '/ready' })).statusCode, 200);
    for (const key of [ADMIN, keyA]) {
      const res = await keyless.inject({ url: '/v1/private', headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.statusCode, 401, res.body);
    }
  } finally {
    await keyless.close();
  }
});
