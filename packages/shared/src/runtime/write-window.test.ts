import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeSlots, writeWindow } from './write-window.ts';

/** A write the test finishes by hand, recording when it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const write = () => {
    log.push(`start ${name}`);
    return new Promise<void>((resolve, reject) => {
      finish = () => {
        log.push(`end ${name}`);
        resolve();
      };
      fail = reject;
    });
  };
  return { write, finish: () => finish(), fail: (e: Error) => fail(e) };
}
const tick = () => new Promise((r) => setImmediate(r));

test('disjoint batches run side by side up to the width; a further one waits for a slot', async () => {
  const log: string[] = [];
  const w = writeWindow(2);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => controlled(log, n));
  await w.submit(['1', '2'], a!.write);
  await w.submit(['3'], b!.write);
  const third = w.submit(['4'], c!.write);
  await tick();
  assert.deepEqual(log, ['start a', 'start b']);
  a!.finish();
  await third;
  assert.deepEqual(log, ['start a', 'start b', 'end a', 'start c']);
  b!.finish();
  c!.finish();
  await w.settle();
});

test('a batch sharing a key with a running one waits for it, even with a slot free', async () => {
  const log: string[] = [];
  const w = writeWindow(3);
  const [a, b] = ['a', 'b'].map((n) => controlled(log, n));
  await w.submit(['p1', 'p2'], a!.write);
  const second = w.submit(['p9', 'p2'], b!.write);
  await tick();
  assert.deepEqual(log, ['start a'], 'p2 is being written');
  a!.finish();
  await second;
  assert.deepEqual(log, ['start a', 'end a', 'start b']);
  b!.finish();
  await w.settle();
});

test('a failure is reported once every running write has settled, and no write starts after it', async () => {
  const log: string[] = [];
  const w = writeWindow(2);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => controlled(log, n));
  await w.submit(['1'], a!.write);
  await w.submit(['2'], b!.write);
  a!.fail(new Error('a broke'));
  await tick();
  await assert.rejects(w.submit(['3'], c!.write), /a broke/);
  let settled = false;
  const settling = w.settle().catch((e: Error) => {
    settled = true;
    throw e;
  });
  await tick();
  assert.equal(settled, false, 'b is still writing');
  b!.finish();
  await assert.rejects(settling, /a broke/);
  assert.deepEqual(log, ['start a', 'start b', 'end b']);
  await w.drain();
});

test('windows sharing the process’s write slots never hold more connections than it lends', async () => {
  const log: string[] = [];
  const slots = writeSlots(2);
  const [w1, w2] = [writeWindow(2, slots), writeWindow(2, slots)];
  const [a, b, c] = ['a', 'b', 'c'].map((n) => controlled(log, n));
  await w1.submit(['1'], a!.write);
  await w2.submit(['1'], b!.write); // another run: its keys are its own
  const third = w1.submit(['2'], c!.write);
  await tick();
  assert.deepEqual(log, ['start a', 'start b'], 'both slots are taken');
  b!.finish();
  await third;
  assert.deepEqual(log, ['start a', 'start b', 'end b', 'start c']);
  a!.finish();
  c!.finish();
  await Promise.all([w1.settle(), w2.settle()]);
});
