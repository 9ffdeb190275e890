/**
 * A service run as its own process, the way production runs it (`node
 * services/<name>/src/main.ts`), for tests and the chaos suite that kill, restart
 * and judge it. Logs go to a file per process under .stack/logs (or a given folder).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICE_NAMES = [
  'entity-sync',
  'report-requester',
  'report-poller',
  'etl-loader',
  'amc-runner',
  'supplier-sync',
] as const;
/** The services of the Kafka pipeline (the fault suite's world), and stream-consumer, which reads SQS instead. */
export type PipelineServiceName = (typeof SERVICE_NAMES)[number];
/** Every process under services/: the pipeline's, stream-consumer (SQS) and the console (a web page). */
export type ServiceName = PipelineServiceName | 'stream-consumer' | 'console';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const envPrefix = (name: ServiceName) => name.toUpperCase().replace(/-/g, '_');

export class ServiceProcess {
  readonly name: ServiceName;
  readonly port: number;
  readonly logFile: string;
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly env: Record<string, string>;
  starts = 0;

  constructor(name: ServiceName, o: { port: number; env: Record<string, string>; logDir?: string }) {
    this.name = name;
    this.port = o.port;
    const dir = o.logDir ?? join(ROOT, '.stack', 'logs', 'tests');
    mkdirSync(dir, { recursive: true });
    this.logFile = join(dir, `${name}-${o.port}.log`);
    this.env = { ...o.env, [`${envPrefix(name)}_HOST`]: '127.0.0.1', [`${envPrefix(name)}_PORT`]: String(o.port) };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (benchmarks read its peak memory from /proc). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until /ready answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    this.starts++;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(ROOT, 'services', this.name, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited while starting:\n${this.logTail()}`);
      if (await this.isReady()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.name} was not ready after ${timeoutMs} ms:\n${this.logTail()}`);
  }

  async isReady(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** What /ready says, for a judgement that names what is not ready. */
  async readiness(): Promise<{ status: number; body: unknown }> {
    try {
      const res = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2_000) });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      return { status: 0, body: (err as Error).message };
    }
  }

  /** `kill -9`: no shutdown, no commit, no lease released. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** A graceful stop (SIGTERM), as an orchestrator sends. */
  async stop(): Promise<number | null> {
    if (!this.running) return null;
    this.child!.kill('SIGTERM');
    return this.exited;
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
