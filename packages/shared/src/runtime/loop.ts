/**
 * The one loop primitive: a tick when woken (a notification on the queue it claims from), when
 * its next work is due (`due`, asked after each tick), and at the latest every interval (a safety
 * net, not a poll); never two ticks at once in a process. A failed tick is logged and tried again
 * with backoff. Readiness is the loop's real liveness: it is healthy while its last success is
 * recent, or its long tick reports progress (a stuck or failing loop stops being ready).
 */
import type { Logger } from '../logger.ts';
import { errorMessage } from './errors.ts';
import { backoffDelay } from '../backoff.ts';

export interface LoopOptions<R> {
  name: string;
  /** The longest the loop sleeps between ticks when nothing wakes it and nothing is due. */
  intervalMs: number;
  /**
   * After a successful tick: in how many milliseconds the loop's next work is due (0: at once),
   * or null when nothing waits. The loop sleeps until then, or the interval if sooner.
   */
  due?: () => Promise<number | null>;
  /** One tick. Long ticks call `beat()` as they make progress, so readiness knows the loop is alive. */
  tick: (signal: AbortSignal, beat: () => void) => Promise<R>;
  log: Logger;
  /** Run the first tick at once (default) or after one interval. */
  immediate?: boolean;
  /** How long without a successful tick before the loop reports itself unhealthy (default 3 intervals + 60 s). */
  staleAfterMs?: number;
  /** How long a running tick may go without reporting progress (`beat`) before the loop is unhealthy (default 120 s). */
  hungAfterMs?: number;
  /** Called with each tick's result (for logs and metrics). */
  onTick?: (result: R, ms: number) => void;
}

export interface LoopHealth {
  ok: boolean;
  detail: string;
  lastSuccessAt: string | null;
}

export interface Loop<R = unknown> {
  readonly name: string;
  /** Run a tick now (or join the one running) and return its result. */
  tickNow(): Promise<R>;
  /** Ask for a tick soon, without waiting for it. */
  wake(): void;
  health(): LoopHealth;
  /** Stop scheduling, abort the running tick's signal and wait for it to end. */
  stop(): Promise<void>;
}

export function startLoop<R>(o: LoopOptions<R>): Loop<R> {
  const log = o.log.child({ loop: o.name });
  const aborter = new AbortController();
  const startedAt = Date.now();
  const staleAfter = o.staleAfterMs ?? o.intervalMs * 3 + 60_000;
  const hungAfter = o.hungAfterMs ?? 120_000;
  let tickStartedAt = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<R> | null = null;
  let stopped = false;
  let lastSuccess: number | null = null;
  /** Progress a long tick reported; counts as alive, not as success. */
  let lastBeat: number | null = null;
  const beat = () => {
    lastBeat = Date.now();
  };
  let lastError: string | null = null;
  /** A wake that came while a tick ran: the work it announces may have missed that tick. */
  let wokenDuringTick = false;
  /** Failed ticks in a row: the next try backs off from half a second up to the interval. */
  let failures = 0;
  /** Bumped by every schedule: a tick's chain reschedules only if nothing rescheduled meanwhile. */
  let generation = 0;

  const tick = (): Promise<R> => {
    if (running) return running;
    const t0 = Date.now();
    tickStartedAt = t0;
    running = o
      .tick(aborter.signal, beat)
      .then((r) => {
        lastSuccess = Date.now();
        lastError = null;
        failures = 0;
        o.onTick?.(r, lastSuccess - t0);
        return r;
      })
      .catch((err) => {
        lastError = errorMessage(err);
        failures++;
        throw err;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  /** How long to sleep after a tick: woken meanwhile, failing, due soon, or the interval. */
  const nextDelay = async (ok: boolean): Promise<number> => {
    // A failing loop backs off even when woken: a dependency that is down is not up because work came.
    if (!ok) return Math.min(o.intervalMs, 500 + backoffDelay(failures, { baseMs: 500, maxMs: 30_000 }));
    if (wokenDuringTick) return 0;
    if (!o.due) return o.intervalMs;
    try {
      const ms = await o.due();
      // Work due at once right after a tick that ran is given a breath (100 ms), so a row the tick
      // cannot take (another replica's, say) never spins the loop.
      return ms === null ? o.intervalMs : Math.max(100, Math.min(o.intervalMs, Math.ceil(ms)));
    } catch (err) {
      log.warn({ err: errorMessage(err) }, `${o.name}: could not read when work is next due; trying again soon`);
      return Math.min(o.intervalMs, 1_000);
    }
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    const mine = ++generation;
    timer = setTimeout(() => {
      timer = null;
      void tick()
        .then(
          () => true,
          (err) => {
            log.error({ err }, `${o.name} tick failed`);
            return false;
          },
        )
        .then(nextDelay)
        .then((delay) => {
          // Woken while it asked what is due: that wake has scheduled the next tick already.
          if (mine !== generation) return;
          wokenDuringTick = false;
          schedule(delay);
        });
    }, ms);
  };
  schedule(o.immediate === false ? o.intervalMs : 0);

  return {
    name: o.name,
    tickNow: tick,
    wake: () => {
      if (running) wokenDuringTick = true;
      else if (failures === 0) schedule(0);
      // Backing off after a failure: the retry already scheduled comes soon enough.
    },
    health: () => {
      const now = Date.now();
      const since = now - Math.max(lastSuccess ?? startedAt, running ? (lastBeat ?? 0) : 0);
      // A loop may sleep long when nothing is due; a tick that stops making progress is caught sooner.
      const hung = running !== null && now - Math.max(tickStartedAt, lastBeat ?? 0) > hungAfter;
      const ok = !stopped && since <= staleAfter && !hung;
      const detail = lastError
        ? `last tick failed: ${lastError}`
        : lastSuccess
          ? `last tick ${new Date(lastSuccess).toISOString()}`
          : 'no tick yet';
      return {
        ok,
        detail: ok
          ? detail
          : hung
            ? `${detail}; a tick has run ${Math.round((now - tickStartedAt) / 1000)} s without reporting progress`
            : `${detail}; no successful tick for ${Math.round(since / 1000)} s`,
        lastSuccessAt: lastSuccess ? new Date(lastSuccess).toISOString() : null,
      };
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      aborter.abort();
      await running?.catch(() => undefined);
    },
  };
}
