/**
 * Batch writes that overlap, safely. Up to `width` run at once, each on its own connection,
 * while the caller goes on reading; a batch that names a key a running batch also names waits
 * for it, so the same row is never written by two at once (no lock waits between them, no
 * deadlock, and the later batch's values land last, as the feed ordered them). A failure is
 * reported only once every running write has settled: nothing of a failed job keeps writing.
 */
export interface WriteWindow {
  /** Starts `write` once a slot is free and no running batch shares one of `keys`; resolves when it has started. */
  submit(keys: readonly string[], write: () => Promise<void>): Promise<void>;
  /** Waits for every write; throws the first failure. */
  settle(): Promise<void>;
  /** Waits for every write, ignoring failures (for a caller already failing). */
  drain(): Promise<void>;
}

/** Connections a whole process lends to overlapping writes, so its other work always finds one in the pool. */
export interface WriteSlots {
  acquire(): Promise<() => void>;
}

export function writeSlots(n: number): WriteSlots {
  let free = Math.max(1, n);
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire: () =>
      free > 0 ? (free--, Promise.resolve(release)) : new Promise((resolve) => waiting.push(() => resolve(release))),
  };
}

export function writeWindow(width: number, slots?: WriteSlots): WriteWindow {
  const running = new Map<Promise<void>, ReadonlySet<string>>();
  const state: { failure: { reason: unknown } | null } = { failure: null };
  const failed = () => state.failure;
  const oldest = () => running.keys().next().value as Promise<void>;
  return {
    async submit(keys, write) {
      if (state.failure) throw state.failure.reason;
      for (;;) {
        const blocking = [...running].find(([, held]) => keys.some((k) => held.has(k)))?.[0];
        if (blocking) await blocking.catch(() => undefined);
        else if (running.size >= Math.max(1, width)) await oldest().catch(() => undefined);
        else break;
        const f = failed();
        if (f) throw f.reason;
      }
      const release = slots ? await slots.acquire() : () => undefined;
      const f = failed();
      if (f) {
        release();
        throw f.reason;
      }
      const done: Promise<void> = write()
        .finally(release)
        .then(
          () => void running.delete(done),
          (reason: unknown) => {
            running.delete(done);
            state.failure ??= { reason };
            throw reason;
          },
        );
      done.catch(() => undefined); // reported by submit or settle
      running.set(done, new Set(keys));
    },
    async settle() {
      while (running.size) await Promise.allSettled([...running.keys()]);
      if (state.failure) throw state.failure.reason;
    },
    async drain() {
      while (running.size) await Promise.allSettled([...running.keys()]);
    },
  };
}
