/**
 * CPU seconds spent by processes on this machine, read from /proc, so a benchmark can
 * say how much of a run was the sandbox's or Postgres's work rather than ours.
 */
import { readFileSync, readdirSync } from 'node:fs';

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
