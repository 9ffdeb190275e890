// The loop primitive sleeps until woken, until its work is due, or its interval (a safety net).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoop } from './loop.ts';
import { testLogger } from '../testing/test-stack.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = testLogger();

test('nothing due: the loop ticks once and sleeps through until woken', async () => {
  let ticks = 0;
  let dueAsked = 0;
  const loop = startLoop({
    name: 'idle',
    intervalMs: 60_000,
    log,
    tick: async () => ++ticks,
    due: async () => (dueAsked++, null),
  });
  try {
    await wait(400);
    assert.equal(ticks, 1, 'the first tick at start, then nothing');
    assert.equal(dueAsked, 1, 'asked once what is due, not polled');
    loop.wake();
    await wait(100);
    assert.equal(ticks, 2, 'a wake ticks at once');
  } finally {
    await loop.stop();
  }
});

test('work due later: the loop sleeps exactly until then, not the interval', async () => {
  const at: number[] = [];
  const t0 = Date.now();
  const loop = startLoop({
    name: 'due',
    intervalMs: 60_000,
    log,
    tick: async () => at.push(Date.now() - t0),
    due: async () => (at.length < 3 ? 250 : null),
  });
  try {
    await wait(1_000);
    assert.equal(at.length, 3, `ticks at ${at.join(', ')} ms`);
    assert.ok(at[1]! - at[0]! >= 240 && at[1]! - at[0]! < 450, `slept until due (${at[1]! - at[0]!} ms)`);
  } finally {
    await loop.stop();
  }
});

test('work due at once after a tick gets a breath, so a row the tick cannot take never spins the loop', async () => {
  let ticks = 0;
  const loop = startLoop({ name: 'busy', intervalMs: 60_000, log, tick: async () => ++ticks, due: async () => 0 });
  try {
    await wait(1_000);
    assert.ok(ticks >= 5 && ticks <= 11, `${ticks} ticks in a second (100 ms apart)`);
  } finally {
    await loop.stop();
  }
});

test('a failing tick is tried again with backoff long before the interval, and the loop recovers', async () => {
  let ticks = 0;
  const loop = startLoop({
    name: 'failing',
    intervalMs: 60_000,
    log,
    tick: async () => {
      if (++ticks < 3) throw new Error('Postgres is away');
      return ticks;
    },
    due: async () => null,
  });
  try {
    const deadline = Date.now() + 10_000;
    while (ticks < 3 && Date.now() < deadline) await wait(50);
    assert.equal(ticks, 3, 'retried twice within seconds');
    assert.equal(loop.health().ok, true);
    assert.match(loop.health().detail, /last tick/);
  } finally {
    await loop.stop();
  }
});

test('a wake while the tick runs is not lost: another tick follows at once', async () => {
  let ticks = 0;
  let release: () => void = () => undefined;
  const loop = startLoop({
    name: 'woken',
    intervalMs: 60_000,
    log,
    tick: async () => {
      ticks++;
      if (ticks === 1) await new Promise<void>((r) => (release = r));
    },
    due: async () => null,
  });
  try {
    await wait(50);
    loop.wake(); // announces work the running tick may have missed
    release();
    await wait(200);
    assert.equal(ticks, 2);
  } finally {
    await loop.stop();
  }
});

test('while a failing loop backs off, a wake does not make it try again at once', async () => {
  const at: number[] = [];
  const t0 = Date.now();
  const loop = startLoop({
    name: 'down',
    intervalMs: 60_000,
    log,
    tick: async () => {
      at.push(Date.now() - t0);
      throw new Error('Kafka is away');
    },
    due: async () => null,
  });
  try {
    await wait(100);
    for (let i = 0; i < 5; i++) {
      loop.wake();
      await wait(20);
    }
    assert.equal(at.length, 1, `five wakes during the backoff, still one try (${at.join(', ')} ms)`);
    const deadline = Date.now() + 5_000;
    while (at.length < 2 && Date.now() < deadline) await wait(50);
    assert.ok(at[1]! >= 500, `the retry came after the backoff (${at[1]} ms)`);
  } finally {
    await loop.stop();
  }
});

test('a tick that stops reporting progress makes the loop unhealthy, however long its interval', async () => {
  let release: () => void = () => undefined;
  const loop = startLoop({
    name: 'hung',
    intervalMs: 300_000,
    hungAfterMs: 300,
    log,
    tick: (_signal, beat) =>
      new Promise<void>((r) => {
        beat();
        release = r;
      }),
  });
  try {
    await wait(100);
    assert.equal(loop.health().ok, true, 'a tick that just began is fine');
    await wait(400);
    assert.equal(loop.health().ok, false);
    assert.match(loop.health().detail, /without reporting progress/);
  } finally {
    release();
    await loop.stop();
  }
});
