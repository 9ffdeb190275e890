// The console passes on a service's /v1 API only: nothing a crafted path can do reaches another
// path on the service's port (its metrics), and no asset path leaves the built page's folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { registerConsole } from './console-routes.ts';

const seen: string[] = [];
const upstream = createServer((req, res) => {
  seen.push(req.url ?? '');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const port = (upstream.address() as { port: number }).port;
const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
mkdirSync(join(dist, 'assets'));
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>adsync console</title>');
writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
const app = Fastify();
await registerConsole(app, { distDir: dist, upstreams: { svc: `http://127.0.0.1:${port}` } });

after(async () => {
  await app.close();
  await new Promise((r) => upstream.close(r));
  rmSync(dist, { recursive: true, force: true });
});

test("a service's /v1 API is passed on with its query; nothing else on its port is", async () => {
  const ok = await app.inject({ url: '/api/svc/v1/accounts?limit=5', headers: { authorization: 'Bearer k' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { path: '/v1/accounts?limit=5' });
  for (const url of [
    '/api/svc/metrics',
    '/api/svc/v1/../metrics',
    '/api/svc/v1/%2e%2e/metrics',
    '/api/svc/v1/%2E%2E%2Fmetrics',
    '/api/svc/v1/..%5cmetrics',
    '/api/svc/openapi.json',
  ]) {
    seen.length = 0;
    const res = await app.inject({ url });
    const reached = seen.filter((p) => !p.startsWith('/v1/') || /\.\.|%2e|\\/i.test(p));
    assert.deepEqual(reached, [], `${url} reached ${reached.join(', ')}`);
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`);
  }
});

test('the page and its assets are served; a folder or a path out of the assets is a 404', async () => {
  assert.match((await app.inject({ url: '/' })).body, /adsync console/);
  const asset = await app.inject({ url: '/assets/app.js' });
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['cache-control']), /immutable/);
  for (const url of [
    '/assets/',
    '/assets/../index.html',
    '/assets/%2e%2e/index.html',
    '/assets/..%2F..%2Fpackage.json',
  ])
    assert.equal((await app.inject({ url })).statusCode, 404, url);
});

test('a service that does not answer is a 502 that names it', async () => {
  const down = Fastify();
  await registerConsole(down, { distDir: dist, upstreams: { gone: 'http://127.0.0.1:9' } });
  const res = await down.inject({ url: '/api/gone/v1/accounts' });
  assert.equal(res.statusCode, 502);
  assert.match(res.json().message, /^the gone service at .* does not answer; is it running\?/);
  await down.close();
});
