/**
 * adsync on one machine, in the background: `deploy/local/stack serve` runs this.
 *
 *   node packages/local-run/src/main.ts serve    supervise the sandbox, the seven services and the console
 *   node packages/local-run/src/main.ts status   say what runs; exit 0 when every process is ready,
 *                                                1 when one is not, 3 when nothing is served
 *
 * Against the sandbox by default; against Amazon when LWA_CLIENT_ID and LWA_CLIENT_SECRET (a real
 * Login with Amazon app) are set, and then no sandbox runs. Logs go to .stack/logs/services/, what
 * runs to .stack/run/serve.json. SIGTERM or SIGINT stops everything it started.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  isReady,
  localProcess,
  localServices,
  readyUrl,
  takenPorts,
  waitReady,
  type LocalProcess,
} from './local-services.ts';
import { Supervisor, type SupervisorState } from './supervisor.ts';
import { urlVariable } from '@adsync/cli/api';
import type { ServiceName } from './local-services.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const stackDir = process.env.ADSYNC_STACK_DIR ?? `${root}.stack`;
const stateFile = `${stackDir}/run/serve.json`;
const logDir = `${stackDir}/logs/services`;
const DEMO_ADMIN_KEY = 'adsk_local_demo_admin_key_change_me_in_production';

const say = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

/** What a served process's environment adds to ours. */
export function serveEnv(
  env: NodeJS.ProcessEnv,
  sandbox: LocalProcess | null,
  console: LocalProcess = localProcess('console', env),
): { mode: 'sandbox' | 'amazon'; services: NodeJS.ProcessEnv; sandbox: NodeJS.ProcessEnv } {
  const common = {
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    ADMIN_API_KEY: env.ADMIN_API_KEY ?? DEMO_ADMIN_KEY,
    // Amazon's consent callback forwards the browser back to the console.
    CONSOLE_URL: env.CONSOLE_URL ?? `http://127.0.0.1:${console.port}`,
  };
  if (!sandbox)
    return {
      mode: 'amazon',
      services: { ...env, ...common, AMAZON_ADS_BASE_URL: env.AMAZON_ADS_BASE_URL ?? '' },
      sandbox: {},
    };
  const url = `http://127.0.0.1:${sandbox.port}`;
  return {
    mode: 'sandbox',
    services: {
      ...env,
      ...common,
      AMAZON_ADS_BASE_URL: url,
      BIGBUY_BASE_URL: url,
      ALIEXPRESS_BASE_URL: url,
    },
    sandbox: {
      ...env,
      LOG_LEVEL: common.LOG_LEVEL,
      [sandbox.portVar]: String(sandbox.port),
      // Reports a person asks for from the console are ready in seconds, as in the demo.
      SANDBOX_REPORT_GENERATION_MS: env.SANDBOX_REPORT_GENERATION_MS ?? '1500',
      SANDBOX_SQS_ENDPOINT: env.SANDBOX_SQS_ENDPOINT ?? env.SQS_ENDPOINT ?? 'http://127.0.0.1:19324',
    },
  };
}

/** Real Login with Amazon credentials: serve against Amazon. */
export const againstAmazon = (env: NodeJS.ProcessEnv) => Boolean(env.LWA_CLIENT_ID && env.LWA_CLIENT_SECRET);

async function serve(): Promise<void> {
  const amazon = againstAmazon(process.env);
  const sandbox = amazon ? null : localProcess('sandbox');
  const services = localServices();
  const consoleProcess = localProcess('console');
  const taken = await takenPorts([...(sandbox ? [sandbox] : []), ...services, consoleProcess]);
  if (taken.length) {
    console.error(`cannot serve:\n  ${taken.join('\n  ')}`);
    process.exit(1);
  }
  const { mode, services: serviceEnv, sandbox: sandboxEnv } = serveEnv(process.env, sandbox);
  const sup = new Supervisor({
    cwd: root,
    stateFile,
    info: {
      mode,
      amazon: mode === 'sandbox' ? `the sandbox at http://127.0.0.1:${sandbox!.port}` : "Amazon's regional endpoints",
      ready: 'no',
    },
    say,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping every process`);
    await sup.stop();
    rmSync(stateFile, { force: true });
    say('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const add = (p: LocalProcess, env: NodeJS.ProcessEnv) => {
    const log = `${logDir}/${p.name}.log`;
    sup.add({
      name: p.name,
      args: [p.entry],
      env: { ...env, [p.portVar]: String(p.port) },
      log,
      readyUrl: readyUrl(p),
    });
    return log;
  };
  say(`serving against ${mode === 'sandbox' ? 'the sandbox' : 'Amazon'}; logs in ${logDir}`);
  if (sandbox) {
    const log = add(sandbox, sandboxEnv);
    try {
      await waitReady(sandbox, log);
    } catch (err) {
      // Nothing is left running behind a supervisor that gives up.
      say(`${(err as Error).message}; stopping`);
      await sup.stop();
      rmSync(stateFile, { force: true });
      process.exit(1);
    }
  }
  const served = [...services, consoleProcess];
  // The console reaches each service where this serve put it (the CLI's ADSYNC_<SERVICE>_URL).
  const upstreams = Object.fromEntries(
    services.map((p) => [urlVariable(p.name as ServiceName), `http://127.0.0.1:${p.port}`]),
  );
  const logs = served.map((p) => add(p, p === consoleProcess ? { ...serviceEnv, ...upstreams } : serviceEnv));
  try {
    await Promise.all(served.map((p, i) => waitReady(p, logs[i]!, 120_000)));
  } catch (err) {
    // Not fatal: the supervisor keeps starting it; status says which is not ready.
    say(`not every service is ready yet: ${(err as Error).message}`);
  }
  sup.setInfo('ready', 'yes');
  say(`ready: ${services.map((p) => `${p.name} :${p.port}`).join(', ')}`);
  say(`the console: http://127.0.0.1:${consoleProcess.port}/ (sign in with an API key)`);
}

function readState(): SupervisorState | null {
  if (!existsSync(stateFile)) return null;
  const s = JSON.parse(readFileSync(stateFile, 'utf8')) as SupervisorState;
  try {
    process.kill(s.supervisorPid, 0);
    return s;
  } catch {
    return null;
  }
}

async function status(): Promise<number> {
  const s = readState();
  if (!s) {
    console.log('services    not served (deploy/local/stack serve starts them)');
    return 3;
  }
  let rc = 0;
  const byName = new Map(
    [localProcess('sandbox'), ...localServices(), localProcess('console')].map((p) => [p.name as string, p]),
  );
  for (const p of s.processes) {
    const lp = byName.get(p.name);
    const ready = lp ? await isReady(lp) : false;
    if (!ready) rc = 1;
    const state = ready
      ? 'up'
      : p.status === 'restarting'
        ? 'restarting'
        : p.status === 'running'
          ? 'starting'
          : 'down';
    const extra = [
      p.pid ? `pid ${p.pid}` : null,
      p.restarts ? `${p.restarts} restart${p.restarts === 1 ? '' : 's'} (last: ${p.lastExit})` : null,
      `log ${p.log}`,
    ].filter(Boolean);
    console.log(
      `${p.name.padEnd(17)} ${state.padEnd(10)} ${p.readyUrl.replace(/\/(ready|_sandbox\/health)$/, '').padEnd(24)} ${extra.join(', ')}`,
    );
  }
  console.log(`(served by pid ${s.supervisorPid} since ${s.startedAt}, against ${s.info.amazon})`);
  return rc;
}

if (import.meta.main) {
  const cmd = process.argv[2] ?? 'serve';
  if (cmd === 'serve') await serve();
  else if (cmd === 'status') process.exit(await status());
  else {
    console.error('usage: main.ts serve|status');
    process.exit(64);
  }
}
