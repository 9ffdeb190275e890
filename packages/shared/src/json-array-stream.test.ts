import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonArrayElements, jsonArrayRuns, type ArrayElement } from './json-array-stream.ts';

async function all(text: string, chunkSize: number): Promise<ArrayElement[]> {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield Buffer.from(text.slice(i, i + chunkSize));
  }
  const out: ArrayElement[] = [];
  for await (const e of jsonArrayElements(chunks())) out.push(e);
  return out;
}

const rows = [
  { a: 1, s: 'with } and { and "quotes" and \\ backslash', n: { x: [1, 2] } },
  { a: 2, s: 'ünïcödé ✓' },
  { a: 3 },
  // Runs of backslashes before a quote, odd and even, wherever a chunk cuts them.
  { a: 4, s: 'ends in a backslash \\', t: '\\"', u: '\\\\"}', v: '"', w: '' },
];

test('every element comes out whole, whatever the chunk boundaries', async () => {
  const text = JSON.stringify(rows, null, 1);
  for (const size of [1, 2, 3, 7, 64, 100_000]) {
    const got = await all(text, size);
    assert.deepEqual(
      got.map((g) => (g.ok ? g.value : null)),
      rows,
      `chunk size ${size}`,
    );
  }
});

test('multi-byte characters split across chunks survive', async () => {
  const text = JSON.stringify([{ s: '€€€ 日本語' }]);
  const bytes = Buffer.from(text);
  async function* oneByte() {
    for (const b of bytes) yield Buffer.from([b]);
  }
  const out: ArrayElement[] = [];
  for await (const e of jsonArrayElements(oneByte())) out.push(e);
  assert.deepEqual(out, [{ ok: true, value: { s: '€€€ 日本語' } }]);
});

test('an element that is not an object is reported, and the rest still come out', async () => {
  const got = await all('[{"a":1}, 42, "x", {"a":2}]', 3);
  assert.deepEqual(
    got.map((g) => g.ok),
    [true, false, false, true],
  );
  assert.equal((got[1] as { text: string }).text.trim(), '42');
});

test('an empty array yields nothing; a truncated file is an error', async () => {
  assert.deepEqual(await all('[]', 1), []);
  await assert.rejects(all('[{"a":1},{"a":', 4), /truncated/);
  await assert.rejects(all('{"a":1}', 4), /not a JSON array/);
});

test('in runs: one per chunk that completes an element, never an empty one, the same elements in order', async () => {
  const text = JSON.stringify(rows, null, 1);
  for (const size of [1, 5, 40, 100_000]) {
    async function* chunks() {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
    }
    const runs: ArrayElement[][] = [];
    for await (const run of jsonArrayRuns(chunks())) runs.push(run);
    assert.ok(
      runs.every((r) => r.length > 0),
      `chunk size ${size}`,
    );
    assert.deepEqual(
      runs.flat().map((g) => (g.ok ? g.value : null)),
      rows,
    );
    if (size === 100_000) assert.equal(runs.length, 1, 'a chunk holding the whole array is one run');
  }
});

test('compact files, cut anywhere: whole objects, tricky strings, nested runs and bad elements all come out as they are, in order', async () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const pick = <T>(xs: T[]): T => xs[rnd(xs.length)]!;
  for (let round = 0; round < 200; round++) {
    // Each element: its text, and what must come out for it (a value, or an error with the text).
    const elements: { text: string; value?: Record<string, unknown> }[] = [];
    for (let i = 0, n = 1 + rnd(12); i < n; i++) {
      const kind = rnd(10);
      if (kind < 6) {
        const value = {
          i,
          s: pick(['plain', '},{', 'x},{"y":1', '\\"},{\\"', 'ü},{✓', '']),
          n: pick([null, 1.5, [{ a: 1 }, { b: 2 }], { c: '},{' }]),
        };
        elements.push({ text: JSON.stringify(value), value });
      } else elements.push({ text: pick(['42', '"a string"', 'null', '[1,2]', '{"a":1,}', '{"a":tru}']) });
    }
    const doc = `[${elements.map((e) => e.text).join(',')}]`;
    const size = 1 + rnd(80);
    const got = await all(doc, size);
    assert.equal(got.length, elements.length, `round ${round}, chunks of ${size}: ${doc}`);
    got.forEach((g, k) => {
      const want = elements[k]!;
      if (want.value) assert.deepEqual(g, { ok: true, value: want.value }, `round ${round} element ${k}`);
      else {
        assert.equal(g.ok, false, `round ${round} element ${k}: ${want.text}`);
        assert.equal((g as { text: string }).text.trim(), want.text);
      }
    });
  }
});
