/**
 * When a supervised process that died is started again: at once the first time, then after a
 * delay that doubles with each death in a row (1 s, 2 s, 4 s … at most 30 s), so a process that
 * cannot start does not spin a core. A run that stayed up a minute counts as healthy and resets
 * the count. Pure.
 */
export const HEALTHY_AFTER_MS = 60_000;
export const MAX_DELAY_MS = 30_000;

export interface Deaths {
  /** Deaths in a row, each after less than HEALTHY_AFTER_MS of running. */
  inARow: number;
}

/** The count after a death, given how long the process ran. */
export function afterDeath(d: Deaths, ranMs: number): Deaths {
  return { inARow: ranMs >= HEALTHY_AFTER_MS ? 1 : d.inARow + 1 };
}

/** How long to wait before starting again. */
export function restartDelayMs(d: Deaths): number {
  if (d.inARow <= 1) return 0;
  return Math.min(MAX_DELAY_MS, 1000 * 2 ** (d.inARow - 2));
}
