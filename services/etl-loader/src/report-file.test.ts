import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportRuns } from './report-file.ts';

async function records(chunks: (string | Buffer)[]) {
  const out: unknown[] = [];
  for await (const run of reportRuns(
    (async function* () {
      yield* chunks;
    })(),
  ))
    for (const e of run) out.push(e.ok ? e.value : { error: e.error });
  return out;
}

test('a JSON array and a CSV file give the same records; the format is read from the text', async () => {
  const json = '[{"advertiserId":"1","impressions":"5"},{"advertiserId":"2","impressions":"7"}]';
  const csv = 'advertiserId,impressions\n1,5\n2,7\n';
  const want = [
    { advertiserId: '1', impressions: '5' },
    { advertiserId: '2', impressions: '7' },
  ];
  assert.deepEqual(await records([json]), want);
  assert.deepEqual(await records([csv]), want);
  // The deciding character may come after white space, a byte-order mark, or in a later chunk.
  assert.deepEqual(await records(['', '  \n', json]), want);
  assert.deepEqual(await records([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]), want);
});

test('an empty file is refused as a JSON report is', async () => {
  await assert.rejects(records(['']), /empty or not a JSON array/);
});
