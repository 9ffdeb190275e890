/** How a consumer's crashes turn into readiness. */
import type { HealthStatus } from './event-bus.ts';

/** A consumer that crashes this often within a minute is in a loop, not recovering: not ready. */
export const CRASH_LOOP = { crashes: 3, withinMs: 60_000 };

/**
 * A consumer's health after a crash. A single crash it is restarted from (by kafkajs, or by
 * the event bus when kafkajs would not) is a blip (degraded, still ready); crashes repeating
 * within a minute are a crash loop, and a consumer left stopped is the end: both make the
 * service not ready.
 */
export function afterCrash(
  crashTimes: number[],
  now: number,
  restarting: boolean,
): { status: HealthStatus; detail: string } {
  while (crashTimes.length && now - crashTimes[0]! > CRASH_LOOP.withinMs) crashTimes.shift();
  if (!restarting) return { status: 'error', detail: 'consumer stopped after a crash' };
  if (crashTimes.length >= CRASH_LOOP.crashes)
    return { status: 'error', detail: `consumer in a crash loop (${crashTimes.length} crashes within a minute)` };
  return { status: 'degraded', detail: 'consumer crashed (restarting)' };
}

/**
 * A consumer that fetches again after crashing is running: whatever its crashes said no longer
 * counts against readiness. Without this, a consumer with nothing more to read (the dead-letter
 * index after a broker restart, say) stayed "in a crash loop" for good, since only handling a
 * message set it back to ok. A real loop crashes before it gets to fetch.
 */
export function afterFetch(
  current: { status: HealthStatus; detail: string },
  crashedSinceLastFetch: boolean,
): { status: HealthStatus; detail: string } {
  return crashedSinceLastFetch ? { status: 'ok', detail: 'running again after a crash' } : current;
}
