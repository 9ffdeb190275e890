/**
 * Streams the records of a CSV file with a header row (RFC 4180: quoted fields, doubled
 * quotes, line breaks inside quotes, CRLF or LF), as Amazon delivers DSP reports asked for
 * with format CSV. Each record becomes an object by the header's names, its values left as
 * text (normaliseRow reads numbers from text as from JSON). A record with more or fewer
 * fields than the header is yielded as an error with its text, so one bad line never sinks
 * the report; an empty value is absent (null), as a JSON report leaves it out.
 */
import type { ArrayElement } from './json-array-stream.ts';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** The records as they complete, one run per chunk read (never an empty one). */
export async function* csvRuns(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<ArrayElement[]> {
  const decoder = new TextDecoder('utf-8');
  let header: string[] | null = null;
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let afterQuote = false; // a quote seen inside a quoted field: the end, or the first of a doubled pair
  let recordText = '';
  let run: ArrayElement[] = [];

  const endRecord = () => {
    fields.push(field);
    field = '';
    const values = fields;
    fields = [];
    const text = recordText;
    recordText = '';
    if (values.length === 1 && values[0] === '') return; // a blank line
    if (!header) {
      // A byte-order mark before the first name is not part of it.
      header = values.map((v, i) => (i === 0 ? v.replace(/^\uFEFF/, '') : v));
      return;
    }
    if (values.length !== header.length) {
      run.push({ ok: false, error: `${values.length} fields where the header has ${header.length}`, text });
      return;
    }
    const value: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) value[header[i]!] = values[i] === '' ? null : values[i];
    run.push({ ok: true, value });
  };

  const scan = (s: string) => {
    let from = 0; // start of the plain text not yet added to `field`
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quoted) {
        if (afterQuote) {
          afterQuote = false;
          if (c === QUOTE) {
            // A doubled quote: one quote of the value.
            field += '"';
            from = i + 1;
            continue;
          }
          quoted = false; // the quote closed the field; this character is read as outside
        } else {
          if (c === QUOTE) {
            field += s.slice(from, i);
            afterQuote = true;
            from = i + 1;
          }
          continue;
        }
      }
      if (c === QUOTE && field === '' && from === i) {
        quoted = true;
        from = i + 1;
      } else if (c === COMMA) {
        field += s.slice(from, i);
        fields.push(field);
        field = '';
        from = i + 1;
      } else if (c === LF || c === CR) {
        field += s.slice(from, i);
        recordText += s.slice(0, i);
        endRecord();
        // CRLF is one break.
        if (c === CR && s.charCodeAt(i + 1) === LF) i++;
        s = s.slice(i + 1);
        i = -1;
        from = 0;
      }
    }
    // What is left is the start of the next field; a quote just seen has ended its text already.
    if (!afterQuote) field += s.slice(from);
    recordText += s;
  };

  for await (const chunk of chunks) {
    scan(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (run.length) {
      yield run;
      run = [];
    }
  }
  scan(decoder.decode());
  if (quoted && !afterQuote) run.push({ ok: false, error: 'the file ends inside a quoted field', text: recordText });
  else if (field !== '' || fields.length) endRecord();
  if (run.length) yield run;
}
