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

  /**
   * Walks the text from pos, cutting out each element as it completes. With `untilOne`, stops
   * just after the first element that completes at the top level (true); otherwise, or when no
   * element completes, walks to the end (false).
   */
  const walk = (completed: ArrayElement[], untilOne: boolean): boolean => {
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
          if (untilOne) {
            pos++;
            return true;
          }
        } else if (depth === 0) {
          // A bare last element (a number, a string) ends at the closing bracket: reported too.
          if (start >= 0) completed.push(take(buf.slice(start, pos)));
          start = -1;
          ended = true;
        }
      } else if (depth === 1 && c === 44 /* , */ && start >= 0) {
        completed.push(take(buf.slice(start, pos)));
        start = -1;
        if (untilOne) {
          pos++;
          return true;
        }
      } else if (depth === 1 && start < 0 && c > 32 && c !== 44) {
        start = pos; // numbers, true/false/null at the top level
      }
    }
    return false;
  };

  /**
   * Between elements, the whole objects that follow back to back, up to the last "},{" in the
   * text, in one JSON.parse, without walking them: most of a report is such runs. Anything else
   * (an element that does not parse or is not an object, a cut that lands inside a string, text
   * laid out with spaces) fails that parse or is not tried, and the walk does it. Leaves the
   * text after the cut, an element still arriving, for the next chunk.
   */
  const leap = (completed: ArrayElement[]): boolean => {
    if (depth !== 1 || inString || start >= 0) return false;
    let from = pos;
    while (from < buf.length && (buf.charCodeAt(from) <= 32 || buf.charCodeAt(from) === 44)) from++;
    if (buf.charCodeAt(from) !== OPEN_OBJ) return false;
    const cut = buf.lastIndexOf('},{');
    if (cut <= from) return false;
    let values: unknown;
    try {
      values = JSON.parse(`[${buf.slice(from, cut + 1)}]`);
    } catch {
      return false;
    }
    const list = values as unknown[];
    if (!list.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) return false;
    for (const v of list) completed.push({ ok: true, value: v as Record<string, unknown> });
    pos = cut + 1;
    return true;
  };

  for await (const chunk of chunks) {
    const completed: ArrayElement[] = [];
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    // Finish the element a chunk boundary cut, then leap over whole ones; walk only what a leap
    // cannot take.
    for (let tried = false; ;) {
      if (!tried && depth === 1 && !inString && start < 0) {
        tried = true;
        if (leap(completed)) break;
      }
      if (!walk(completed, !tried)) break;
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
  // What a leap left for a next chunk that never came: the last elements and the closing bracket.
  const rest: ArrayElement[] = [];
  walk(rest, false);
  if (rest.length) yield rest;
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
