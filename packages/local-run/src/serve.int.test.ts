// `deploy/local/stack serve`'s supervisor against the real stack: the sandbox and the seven
// services start and answer, one killed with SIGKILL is started again, status says so, and
// SIGTERM ends every process it started. On ports of its own, so a served stack keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SupervisorState } from './supervisor.ts';
import { againstAmazon, serveEnv } from './main.ts';
import { localProcess, SERVICE_NAMES } from './local-services.ts';
import { freshClickHouse, freshPostgres, testConfig, uniqueName } from '@adsync/shared/testing/test-stack';
import { freePort } from '@adsync/shared/testing/service-process';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = 'packages/local-run/src/main.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 150_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('against Amazon when a real Login with Amazon app is configured: no sandbox, Amazon endpoints', () => {
  assert.equal(againstAmazon({}), false);
  assert.equal(againstAmazon({ LWA_CLIENT_ID: 'amzn1.application-oa2-client.x' }), false, 'both are needed');
  assert.equal(againstAmazon({ LWA_CLIENT_ID: 'amzn1.application-oa2-client.x', LWA_CLIENT_SECRET: 's' }), true);
  const amazon = serveEnv({ LWA_CLIENT_ID: 'x', LWA_CLIENT_SECRET: 's' }, null);
  assert.equal(amazon.mode, 'amazon');
  assert.equal(amazon.services.AMAZON_ADS_BASE_URL, '', "empty: Amazon's regional endpoints");
  const sandbox = serveEnv({ SANDBOX_PORT: '19999' }, localProcess('sandbox', { SANDBOX_PORT: '19999' }));
  assert.equal(sandbox.mode, 'sandbox');
  assert.equal(sandbox.services.AMAZON_ADS_BASE_URL, 'http://127.0.0.1:19999');
  assert.equal(sandbox.services.BIGBUY_BASE_URL, 'http://127.0.0.1:19999');
  assert.equal(sandbox.sandbox.SANDBOX_PORT, '19999');
});

test('serve keeps every service running: a killed one is started again, status says so, SIGTERM ends them all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'adsync-serve-'));
  // Its own databases, topics and ports: a served stack or another test is not disturbed.
  const [pg, ch] = [await freshPostgres(), await freshClickHouse()];
  const ports: Record<string, string> = {};
  for (const name of ['sandbox', ...SERVICE_NAMES, 'console'] as const)
    ports[localProcess(name).portVar] = String(await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...ports,
    ADSYNC_STACK_DIR: dir,
    DATABASE_URL: pg.url,
    CLICKHOUSE_DATABASE: ch.ch.database,
    KAFKA_TOPIC_PREFIX: `${uniqueName('serve')}.`,
    SCHEMA_REGISTRY_URL: testConfig().SCHEMA_REGISTRY_URL ?? '',
    LOG_LEVEL: 'warn',
  };
  delete env.LWA_CLIENT_ID;
  delete env.LWA_CLIENT_SECRET;
  const stateFile = join(dir, 'run', 'serve.json');
  const state = () =>
    existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as SupervisorState) : undefined;
  const supervisor = spawn(process.execPath, [main, 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  supervisor.stdout.on('data', (b: Buffer) => (out += b));
  supervisor.stderr.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
  let pids: number[] = [];
  try {
    const ready = await until('every process ready', () => {
      const s = state();
      return s?.info.ready === 'yes' ? s : undefined;
    });
    assert.deepEqual(
      ready.processes.map((p) => p.name),
      ['sandbox', ...SERVICE_NAMES, 'console'],
    );
    assert.equal(ready.info.mode, 'sandbox');
    for (const p of ready.processes) {
      assert.equal(p.status, 'running', p.name);
      assert.ok((await fetch(p.readyUrl)).ok, `${p.name} answers ${p.readyUrl}`);
      assert.ok(readFileSync(p.log, 'utf8').includes(`started ${p.name}`), `${p.name} logs to ${p.log}`);
    }
    pids = ready.processes.map((p) => p.pid!);
    // The console serves its page (pnpm run build made it) and passes the services' APIs on.
    const consoleUrl = ready.processes.find((p) => p.name === 'console')!.readyUrl.replace(/\/ready$/, '');
    const home = await fetch(`${consoleUrl}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /<title>adsync console<\/title>/);
    const unkeyed = await fetch(`${consoleUrl}/api/entity-sync/v1/accounts`);
    assert.equal(unkeyed.status, 401, 'the service behind it asks for a key');
    const status = spawnSync(process.execPath, [main, 'status'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stdout + status.stderr);
    for (const p of ready.processes) assert.match(status.stdout, new RegExp(`^${p.name} +up `, 'm'));

    // A service that dies is started again, and status names the restart.
    const poller = ready.processes.find((p) => p.name === 'report-poller')!;
    process.kill(poller.pid!, 'SIGKILL');
    const again = await until('report-poller started again', () => {
      const p = state()?.processes.find((x) => x.name === 'report-poller');
      return p && p.pid && p.pid !== poller.pid && p.status === 'running' ? p : undefined;
    });
    assert.equal(again.restarts, 1);
    assert.equal(again.lastExit, 'signal SIGKILL');
    pids.push(again.pid!);
    await until('report-poller ready again', async () => {
      try {
        return (await fetch(again.readyUrl)).ok || undefined;
      } catch {
        return undefined;
      }
    });
    const after = spawnSync(process.execPath, [main, 'status'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(after.status, 0, after.stdout);
    assert.match(after.stdout, /^report-poller +up .*1 restart \(last: signal SIGKILL\)/m);
    assert.match(out, /report-poller ended \(signal SIGKILL\); starting it again/);

    supervisor.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} ended with the supervisor`);
    assert.ok(!existsSync(stateFile), 'the state file goes with it');
    const none = spawnSync(process.execPath, [main, 'status'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(none.status, 3);
    assert.match(none.stdout, /not served/);
  } finally {
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await ch.drop();
    await pg.drop();
  }
});
