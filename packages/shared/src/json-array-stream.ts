/**
 * Streams the elements of a top-level JSON array of objects (Amazon's report
 * files) without holding the document: text arrives in chunks, each complete
 * element is cut out by tracking depth and strings, and parsed on its own. An
 * element that does not parse is yielded as an error with its text, so one bad
 * row never sinks the report.
 */
import { PermanentError } from './runtime/errors.ts';
export type ArrayElement = { ok: true; value: Record<string, unknown> } | { ok: false; error: string; text: string };

const OPEN_OBJ = 123; // {
const CLOSE_OBJ = 125; // }
const OPEN_ARR = 91; // [
const CLOSE_ARR = 93; // ]
const QUOTE = 34; // "
const BACKSLASH = 92;

/**
 * The elements of the array as they complete, one run per chunk read (never an empty one): an
 * export or report holds hundreds of thousands of elements, and handing each over through its
 * own async iteration (a promise and a microtask) cost more than cutting it out.
 */
export async function* jsonArrayRuns(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<ArrayElement[]> {
  const decoder = new TextDecoder('utf-8');
  let buf = '';
  let pos = 0; // scan position in buf
  let start = -1; // start of the current element in buf
  let depth = 0; // nesting depth, the outer array is depth 1
  let inString = false;
  let sawArray = false;
  let ended = false;

  const take = (text: string): ArrayElement => {
    try {
      const v = JSON.parse(text) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        return { ok: false, error: 'element is not an object', text };
      return { ok: true, value: v as Record<string, unknown> };
    } catch (err) {
      return { ok: false, error: (err as Error).message, text };
    }
  };

  for await (const chunk of chunks) {
    const completed: ArrayElement[] = [];
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const n = buf.length;
    for (; pos < n; pos++) {
      if (inString) {
        // Most of an element is string text: jump to the next quote instead of walking to it
        // (half the parse time went to this loop). A quote after an odd run of backslashes is
        // escaped; the run is always in buf, which holds the whole unfinished element.
        const q = buf.indexOf('"', pos);
        if (q < 0) {
          pos = n;
          break;
        }
        let slashes = 0;
        while (buf.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
        pos = q;
        if (slashes % 2 === 0) inString = false;
        continue;
      }
      const c = buf.charCodeAt(pos);
      if (c === QUOTE) {
        inString = true;
        if (depth === 1 && start < 0) start = pos; // a bare string element: reported as not an object
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        if (depth === 0) {
          if (c !== OPEN_ARR)
            throw new PermanentError('report file is not a JSON array', { code: 'AMAZON_REPORT_FILE' });
          sawArray = true;
        } else if (depth === 1) start = pos;
        depth++;
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        depth--;
        if (depth === 1 && start >= 0) {
          completed.push(take(buf.slice(start, pos + 1)));
          start = -1;
        } else if (depth === 0) {
          ended = true;
        }
      } else if (depth === 1 && c === 44 /* , */ && start >= 0) {
        completed.push(take(buf.slice(start, pos)));
        start = -1;
      } else if (depth === 1 && start < 0 && c > 32 && c !== 44) {
        start = pos; // numbers, true/false/null at the top level
      }
    }
    if (completed.length) yield completed;
    // Keep only the unfinished element (if any) to bound memory.
    const keepFrom = start >= 0 ? start : pos;
    if (keepFrom > 0) {
      buf = buf.slice(keepFrom);
      pos -= keepFrom;
      if (start >= 0) start = 0;
    }
  }
  decoder.decode(); // flush; a dangling partial character cannot complete an element
  if (!sawArray) throw new PermanentError('report file is empty or not a JSON array', { code: 'AMAZON_REPORT_FILE' });
  if (!ended)
    throw new PermanentError('report file ended before its closing bracket (truncated download?)', {
      code: 'AMAZON_REPORT_FILE',
    });
}

/** The elements one at a time, for a caller that does async work per element anyway. */
export async function* jsonArrayElements(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<ArrayElement> {
  for await (const run of jsonArrayRuns(chunks)) yield* run;
}
