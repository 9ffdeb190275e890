/**
 * The one loop primitive: a tick every interval, or sooner when woken; never two
 * ticks at once in a process; a failed tick is logged and the next one comes on
 * time. Readiness is the loop's real liveness: it is healthy while its last
 * success is recent (a stuck or failing loop stops being ready).
 */
import type { Logger } from '../logger.ts';
import { errorMessage } from './errors.ts';

export interface LoopOptions<R> {
  name: string;
  intervalMs: number;
  /** One tick. Long ticks call `beat()` as they make progress, so readiness knows the loop is alive. */
  tick: (signal: AbortSignal, beat: () => void) => Promise<R>;
  log: Logger;
  /** Run the first tick at once (default) or after one interval. */
  immediate?: boolean;
  /** How long without a successful tick before the loop reports itself unhealthy (default 3 intervals + 60 s). */
  staleAfterMs?: number;
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

  const tick = (): Promise<R> => {
    if (running) return running;
    const t0 = Date.now();
    running = o
      .tick(aborter.signal, beat)
      .then((r) => {
        lastSuccess = Date.now();
        lastError = null;
        o.onTick?.(r, lastSuccess - t0);
        return r;
      })
      .catch((err) => {
        lastError = errorMessage(err);
        throw err;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void tick()
        .catch((err) => log.error({ err }, `${o.name} tick failed`))
        .finally(() => {
          if (timer) return;
          schedule(wokenDuringTick ? 0 : o.intervalMs);
          wokenDuringTick = false;
        });
    }, ms);
  };
  schedule(o.immediate === false ? o.intervalMs : 0);

  return {
    name: o.name,
    tickNow: tick,
    wake: () => {
      if (running) wokenDuringTick = true;
      else schedule(0);
    },
    health: () => {
      const since = Date.now() - Math.max(lastSuccess ?? startedAt, running ? (lastBeat ?? 0) : 0);
      const ok = !stopped && since <= staleAfter;
      const detail = lastError
        ? `last tick failed: ${lastError}`
        : lastSuccess
          ? `last tick ${new Date(lastSuccess).toISOString()}`
          : 'no tick yet';
      return {
        ok,
        detail: ok ? detail : `${detail}; no successful tick for ${Math.round(since / 1000)} s`,
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
