/**
 * AMC status endpoint under load: 200 concurrent clients for 30 s against the
 * amc-runner (its real entry point, in its own process) and the sandbox (another
 * process), reporting p50/p99 latency and requests/s. Executions take 10 minutes
 * in the sandbox here, so any answer that waited on AMC's execution time would
 * show up as a latency in minutes. Same run, reference: the sandbox's own AMC
 * status call, the floor our endpoint sits on.
 *
 *   node bench/amc-status.ts        (needs `deploy/local/stack up`)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Pool, request } from 'undici';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox, parseKey } from '@adsync/shared/crypto/secret-box';
import { storeCredentials } from '@adsync/shared/amazon/account-clients';
import { ensureAdminKey } from '@adsync/shared/http/api-keys';
import { freshClickHouse, freshPostgres } from '@adsync/shared/testing/test-stack';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';

const KEY = 'YmVuY2gtb25seS1rZXktZm9yLWFtYy1zdGF0dXMtISE=';
const ADMIN = 'adsk_bench_admin_key_0123456789abcdef';
const SANDBOX_PORT = 18992;
const AMC_PORT = 18993;
const CLIENTS = 200;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const children: ChildProcess[] = [];

// BENCH_PROFILE_DIR=dir writes the amc-runner's CPU profile there (read it with bench/top-frames.ts).
const profileArgs = (name: string) =>
  process.env.BENCH_PROFILE_DIR && name.includes('amc-runner')
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];

// Children log to files: a pipe read by this (busy) process would make their logger wait on us.
const logDir = mkdtempSync(join(tmpdir(), 'adsync-bench-amc-'));

async function start(script: string, env: Record<string, string>, readyUrl: string): Promise<void> {
  const out = openSync(join(logDir, `${basename(dirname(dirname(script)))}.log`), 'w');
  const c = spawn(process.execPath, [...profileArgs(script), script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  children.push(c);
  for (;;) {
    if (c.exitCode !== null) throw new Error(`${script} exited with ${c.exitCode}; its log is in ${logDir}`);
    const up = await request(readyUrl)
      .then(async (r) => (await r.body.dump(), true))
      .catch(() => false);
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pg = await freshPostgres();
const ch = await freshClickHouse();
try {
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  await ensureAdminKey(pg.db, ADMIN);
  await start(
    fileURLToPath(new URL('../packages/sandbox/src/main.ts', import.meta.url)),
    { SANDBOX_PORT: String(SANDBOX_PORT) },
    `http://127.0.0.1:${SANDBOX_PORT}/`,
  );
  await request(`http://127.0.0.1:${SANDBOX_PORT}/_sandbox/faults`, {
    method: 'POST',
    body: JSON.stringify({ amcExecutionMs: 600_000 }),
  });
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'bench' }).returning('id');
  await storeCredentials(pg.db, createSecretBox(parseKey(KEY)), accountId, {
    region: 'NA',
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    refresh_token: SANDBOX_REFRESH_TOKEN,
  });
  await start(
    fileURLToPath(new URL('../services/amc-runner/src/main.ts', import.meta.url)),
    {
      DATABASE_URL: pg.url,
      CLICKHOUSE_DATABASE: ch.ch.database,
      AMAZON_ADS_BASE_URL: `http://127.0.0.1:${SANDBOX_PORT}`,
      ENCRYPTION_KEY: KEY,
      AMC_RUNNER_PORT: String(AMC_PORT),
      LOG_LEVEL: 'info',
    },
    `http://127.0.0.1:${AMC_PORT}/health`,
  );
  const api = new Pool(`http://127.0.0.1:${AMC_PORT}`, { connections: CLIENTS });
  const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const r = await api.request({ method: 'POST', path, headers: auth, body: JSON.stringify(body) });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${path} → ${r.statusCode} ${text}`);
    return JSON.parse(text);
  };
  await post('/v1/amc/instances', {
    accountId,
    instanceId: 'benchinst',
    advertiserId: 'ENTITYBENCH',
    marketplaceId: 'ATVPDKIKX0DER',
  });
  await post('/v1/amc/workflows', { instanceId: 'benchinst', workflowId: 'bench_wf', sqlQuery: 'SELECT 1' });
  const ids: string[] = [];
  for (let k = 0; k < 10; k++)
    ids.push(
      (
        await post('/v1/amc/executions', {
          workflowId: 'bench_wf',
          timeWindowStart: `${2015 + k}-01-01T00:00:00`,
          timeWindowEnd: `${2015 + k}-01-08T00:00:00`,
        })
      ).id,
    );

  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async (w: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const t0 = performance.now();
      const r = await api.request({
        method: 'GET',
        path: `/v1/amc/executions/${ids[(w + n) % ids.length]}/status`,
        headers: auth,
      });
      await r.body.dump();
      if (r.statusCode !== 200) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  console.table([
    {
      clients: CLIENTS,
      seconds: +elapsed.toFixed(1),
      requests: latencies.length,
      errors,
      requestsPerSec: Math.round(latencies.length / elapsed),
      p50ms: q(0.5),
      p99ms: q(0.99),
      maxMs: q(1),
      amcExecutionTakesMs: 600_000,
    },
  ]);
  await api.close();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await ch.drop();
  await pg.drop();
}
