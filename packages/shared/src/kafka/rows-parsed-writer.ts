/**
 * rows.parsed written by hand: the Confluent wire header and the Avro body of
 * `schemas/rows.parsed.avsc`, the same bytes avsc writes (rows-parsed-writer.test.ts holds it to
 * them). avsc walked every row twice, once to validate and once to write through its Tap, and
 * that was about a sixth of the loader's CPU on a report job; this walks each row once, checking
 * every value as it writes it. Anything it does not expect (a value of the wrong type, a row
 * that is not an object, text with a lone surrogate) makes it answer null, and the codec's general
 * path writes the event or refuses it with the problems named.
 */
import { cachedKeyBytes } from './avro-types.ts';

let buf = Buffer.allocUnsafe(256 * 1024);
let pos = 0;
const KEPT = 32 * 1024 * 1024;

/** Thrown inside the writer when a value does not fit the schema; the caller answers null. */
const MISFIT = new Error('misfit');

function room(n: number): void {
  if (pos + n <= buf.length) return;
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
  buf.copy(next, 0, 0, pos);
  buf = next;
}

/** Avro's zig-zag varint, as avsc's Tap.writeLong writes it (room for 10 bytes already made). */
function long(n: number): void {
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[pos++] = m;
  } else {
    let f = n >= 0 ? n * 2 : -n * 2 - 1;
    while (f >= 128) {
      buf[pos++] = (f & 0x7f) | 0x80;
      f = Math.floor(f / 128);
    }
    buf[pos++] = f;
  }
}

/** avsc's "long" in JavaScript numbers: integers within ±(2^53 - 2), past which it refuses them. */
const LONG_LIMIT = 2 ** 53 - 2;

function checkedLong(v: unknown): void {
  if (typeof v !== 'number') throw MISFIT;
  if ((v | 0) === v && v >= -1073741824 && v < 1073741824) {
    // Most values: small integers, written with integer arithmetic alone.
    let m = v >= 0 ? v << 1 : (~v << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[pos++] = m;
    return;
  }
  if (v % 1 !== 0 || v > LONG_LIMIT || v < -LONG_LIMIT) throw MISFIT;
  long(v);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function str(s: unknown): void {
  if (typeof s !== 'string') throw MISFIT;
  const n = s.length;
  if (n <= 64) {
    // Most strings are short ASCII: written as they are scanned, undone at the first other character.
    room(n + 10);
    const start = pos;
    long(n);
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos++] = c;
    }
    if (i === n) return;
    pos = start;
  }
  // A lone surrogate: avsc writes it raw where Buffer writes U+FFFD; avsc writes the whole event then.
  if (LONE_SURROGATE.test(s)) throw MISFIT;
  const len = Buffer.byteLength(s, 'utf8');
  room(len + 10);
  long(len);
  pos += buf.write(s, pos, len, 'utf8');
}

function key(k: string): void {
  const bytes = cachedKeyBytes(k);
  if (!bytes) return str(k);
  room(bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i]!;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A map of strings or longs; absent, its default ({}). */
function map(v: unknown, values: 'string' | 'long'): void {
  room(10);
  if (v === undefined) {
    buf[pos++] = 0;
    return;
  }
  if (!isMap(v)) throw MISFIT;
  const keys = Object.keys(v);
  if (keys.length) {
    long(keys.length);
    for (const k of keys) {
      key(k);
      room(10);
      if (values === 'long') checkedLong(v[k]);
      else str(v[k]);
    }
  }
  room(1);
  buf[pos++] = 0;
}

function longs(v: unknown): void {
  room(10);
  if (v === undefined) {
    buf[pos++] = 0;
    return;
  }
  if (!Array.isArray(v)) throw MISFIT;
  const n = v.length;
  if (n) {
    long(n);
    room(n * 10 + 1);
    for (let i = 0; i < n; i++) checkedLong(v[i]);
  }
  buf[pos++] = 0;
}

function row(r: unknown): void {
  if (!isMap(r)) throw MISFIT;
  str(r.date);
  str(r.entityId);
  str(r.campaignId);
  const adGroupId = r.adGroupId;
  room(1);
  if (adGroupId === null || adGroupId === undefined) buf[pos++] = 0;
  else {
    buf[pos++] = 2; // union branch 1, zig-zag
    str(adGroupId);
  }
  str(r.currency);
  room(60);
  checkedLong(r.impressions);
  checkedLong(r.clicks);
  checkedLong(r.costMicros);
  checkedLong(r.salesMicros);
  checkedLong(r.orders);
  checkedLong(r.units);
  map(r.attributes, 'string');
  map(r.measures, 'long');
  longs(r.measureValues);
}

/** The framed message (magic byte, schema id, Avro body) of a rows.parsed event, or null if it does not fit. */
export function writeRowsParsed(value: unknown, schemaId: number): Buffer | null {
  pos = 0;
  try {
    if (!isMap(value)) return null;
    room(5);
    buf[pos++] = 0;
    buf.writeUInt32BE(schemaId, pos);
    pos += 4;
    str(value.eventId);
    str(value.occurredAt);
    str(value.pendingReportId);
    str(value.profileId);
    str(value.reportId);
    str(value.reportType);
    str(value.entityLevel);
    const batchIndex = value.batchIndex;
    if (typeof batchIndex !== 'number' || batchIndex !== (batchIndex | 0)) return null;
    room(11);
    long(batchIndex);
    if (typeof value.lastBatch !== 'boolean') return null;
    buf[pos++] = value.lastBatch ? 1 : 0;
    str(value.pulledAt);
    const columns = value.measureColumns;
    room(10);
    if (columns === undefined) buf[pos++] = 0;
    else {
      if (!Array.isArray(columns)) return null;
      if (columns.length) {
        long(columns.length);
        for (const c of columns) str(c);
      }
      room(1);
      buf[pos++] = 0;
    }
    const rows = value.rows;
    if (!Array.isArray(rows)) return null;
    room(10);
    if (rows.length) {
      long(rows.length);
      for (const r of rows) row(r);
    }
    room(1);
    buf[pos++] = 0;
    const out = Buffer.allocUnsafe(pos);
    buf.copy(out, 0, 0, pos);
    return out;
  } catch (err) {
    if (err === MISFIT) return null;
    throw err;
  } finally {
    if (buf.length > KEPT) buf = Buffer.allocUnsafe(256 * 1024);
  }
}
