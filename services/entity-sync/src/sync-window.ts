/** Pure planning of what an incremental run reads. */
export const LOOKBACK_MS = 25 * 3600_000;
export const FIRST_RUN_MS = 30 * 86_400_000;

/**
 * The lower bound of entity update times a run upserts: none for a full run; the
 * watermark minus 25 hours (clock skew between Amazon's hosts and ours); or 30
 * days back on a profile's first incremental run.
 */
export function incrementalSince(mode: 'full' | 'incremental', watermark: Date | null, now: Date): Date | null {
  if (mode === 'full') return null;
  if (!watermark) return new Date(now.getTime() - FIRST_RUN_MS);
  return new Date(watermark.getTime() - LOOKBACK_MS);
}

/** Whether an entity falls inside the run's window. Unknown update times are always taken. */
export function inWindow(updatedAt: string | null, since: Date | null): boolean {
  if (!since || !updatedAt) return true;
  const t = Date.parse(updatedAt);
  return Number.isNaN(t) || t >= since.getTime();
}

/** The next watermark: the newest update time seen, never moving backwards. */
export function nextWatermark(previous: Date | null, newestSeen: number | null): Date | null {
  if (newestSeen === null) return previous;
  if (!previous || newestSeen > previous.getTime()) return new Date(newestSeen);
  return previous;
}
