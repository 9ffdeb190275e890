/**
 * A report file's records, whichever format it was asked in: a JSON array (GZIP_JSON) or CSV
 * with a header (DSP's CSV), told apart by the first character of the text, since the report
 * event does not say which was asked and a file names its format only in its URL.
 */
import { csvRuns } from '@adsync/shared/csv-stream';
import { jsonArrayRuns, type ArrayElement } from '@adsync/shared/json-array-stream';

export async function* reportRuns(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<ArrayElement[]> {
  const it = chunks[Symbol.asyncIterator]();
  const head: (Buffer | string)[] = [];
  let format: 'json' | 'csv' | null = null;
  while (format === null) {
    const next = await it.next();
    if (next.done) break;
    head.push(next.value);
    const text = head.map((c) => (typeof c === 'string' ? c : c.toString('latin1'))).join('');
    // Past a byte-order mark (as UTF-8 bytes or one character) and white space.
    const first = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?\s*(\S)/.exec(text)?.[1];
    if (first !== undefined) format = first === '[' ? 'json' : 'csv';
  }
  const rest = (async function* () {
    yield* head;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  })();
  // An empty file is an empty JSON report.
  yield* format === 'csv' ? csvRuns(rest) : jsonArrayRuns(rest);
}
