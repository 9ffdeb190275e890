/**
 * CPU seconds spent by processes on this machine, read from /proc, so a benchmark can
 * say how much of a run was the sandbox's or Postgres's work rather than ours; and a CPU
 * profile of just a benchmark's measured window (BENCH_PROFILE_DIR).
 */
import { readFileSync, readdirSync } from 'node:fs';
import inspector from 'node:inspector';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of one process, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Every running process whose command is `name` (e.g. postgres backends), by pid. */
export function processesNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU seconds of a set of processes between `start()` and the returned function's call. */
export function cpuMeter(pids: () => number[]): () => number {
  const before = new Map(pids().map((p) => [p, cpuSeconds(p)]));
  return () =>
    +pids()
      .reduce((sum, p) => sum + cpuSeconds(p) - (before.get(p) ?? 0), 0)
      .toFixed(2);
}

/** Starts V8's profiler in this process; the returned function stops it and gives the profile's JSON. */
export async function startProfile(): Promise<() => Promise<string>> {
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string) =>
    new Promise<T>((resolve, reject) => session.post(method, {}, (err, r) => (err ? reject(err) : resolve(r as T))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => JSON.stringify((await post<{ profile: unknown }>('Profiler.stop')).profile);
}
