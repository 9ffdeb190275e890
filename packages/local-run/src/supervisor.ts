/**
 * Keeps a set of processes running: starts each, starts one again when it dies (restart-policy),
 * appends its output to its own log, and writes what runs to a state file that `stack status`
 * reads. stop() ends them all (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { afterDeath, restartDelayMs, type Deaths } from './restart-policy.ts';

export interface ProcessSpec {
  name: string;
  /** Arguments to the Node binary (an entry point, then its arguments). */
  args: string[];
  env: NodeJS.ProcessEnv;
  log: string;
  /** Where it answers, for the state file (a readiness URL). */
  readyUrl: string;
}

export interface ProcessState {
  name: string;
  pid: number | null;
  status: 'running' | 'restarting' | 'stopped';
  readyUrl: string;
  log: string;
  restarts: number;
  startedAt: string | null;
  /** How the last run ended ("exit 1", "signal SIGKILL"), null while none has. */
  lastExit: string | null;
}

export interface SupervisorState {
  supervisorPid: number;
  startedAt: string;
  /** Free-form facts for `status` (mode, addresses). */
  info: Record<string, string>;
  processes: ProcessState[];
}

export interface SupervisorOptions {
  cwd: string;
  stateFile: string;
  info: Record<string, string>;
  /** A line for the supervisor's own log (a death, a restart). */
  say: (line: string) => void;
  graceMs?: number;
}

interface Entry {
  spec: ProcessSpec;
  state: ProcessState;
  proc: ChildProcess | null;
  out: WriteStream;
  deaths: Deaths;
  since: number;
  timer: NodeJS.Timeout | null;
}

export class Supervisor {
  private readonly entries: Entry[] = [];
  private stopping = false;
  private readonly startedAt = new Date().toISOString();

  private readonly opts: SupervisorOptions;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
  }

  /** Starts a process and keeps it running (not once stopping: stop() would not see it). */
  add(spec: ProcessSpec): void {
    if (this.stopping) return;
    mkdirSync(dirname(spec.log), { recursive: true });
    const entry: Entry = {
      spec,
      state: {
        name: spec.name,
        pid: null,
        status: 'stopped',
        readyUrl: spec.readyUrl,
        log: spec.log,
        restarts: 0,
        startedAt: null,
        lastExit: null,
      },
      proc: null,
      out: createWriteStream(spec.log, { flags: 'a' }),
      deaths: { inARow: 0 },
      since: 0,
      timer: null,
    };
    this.entries.push(entry);
    this.launch(entry);
  }

  setInfo(key: string, value: string): void {
    this.opts.info[key] = value;
    this.save();
  }

  pidOf(name: string): number | null {
    return this.entries.find((e) => e.spec.name === name)?.state.pid ?? null;
  }

  private launch(e: Entry): void {
    const proc = spawn(process.execPath, e.spec.args, {
      cwd: this.opts.cwd,
      env: e.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    e.proc = proc;
    e.since = Date.now();
    e.state = { ...e.state, pid: proc.pid ?? null, status: 'running', startedAt: new Date().toISOString() };
    e.out.write(`--- ${e.state.startedAt} started ${e.spec.name} (pid ${proc.pid}) ---\n`);
    proc.stdout!.pipe(e.out, { end: false });
    proc.stderr!.pipe(e.out, { end: false });
    proc.once('exit', (code, signal) => this.died(e, proc, code, signal));
    this.save();
  }

  private died(e: Entry, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (e.proc !== proc) return;
    e.proc = null;
    const how = signal ? `signal ${signal}` : `exit ${code}`;
    e.state = { ...e.state, pid: null, lastExit: how };
    if (this.stopping) {
      e.state.status = 'stopped';
      this.save();
      return;
    }
    e.deaths = afterDeath(e.deaths, Date.now() - e.since);
    const delay = restartDelayMs(e.deaths);
    e.state.status = 'restarting';
    e.state.restarts++;
    this.opts.say(`${e.spec.name} ended (${how}); starting it again in ${delay / 1000} s (log: ${e.spec.log})`);
    this.save();
    e.timer = setTimeout(() => {
      e.timer = null;
      if (!this.stopping) this.launch(e);
    }, delay);
  }

  /** Ends every process: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.entries.map(async (e) => {
        if (e.timer) clearTimeout(e.timer);
        const proc = e.proc;
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
          proc.kill('SIGTERM');
          const kill = setTimeout(() => proc.kill('SIGKILL'), this.opts.graceMs ?? 15_000);
          await exited;
          clearTimeout(kill);
        }
        e.state.status = 'stopped';
        e.state.pid = null;
        await new Promise<void>((resolve) => e.out.end(resolve));
      }),
    );
    this.save();
  }

  state(): SupervisorState {
    return {
      supervisorPid: process.pid,
      startedAt: this.startedAt,
      info: { ...this.opts.info },
      processes: this.entries.map((e) => ({ ...e.state })),
    };
  }

  /** Written whole and renamed into place, so a reader never sees half a file. */
  private save(): void {
    const tmp = `${this.opts.stateFile}.tmp`;
    mkdirSync(dirname(this.opts.stateFile), { recursive: true });
    writeFileSync(tmp, `${JSON.stringify(this.state(), null, 2)}\n`);
    renameSync(tmp, this.opts.stateFile);
  }
}
