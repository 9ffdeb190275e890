/**
 * (b) Peak memory of streaming, parsing and normalising a 1,000,000-row report
 * file (gzip JSON, as Amazon delivers it). Budget: 256 MB. Prints one JSON line.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { MetricRow } from '@adsync/shared/events/contracts';
import { jsonArrayElements } from '@adsync/shared/json-array-stream';
import { normaliseRow } from '@adsync/etl-loader/report-row';

const N = 1_000_000;
const tmp = mkdtempSync(join(tmpdir(), 'adsync-parse-'));
const file = join(tmp, 'report.json.gz');
async function* rows() {
  yield '[';
  for (let i = 0; i < N; i++) {
    yield `${i ? ',' : ''}{"date":"2026-11-${String(1 + (i % 20)).padStart(2, '0')}","campaignId":${100000000000000 + (i % 97)},"adGroupId":${400000000000000 + (i % 997)},"keywordId":${600000000000000 + i},"keyword":"kw ${i % 1000}","matchType":"EXACT","targeting":"kw","keywordType":"EXACT","campaignBudgetCurrencyCode":"USD","impressions":${i % 5000},"clicks":${i % 50},"cost":${((i % 50) * 0.73).toFixed(2)},"sales7d":${((i % 7) * 19.99).toFixed(2)},"purchases7d":${i % 7},"unitsSoldClicks7d":${i % 9}}`;
  }
  yield ']';
}
await pipeline(Readable.from(rows()), createGzip(), createWriteStream(file));
(globalThis as { gc?: () => void }).gc?.();
const baseRss = process.memoryUsage().rss;
let peakRss = baseRss;
let peakHeap = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 10);
const t0 = performance.now();
let good = 0;
const ctx = { reportTypeId: 'spTargeting', currency: 'USD', startDate: '2026-11-01', endDate: '2026-11-30' };
let batch: MetricRow[] = [];
for await (const el of jsonArrayElements(createReadStream(file).pipe(createGunzip()))) {
  if (el.ok) {
    const n = normaliseRow(el.value, ctx);
    if (n.ok) {
      batch.push(n.row);
      good++;
    }
  }
  if (batch.length >= 1000) batch = []; // handed to the producer in the loader
}
clearInterval(sampler);
const ms = performance.now() - t0;
rmSync(tmp, { recursive: true, force: true });
if (good !== N) throw new Error(`parsed ${good} of ${N}`);
console.log(
  JSON.stringify({
    benchmark: '(b) parse 1,000,000-row report',
    rows: N,
    seconds: +(ms / 1000).toFixed(1),
    rowsPerSec: Math.round(N / (ms / 1000)),
    peakRssMb: Math.round(peakRss / 1048576),
    rssBeforeMb: Math.round(baseRss / 1048576),
    peakHeapMb: Math.round(peakHeap / 1048576),
    budgetMb: 256,
  }),
);
