/**
 * rows.parsed rows from the Avro bytes they arrive in straight to ClickHouse TabSeparated
 * bytes: no row object, no string per field, no text encoded back to UTF-8. Decoding rows into
 * objects and writing them out again as text was three quarters of the loader's CPU.
 *
 * This is the fast path, held byte for byte to the object path (factRow, fact-lines.ts) and to
 * rows-check.ts by encoded-rows.test.ts. Whatever it is not sure of it hands back (null), and
 * that message takes the object path, which decides: a row rows-check would refuse, a number
 * past what avsc reads safely, text JSON would escape or that is not UTF-8, the older measures
 * maps, a truncated body. Pure, apart from reusing its scratch arrays between calls.
 */
import { isUtf8 } from 'node:buffer';
import type { EncodedArray } from '@adsync/shared/kafka/avro-types';
import type { MetricRow, RowsParsed } from '@adsync/shared/events/contracts';
import { tsvField } from '@adsync/shared/db/tab-separated';
import { ROW_COUNTS, ROW_TEXT, type Field, type PullStamp } from './fact-rows.ts';

const MAX_ATTRIBUTES = 64;
const MAX_MEASURES = 1024;
/** avsc refuses longs past this (isSafeLong): such a message is the object path's to refuse. */
const SAFE_LONG = 9007199254740990;

// ---- one row, where readRow leaves it: text as byte ranges, numbers as values ----
const textStart = new Int32Array(ROW_TEXT.length);
const textEnd = new Int32Array(ROW_TEXT.length);
const counts = new Float64Array(ROW_COUNTS.length);
const keyStart = new Int32Array(MAX_ATTRIBUTES);
const keyEnd = new Int32Array(MAX_ATTRIBUTES);
const valueStart = new Int32Array(MAX_ATTRIBUTES);
const valueEnd = new Int32Array(MAX_ATTRIBUTES);
let attributeCount = 0;
const measureValues = new Float64Array(MAX_MEASURES);
let measureCount = 0;
let pos = 0;

const TEXT_SLOT: Record<string, number> = Object.fromEntries(ROW_TEXT.map((f, i) => [f, i]));
const COUNT_SLOT: Record<string, number> = Object.fromEntries(ROW_COUNTS.map((f, i) => [f, i]));
const AD_GROUP = TEXT_SLOT.adGroupId!;
const DATE = TEXT_SLOT.date!;
const ENTITY = TEXT_SLOT.entityId!;

/** avsc's own long reading (Tap.readLong), bounded by `end`: NaN when past it or unsafe. */
function readLong(buf: Buffer, end: number): number {
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    if (pos >= end) return NaN;
    b = buf[pos++]!;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (!h) return (n >> 1) ^ -(n & 1);
  let f = n;
  let fk = 268435456;
  do {
    if (pos >= end) return NaN;
    b = buf[pos++]!;
    f += (b & 0x7f) * fk;
    fk *= 128;
  } while (b & 0x80);
  const v = (f % 2 ? -(f + 1) : f) / 2;
  return v >= -SAFE_LONG && v <= SAFE_LONG ? v : NaN;
}

/**
 * The number of items in the next block of an Avro array or map (0: it ends), its byte size
 * skipped when it gives one (a negative count); NaN when the bytes are not a count.
 */
function blockCount(buf: Buffer, end: number): number {
  const n = readLong(buf, end);
  if (!(n < 0)) return n;
  return readLong(buf, end) >= 0 ? -n : NaN;
}

/** A string's byte range into the slot arrays; false when it runs past `end`. */
function readText(buf: Buffer, end: number, starts: Int32Array, ends: Int32Array, slot: number): boolean {
  const len = readLong(buf, end);
  if (!(len >= 0) || pos + len > end) return false;
  starts[slot] = pos;
  pos += len;
  ends[slot] = pos;
  return true;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9];
/** rows-check's calendar day (YYYY-MM-DD, a real day, 2000-01-01 to 2100-12-31), from the bytes. */
function isDay(buf: Buffer, s: number, e: number): boolean {
  if (e - s !== 10 || buf[s + 4] !== 45 || buf[s + 7] !== 45) return false;
  for (const i of DIGIT_AT) if (buf[s + i]! < 48 || buf[s + i]! > 57) return false;
  const at = (i: number) => buf[s + i]! - 48;
  const y = at(0) * 1000 + at(1) * 100 + at(2) * 10 + at(3);
  const m = at(5) * 10 + at(6);
  const d = at(8) * 10 + at(9);
  if (y < 2000 || y > 2100 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!);
}

/** Whether the day at `s` (checked by isDay) comes before `day` (10 bytes, YYYY-MM-DD). */
function dayBefore(buf: Buffer, s: number, day: Buffer): boolean {
  for (let i = 0; i < 10; i++) {
    const a = buf[s + i]!;
    const b = day[i]!;
    if (a !== b) return a < b;
  }
  return false;
}

function sameBytes(x: Buffer, a: number, aEnd: number, y: Buffer, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; a + i < aEnd; i++) if (x[a + i] !== y[b + i]) return false;
  return true;
}
const PROTO = Buffer.from('__proto__', 'latin1');

/**
 * Reads one MetricRow (its fields in rows.parsed.avsc's order) and checks what rows-check
 * checks; false hands the message to the object path.
 */
function readRow(buf: Buffer, end: number, measureColumns: number): boolean {
  for (let i = 0; i < ROW_TEXT.length; i++) {
    if (i === AD_GROUP) {
      // ["null", "string"]: the branch index, then the string when there is one.
      const branch = readLong(buf, end);
      if (branch === 0) {
        textStart[i] = textEnd[i] = 0;
        continue;
      }
      if (branch !== 1) return false;
    }
    if (!readText(buf, end, textStart, textEnd, i)) return false;
  }
  if (!isDay(buf, textStart[DATE]!, textEnd[DATE]!) || textEnd[ENTITY] === textStart[ENTITY]) return false;
  for (let i = 0; i < ROW_COUNTS.length; i++) {
    const v = readLong(buf, end);
    if (!(v >= 0)) return false;
    counts[i] = v;
  }
  attributeCount = 0;
  for (;;) {
    let n = blockCount(buf, end);
    if (n === 0) break;
    if (!(n === n)) return false;
    while (n--) {
      const a = attributeCount;
      if (a >= MAX_ATTRIBUTES) return false;
      if (!readText(buf, end, keyStart, keyEnd, a) || !readText(buf, end, valueStart, valueEnd, a)) return false;
      const k0 = keyStart[a]!;
      // JSON.stringify of an object puts integer-like keys first and drops a "__proto__";
      // a repeated key keeps its first place but its last value. Rare: the object path does those.
      if (keyEnd[a]! > k0 && buf[k0]! >= 48 && buf[k0]! <= 57) return false;
      if (sameBytes(PROTO, 0, PROTO.length, buf, k0, keyEnd[a]!)) return false;
      for (let j = 0; j < a; j++) if (sameBytes(buf, keyStart[j]!, keyEnd[j]!, buf, k0, keyEnd[a]!)) return false;
      attributeCount++;
    }
  }
  // The measures map is the older form: the object path reads it.
  if (readLong(buf, end) !== 0) return false;
  measureCount = 0;
  for (;;) {
    let n = blockCount(buf, end);
    if (n === 0) break;
    if (!(n === n)) return false;
    while (n--) {
      if (measureCount >= MAX_MEASURES) return false;
      const v = readLong(buf, end);
      if (!(v === v)) return false;
      measureValues[measureCount++] = v;
    }
  }
  return measureCount === measureColumns;
}

let textPerByte = 2;
/** "00" to "99" as ASCII, two bytes each. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));
/** The most a safe long takes as text: a sign and 16 digits. */
const NUMBER_ROOM = 21;

/**
 * A growing byte buffer for one message's text. The writers below do not check its room: the
 * caller makes room once per row for the most that row can take (rowRoom), which saved a check
 * per field.
 */
class ByteOut {
  buf: Buffer;
  len = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  take(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Bytes at `len`; returns the length after them. */
function putBytes(o: Buffer, len: number, b: Buffer): number {
  const n = b.length;
  // A loop beats TypedArray#set only for the shortest constants: set costs the same at any
  // length, a loop 2 ns a byte (measured on Node 24).
  if (n > 8) {
    o.set(b, len);
    return len + n;
  }
  for (let i = 0; i < n; i++) o[len++] = b[i]!;
  return len;
}

/** A whole number (a safe long), as String() writes it; returns the length after it. */
function putNumber(o: Buffer, len: number, v: number): number {
  if (v < 10 && v >= 0) {
    o[len] = 48 + v;
    return len + 1;
  }
  if (v < 0 || v > 0x7fffffff) return len + o.write(String(v), len, 'latin1');
  const digits =
    v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
  const after = len + digits;
  let at = after;
  // Two digits a step, from a table: half the divisions.
  while (v >= 100) {
    const q = (v / 100) | 0;
    const r = (v - q * 100) << 1;
    o[--at] = PAIRS[r + 1]!;
    o[--at] = PAIRS[r]!;
    v = q;
  }
  if (v >= 10) {
    o[at - 1] = PAIRS[(v << 1) + 1]!;
    o[at - 2] = PAIRS[v << 1]!;
  } else o[at - 1] = 48 + v;
  return after;
}

/**
 * Text as a TabSeparated field (tsvField's escapes); returns the length after it, or -1 when the
 * text is not valid UTF-8.
 */
function putText(o: Buffer, len: number, src: Buffer, s: number, e: number): number {
  let high = 0;
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    // Most bytes need no escape: one test for them first.
    if (b > 13 && b !== 92) {
      high |= b;
      o[len++] = b;
    } else if (b === 92) {
      o[len++] = 92;
      o[len++] = 92;
    } else if (b === 9) {
      o[len++] = 92;
      o[len++] = 116;
    } else if (b === 10) {
      o[len++] = 92;
      o[len++] = 110;
    } else if (b === 13) {
      o[len++] = 92;
      o[len++] = 114;
    } else o[len++] = b;
  }
  return high < 128 || isUtf8(src.subarray(s, e)) ? len : -1;
}

/** Text inside a JSON string; returns the length after it, or -1 when JSON would escape some of it or it is not UTF-8. */
function putJsonText(o: Buffer, len: number, src: Buffer, s: number, e: number): number {
  let high = 0;
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    if (b === 34 || b === 92 || b < 32) return -1;
    high |= b;
    o[len++] = b;
  }
  return high < 128 || isUtf8(src.subarray(s, e)) ? len : -1;
}

// The steps of a plan.
const CONST = 0;
const TEXT = 1;
const COUNT = 2;
const ATTRIBUTE = 3;
const MEASURE = 4;
const JSON_OBJECT = 5;
/** A constant of one byte (a tab between two row fields, the most common step): the byte is the step's arg. */
const BYTE = 6;
type Op = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/**
 * One output's fields for one message: constants merged, the rest one step per row value.
 * Kept in typed arrays, so the per-row loop reads numbers only.
 */
interface Plan {
  ops: Uint8Array;
  /** Per step: the byte, the text or count slot, the measure's index, or the index into consts or keys. */
  arg: Int32Array;
  consts: Buffer[];
  keys: Buffer[][];
  /** The most a row writes that does not depend on its text: constants, numbers, JSON braces. */
  fixed: number;
  /** Steps that write the row's text (at most twice its bytes each: escapes). */
  textSteps: number;
  /** Steps that write every attribute as JSON (six bytes of quotes, colon and comma each). */
  jsonSteps: number;
}

function plan(fields: readonly Field[], ev: RowsParsed, stamp: PullStamp): Plan {
  const ops: Op[] = [];
  const arg: number[] = [];
  const consts: Buffer[] = [];
  const keys: Buffer[][] = [];
  let fixed = 0;
  let textSteps = 0;
  let jsonSteps = 0;
  let text = '';
  const step = (op: Op, a: number) => {
    ops.push(op);
    arg.push(a);
  };
  const flush = () => {
    if (!text) return;
    const bytes = Buffer.from(text, 'utf8');
    fixed += bytes.length;
    if (bytes.length === 1) step(BYTE, bytes[0]!);
    else step(CONST, consts.push(bytes) - 1);
    text = '';
  };
  for (const [i, f] of fields.entries()) {
    if (i > 0) text += '\t';
    if ('message' in f) {
      text += tsvField(f.message(ev, stamp));
      continue;
    }
    const src = f.row;
    if ('field' in src) {
      flush();
      if (src.field in TEXT_SLOT) {
        step(TEXT, TEXT_SLOT[src.field]!);
        textSteps++;
      } else {
        step(COUNT, COUNT_SLOT[src.field]!);
        fixed += NUMBER_ROOM;
      }
    } else if ('attribute' in src) {
      if (src.onlyAt !== undefined && ev.entityLevel !== src.onlyAt) continue; // '' at this level
      flush();
      step(ATTRIBUTE, keys.push(src.attribute.map((k) => Buffer.from(k, 'utf8'))) - 1);
      textSteps++;
    } else if ('measure' in src) {
      const at = (ev.measureColumns ?? []).indexOf(src.measure);
      if (at < 0) {
        text += '0';
        continue;
      }
      flush();
      step(MEASURE, at);
      fixed += NUMBER_ROOM;
    } else {
      flush();
      step(JSON_OBJECT, 0);
      fixed += 2;
      textSteps++;
      jsonSteps++;
    }
  }
  text += '\n';
  flush();
  return { ops: Uint8Array.from(ops), arg: Int32Array.from(arg), consts, keys, fixed, textSteps, jsonSteps };
}

function findAttribute(buf: Buffer, key: Buffer): number {
  for (let a = 0; a < attributeCount; a++) {
    const s = keyStart[a]!;
    if (keyEnd[a]! - s !== key.length) continue;
    let same = true;
    for (let i = 0; i < key.length; i++)
      if (buf[s + i] !== key[i]) {
        same = false;
        break;
      }
    if (same) return a;
  }
  return -1;
}

/**
 * Writes the row readRow left (`rowBytes` of Avro), by a plan; false when some text must take
 * the object path. Makes room once for the most the row can take.
 */
function writeRow(src: Buffer, p: Plan, out: ByteOut, rowBytes: number): boolean {
  out.room(p.fixed + 2 * rowBytes * p.textSteps + 6 * attributeCount * p.jsonSteps);
  const o = out.buf;
  let len = out.len;
  const { ops, arg } = p;
  for (let i = 0; i < ops.length; i++) {
    const a = arg[i]!;
    switch (ops[i]) {
      case BYTE:
        o[len++] = a;
        break;
      case CONST:
        len = putBytes(o, len, p.consts[a]!);
        break;
      case TEXT:
        len = putText(o, len, src, textStart[a]!, textEnd[a]!);
        if (len < 0) return false;
        break;
      case COUNT:
        len = putNumber(o, len, counts[a]!);
        break;
      case MEASURE:
        len = putNumber(o, len, measureValues[a]!);
        break;
      case ATTRIBUTE: {
        for (const key of p.keys[a]!) {
          const at = findAttribute(src, key);
          if (at < 0) continue;
          len = putText(o, len, src, valueStart[at]!, valueEnd[at]!);
          if (len < 0) return false;
          break;
        }
        break;
      }
      case JSON_OBJECT: {
        o[len++] = 123; // {
        for (let k = 0; k < attributeCount; k++) {
          if (k > 0) o[len++] = 44; // ,
          o[len++] = 34;
          len = putJsonText(o, len, src, keyStart[k]!, keyEnd[k]!);
          if (len < 0) return false;
          o[len++] = 34;
          o[len++] = 58; // :
          o[len++] = 34;
          len = putJsonText(o, len, src, valueStart[k]!, valueEnd[k]!);
          if (len < 0) return false;
          o[len++] = 34;
        }
        o[len++] = 125; // }
        break;
      }
    }
  }
  out.len = len;
  return true;
}

export interface EncodedText {
  /** The message's rows as TabSeparated lines of `fields`. */
  text: Buffer;
  /** With `recent`: the lines of the rows dated on or after its day, of its fields. */
  recentText: Buffer | null;
  rows: number;
}

/**
 * One message's rows, still encoded, as TabSeparated lines of `fields` (and, with `recent`, of
 * the recent rows); null when the object path must take this message.
 */
export function encodedRowsText(
  ev: RowsParsed,
  rows: EncodedArray<MetricRow>,
  fields: readonly Field[],
  stamp: PullStamp,
  recent?: { fields: readonly Field[]; from: string },
): EncodedText | null {
  const columns = ev.measureColumns?.length ?? 0;
  if (columns === 0 && !rows.empty) return null;
  const main = plan(fields, ev, stamp);
  const recentPlan = recent ? plan(recent.fields, ev, stamp) : null;
  const from = recent ? Buffer.from(recent.from, 'latin1') : null;
  const { buf, end } = rows;
  // Sized from the last message's text per Avro byte, so the buffer seldom grows (a copy each time).
  const out = new ByteOut(Math.max(256, Math.ceil((end - rows.start) * (textPerByte + 0.25))));
  const recentOut = recentPlan ? new ByteOut(1024) : null;
  pos = rows.start;
  let n = 0;
  for (;;) {
    let blocks = blockCount(buf, end);
    if (blocks === 0) break;
    if (!(blocks === blocks)) return null;
    while (blocks--) {
      const rowStart = pos;
      if (!readRow(buf, end, columns) || !writeRow(buf, main, out, pos - rowStart)) return null;
      // Dated on or after `from` (both YYYY-MM-DD, so their bytes sort as the days do).
      if (recentPlan && from && !dayBefore(buf, textStart[DATE]!, from))
        if (!writeRow(buf, recentPlan, recentOut!, pos - rowStart)) return null;
      n++;
    }
  }
  // Read item by item up to the closing 0, which must be the array's last byte.
  if (pos !== end) return null;
  // Kept within what rows take: an odd message (no rows, long text per message) must not size the next.
  if (n > 0) textPerByte = Math.min(4, Math.max(1.5, out.len / (end - rows.start)));
  return { text: out.take(), recentText: recentOut && recentOut.len ? recentOut.take() : null, rows: n };
}
