/**
 * The sandbox and the seven services as processes on one machine: their entry points, ports
 * (and the variable that moves each), and readiness. The demo and `stack serve` start them
 * from here, so both agree with the CLI's defaults.
 */
import { connect } from 'node:net';
import { DEFAULT_PORTS as SERVICE_PORTS, SERVICE_NAMES, type ServiceName } from '@adsync/cli/api';

export { SERVICE_NAMES, type ServiceName };
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

/** Each process's port (the services' as the CLI expects them), moved by <NAME>_PORT. */
const DEFAULT_PORTS: Record<ProcessName, number> = { ...SERVICE_PORTS, sandbox: 18900, console: 8088 };

/** One process by name, its port as the environment sets it. */
export function localProcess(name: ProcessName, env: NodeJS.ProcessEnv = process.env): LocalProcess {
  const portVar = `${name.toUpperCase().replace(/-/g, '_')}_PORT`;
  const fallback = DEFAULT_PORTS[name];
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
