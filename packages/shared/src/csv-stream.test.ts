import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvRuns } from './csv-stream.ts';
import type { ArrayElement } from './json-array-stream.ts';

async function read(chunks: (string | Buffer)[]): Promise<ArrayElement[]> {
  const out: ArrayElement[] = [];
  for await (const run of csvRuns(
    (async function* () {
      yield* chunks;
    })(),
  )) {
    assert.ok(run.length > 0, 'no empty runs');
    out.push(...run);
  }
  return out;
}

// Amazon's DSP reports as CSV (format CSV, OfflineReport_prod_3p example DSPAudioAndVideoSummaryReport).
const FILE =
  '\uFEFFadvertiserId,contentTitle,impressions,totalCost\r\n' +
  '580455376359067392,"Cooking, for two",120,1.25\r\n' +
  '580455376359067392,"The ""best"" show",7,\r\n' +
  '580455376359067392,"Two\nlines",3,0.5\r\n' +
  '\r\n' +
  '580455376359067392,Plain,1,0.01';

const WANT = [
  { advertiserId: '580455376359067392', contentTitle: 'Cooking, for two', impressions: '120', totalCost: '1.25' },
  { advertiserId: '580455376359067392', contentTitle: 'The "best" show', impressions: '7', totalCost: null },
  { advertiserId: '580455376359067392', contentTitle: 'Two\nlines', impressions: '3', totalCost: '0.5' },
  { advertiserId: '580455376359067392', contentTitle: 'Plain', impressions: '1', totalCost: '0.01' },
];

test('records by the header: quotes, doubled quotes, commas and line breaks inside quotes, CRLF, blank lines, empty as null', async () => {
  const got = await read([FILE]);
  assert.deepEqual(
    got.map((e) => (e.ok ? e.value : e)),
    WANT,
  );
});

test('the same records however the file is cut into chunks, even inside a quote or a UTF-8 character', async () => {
  const text = FILE.replace('Plain', 'Plaîn 日本');
  const want = WANT.map((w, i) => (i === 3 ? { ...w, contentTitle: 'Plaîn 日本' } : w));
  const bytes = Buffer.from(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = await read([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(
      got.map((e) => (e.ok ? e.value : e)),
      want,
      `cut at byte ${cut}`,
    );
  }
  // One byte at a time.
  const single = await read([...bytes].map((b) => Buffer.from([b])));
  assert.deepEqual(
    single.map((e) => (e.ok ? e.value : e)),
    want,
  );
});

test('a record with the wrong number of fields is an error with its text; the others still come', async () => {
  const got = await read(['a,b\n1,2\n3\n4,5,6\n7,8\n']);
  assert.deepEqual(got[0], { ok: true, value: { a: '1', b: '2' } });
  assert.deepEqual(got[1], { ok: false, error: '1 fields where the header has 2', text: '3' });
  assert.equal(got[2]!.ok, false);
  assert.deepEqual(got[3], { ok: true, value: { a: '7', b: '8' } });
});

test('a file that ends inside a quoted field is an error, not a record', async () => {
  const got = await read(['a,b\n1,"unfinished\n']);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.ok, false);
});
