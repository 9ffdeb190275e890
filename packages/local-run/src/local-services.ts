/**
 * The sandbox and the seven services as processes on one machine: their entry points, ports
 * (and the variable that moves each), and readiness. The demo and `stack serve` start them
 * from here, so both agree with the CLI's defaults.
 */
import { connect } from 'node:net';

export const SERVICE_NAMES = [
  'entity-sync',
  'report-requester',
  'report-poller',
  'etl-loader',
  'amc-runner',
  'supplier-sync',
  'stream-consumer',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type ProcessName = ServiceName | 'sandbox' | 'console';

export interface LocalProcess {
  name: ProcessName;
  entry: string;
  /** The variable that sets its port, for the process and for whoever calls it. */
  portVar: string;
  port: number;
  /** Answers 200 once the process can do its work. */
  readyPath: string;
}

const DEFAULT_PORTS: Record<ProcessName, [string, number]> = {
  sandbox: ['SANDBOX_PORT', 18900],
  'entity-sync': ['ENTITY_SYNC_PORT', 8081],
  'report-requester': ['REPORT_REQUESTER_PORT', 8082],
  'report-poller': ['REPORT_POLLER_PORT', 8083],
  'etl-loader': ['ETL_LOADER_PORT', 8084],
  'amc-runner': ['AMC_RUNNER_PORT', 8085],
  'supplier-sync': ['SUPPLIER_SYNC_PORT', 8086],
  'stream-consumer': ['STREAM_CONSUMER_PORT', 8087],
  console: ['CONSOLE_PORT', 8088],
};

/** One process by name, its port as the environment sets it. */
export function localProcess(name: ProcessName, env: NodeJS.ProcessEnv = process.env): LocalProcess {
  const [portVar, fallback] = DEFAULT_PORTS[name];
  const raw = env[portVar];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${portVar} must be a port, not ${raw}`);
  return {
    name,
    entry: name === 'sandbox' ? 'packages/sandbox/src/main.ts' : `services/${name}/src/main.ts`,
    portVar,
    port,
    readyPath: name === 'sandbox' ? '/_sandbox/health' : '/ready',
  };
}

export const localServices = (env: NodeJS.ProcessEnv = process.env): LocalProcess[] =>
  SERVICE_NAMES.map((n) => localProcess(n, env));

/** Whether something already listens on a port of 127.0.0.1. */
export const portInUse = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });

/** The ports already taken, each named with the variable that moves it. */
export async function takenPorts(processes: LocalProcess[]): Promise<string[]> {
  const taken: string[] = [];
  for (const p of processes)
    if (await portInUse(p.port))
      taken.push(`port ${p.port} (${p.name}) is taken; move it with ${p.portVar}=<free port>`);
  return taken;
}

export const readyUrl = (p: LocalProcess) => `http://127.0.0.1:${p.port}${p.readyPath}`;

/** Whether a process answers its readiness check now. */
export async function isReady(p: LocalProcess): Promise<boolean> {
  try {
    return (await fetch(readyUrl(p), { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Waits until a process is ready; the error names its log. */
export async function waitReady(p: LocalProcess, log: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isReady(p))) {
    if (Date.now() > deadline) throw new Error(`${p.name} did not become ready at ${readyUrl(p)}; see ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
