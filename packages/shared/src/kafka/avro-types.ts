/**
 * avsc types for our event schemas, with one change to how maps are read: their keys. A
 * rows.parsed row carries its measures and attributes as maps, so every row repeats the same
 * few dozen names; avsc decoded each as a new string and then added it to a fresh object as a
 * never-seen key (a quarter of the loader's CPU was Avro decoding, most of it these maps).
 * Short keys are looked up by their bytes in a small cache instead, so a row gets back the
 * same string, already known as a property name; writing copies a key's cached bytes. The
 * bytes on the wire are exactly avsc's (avro-types.test.ts).
 */
import avro from 'avsc';

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  writeLong(n: number): void;
  writeString(s: string): void;
  _invalidate(): void;
}

const MAX_CACHED_KEY_BYTES = 48;
const CACHE_SLOTS = 4096; // a power of two

/** Recently read short keys by a hash of their bytes; a slot holds the last key that hashed there. */
const slotBytes: (Buffer | undefined)[] = new Array(CACHE_SLOTS);
const slotText: string[] = new Array(CACHE_SLOTS);

function readKey(tap: Tap): string {
  const len = tap.readLong();
  if (len < 0) {
    tap._invalidate();
    return '';
  }
  const buf = tap.buf;
  const pos = tap.pos;
  const end = pos + len;
  tap.pos = end;
  // Past the end: the tap is now invalid, and avsc reports the truncated body.
  if (end > buf.length) return '';
  if (len > MAX_CACHED_KEY_BYTES) return buf.toString('utf8', pos, end);
  let h = len;
  for (let i = pos; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  const slot = h & (CACHE_SLOTS - 1);
  const known = slotBytes[slot];
  if (known !== undefined && known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++)
      if (known[i] !== buf[pos + i]) {
        same = false;
        break;
      }
    if (same) return slotText[slot]!;
  }
  const text = buf.toString('utf8', pos, end);
  slotBytes[slot] = Buffer.from(buf.subarray(pos, end));
  slotText[slot] = text;
  return text;
}

/** Short keys as written: their zig-zag varint length, then their UTF-8 bytes. */
const keyBytes = new Map<string, Buffer>();

/** A short key's bytes as written (length and text), kept after the first time; undefined for a long key. */
export function cachedKeyBytes(key: string): Buffer | undefined {
  let bytes = keyBytes.get(key);
  if (bytes === undefined) {
    if (key.length > MAX_CACHED_KEY_BYTES || keyBytes.size >= CACHE_SLOTS) return undefined;
    const text = Buffer.from(key, 'utf8');
    const head: number[] = [];
    for (let zz = text.length * 2; ; zz = Math.floor(zz / 128)) {
      if (zz < 128) {
        head.push(zz);
        break;
      }
      head.push((zz & 0x7f) | 0x80);
    }
    bytes = Buffer.concat([Buffer.from(head), text]);
    keyBytes.set(key, bytes);
  }
  return bytes;
}

function writeKey(tap: Tap, key: string): void {
  const bytes = cachedKeyBytes(key);
  if (bytes === undefined) return tap.writeString(key);
  const buf = tap.buf;
  const pos = tap.pos;
  tap.pos = pos + bytes.length;
  // Past the end: avsc grows its buffer and writes again (the tap says it is invalid).
  if (tap.pos > buf.length) return;
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[i]!;
}

/**
 * The item count of the next block of an array or map (0: it ends). A negative count is followed
 * by the block's size in bytes (Avro spec, "Arrays" and "Maps"), read past here, not trusted.
 */
function blockCount(tap: Tap): number {
  const n = tap.readLong();
  if (n >= 0) return n;
  tap.skipLong();
  return -n;
}

class KeyCachingMapType extends (avro.types.MapType as unknown as new (schema: unknown, opts: unknown) => avro.Type) {
  _read(tap: Tap): Record<string, unknown> {
    const values = (this as unknown as { valuesType: { _read(t: Tap): unknown } }).valuesType;
    const val: Record<string, unknown> = {};
    for (;;) {
      let n = blockCount(tap);
      if (n === 0) return val;
      while (n--) {
        const key = readKey(tap);
        val[key] = values._read(tap);
      }
    }
  }

  _write(tap: Tap, val: Record<string, unknown>): void {
    // What is not a map is refused by avsc's own writer, with its message.
    if (!val || typeof val !== 'object' || Array.isArray(val))
      return (avro.types.MapType.prototype as unknown as { _write(t: Tap, v: unknown): void })._write.call(
        this,
        tap,
        val,
      );
    const values = (this as unknown as { valuesType: { _write(t: Tap, v: unknown): void } }).valuesType;
    const keys = Object.keys(val);
    if (keys.length) {
      tap.writeLong(keys.length);
      for (const key of keys) {
        writeKey(tap, key);
        values._write(tap, val[key]);
      }
    }
    tap.writeLong(0);
  }
}

/**
 * An Avro array left as the bytes it arrived in: a reader that can use them as they are (the
 * etl-loader turns rows.parsed rows straight into ClickHouse text) skips building an object per
 * item; `decode()` gives the items as usual.
 */
export class EncodedArray<T> {
  /** The message body the array lies in. */
  readonly buf: Buffer;
  /** Where its first block count starts, and just past its closing 0. */
  readonly start: number;
  readonly end: number;
  private known: number | undefined;
  private readonly type: avro.Type;
  private readonly walk: (() => number) | undefined;
  /**
   * With `count`, the array was walked item by item to find its end. Without, it is the last
   * thing in the body, which ends where it does: the walk (`walk`, bounded like the other) runs
   * only if someone asks for the count or the decoded items.
   */
  constructor(buf: Buffer, start: number, end: number, count: number | (() => number), type: avro.Type) {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.type = type;
    if (typeof count === 'number') this.known = count;
    else this.walk = count;
  }

  /** How many items it holds (walking the array the first time, when it was not walked). */
  get count(): number {
    return (this.known ??= this.walk!());
  }

  /** Whether it holds no items: its first block count is 0, a single zero byte. */
  get empty(): boolean {
    return this.buf[this.start] === 0;
  }

  decode(): T[] {
    // A count is known only of bytes walked with the bounds avsc's own decoding lacks.
    void this.count;
    return this.type.fromBuffer(this.buf.subarray(this.start, this.end)) as T[];
  }
}

const helpers = new WeakMap<
  object,
  { decoding: avro.Type; skipItem: (tap: Tap) => void; itemBytes: number; last: boolean }
>();
const ArrayTypeBase = avro.types.ArrayType as unknown as new (schema: unknown, opts: unknown) => avro.Type;

/** Reads an array as an EncodedArray: its items are skipped, counted and left where they are. */
type Skip = (tap: Tap) => void;

/** A block count the bytes left cannot hold is refused (items of no bytes, nulls, get a generous bound). */
function checkBlock(n: number, tap: Tap, itemBytes: number): void {
  const most = itemBytes > 0 ? (tap.buf.length - tap.pos) / itemBytes : 1 << 24;
  if (!(n <= most)) throw new Error(`a block of ${n} items does not fit the bytes left`);
}

/** The fewest bytes a value of the type takes: a block count can be no larger than the bytes left allow. */
function minBytes(type: avro.Type): number {
  const t = type as unknown as {
    typeName: string;
    size?: number;
    fields?: { type: avro.Type }[];
    underlyingType?: avro.Type;
  };
  switch (t.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return t.size!;
    case 'record':
    case 'error':
      return t.fields!.reduce((sum, f) => sum + minBytes(f.type), 0);
    default:
      return t.underlyingType ? minBytes(t.underlyingType) : 1;
  }
}

/**
 * Skips a value of the type, refusing what does not fit the buffer. avsc's own skipping trusts a
 * block's byte size, so a negative one loops forever, and a huge block count runs on past the
 * end; this reads blocks item by item as decoding does, and stops at the end of the buffer.
 */
function skipperOf(type: avro.Type): Skip {
  const t = type as unknown as {
    typeName: string;
    size?: number;
    fields?: { type: avro.Type }[];
    types?: avro.Type[];
    valuesType?: avro.Type;
    itemsType?: avro.Type;
    underlyingType?: avro.Type;
  };
  switch (t.typeName) {
    case 'null':
      return () => undefined;
    case 'boolean':
      return (tap) => void (tap.pos += 1);
    case 'int':
    case 'long':
    case 'enum':
      return (tap) => tap.skipLong();
    case 'float':
      return (tap) => void (tap.pos += 4);
    case 'double':
      return (tap) => void (tap.pos += 8);
    case 'fixed': {
      const size = t.size!;
      return (tap) => void (tap.pos += size);
    }
    case 'string':
    case 'bytes':
      return (tap) => {
        const len = tap.readLong();
        if (!(len >= 0)) throw new Error(`invalid length ${len}`);
        tap.pos += len;
      };
    case 'record':
    case 'error': {
      const fields = t.fields!.map((f) => skipperOf(f.type));
      return (tap) => {
        for (const f of fields) f(tap);
      };
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = t.types!.map(skipperOf);
      return (tap) => {
        const i = tap.readLong();
        const branch = branches[i];
        if (!branch) throw new Error(`union branch ${i} does not exist`);
        branch(tap);
      };
    }
    case 'map': {
      const value = skipperOf(t.valuesType!);
      const key = skipperOf(avro.Type.forSchema('string'));
      return blocksOf(
        (tap) => {
          key(tap);
          value(tap);
        },
        1 + minBytes(t.valuesType!),
      );
    }
    case 'array':
      return blocksOf(skipperOf(t.itemsType!), minBytes(t.itemsType!));
    default:
      if (t.underlyingType) return skipperOf(t.underlyingType);
      throw new Error(`cannot skip a ${t.typeName}`);
  }

  function blocksOf(item: Skip, itemBytes: number): Skip {
    return (tap) => void skipBlocks(tap, item, itemBytes);
  }
}

/**
 * Skips the blocks of an array or map item by item, as decoding reads them (a negative count's
 * byte size is read past, not trusted), refusing a count the bytes left cannot hold and a
 * read past the end. Answers how many items there were.
 */
function skipBlocks(tap: Tap, item: Skip, itemBytes: number): number {
  let count = 0;
  for (;;) {
    let n = blockCount(tap);
    if (n === 0) return count;
    checkBlock(n, tap, itemBytes);
    count += n;
    while (n--) {
      item(tap);
      if (tap.pos > tap.buf.length) throw new Error('truncated buffer');
    }
  }
}

class EncodedArrayType extends ArrayTypeBase {
  constructor(schema: unknown, opts: unknown, decoding: avro.Type, last: boolean) {
    super(schema, opts);
    // avsc freezes its types: what decodes and skips the items lives beside this one.
    const items = (this as unknown as { itemsType: avro.Type }).itemsType;
    helpers.set(this, { decoding, skipItem: skipperOf(items), itemBytes: minBytes(items), last });
  }

  _read(tap: Tap): EncodedArray<unknown> {
    const { decoding, skipItem, itemBytes, last } = helpers.get(this)!;
    const start = tap.pos;
    // (Past the end already, the body is truncated: the walk below says so.)
    if (last && start <= tap.buf.length) {
      // The last field of the body: its items need not be walked to read what follows them.
      const { buf } = tap;
      const Walker = tap.constructor as new (buf: Buffer, pos: number) => Tap;
      tap.pos = buf.length;
      return new EncodedArray(
        buf,
        start,
        buf.length,
        () => {
          const walker = new Walker(buf, start);
          const count = skipBlocks(walker, skipItem, itemBytes);
          if (walker.pos > buf.length) throw new Error('truncated buffer');
          if (walker.pos < buf.length) throw new Error('trailing data after the last field');
          return count;
        },
        decoding,
      );
    }
    const count = skipBlocks(tap, skipItem, itemBytes);
    return new EncodedArray(tap.buf, start, tap.pos, count, decoding);
  }
}

const isMap = (s: unknown) => typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'map';
const recordItemsName = (s: unknown): string | undefined => {
  if (typeof s !== 'object' || s === null || (s as { type?: unknown }).type !== 'array') return undefined;
  const items = (s as { items?: unknown }).items;
  return typeof items === 'object' && items !== null ? (items as { name?: string }).name : undefined;
};

/**
 * The avsc type of a schema, its maps read with cached keys. Arrays of the records named in
 * `keepEncoded` are read as EncodedArray (for a reader that handles their bytes itself).
 */
export function avroType(schema: unknown, keepEncoded: readonly string[] = []): avro.Type {
  // The top record's last field, when it is kept, is read without walking it (EncodedArray).
  const fields = (schema as { type?: unknown; fields?: { type: unknown }[] }).fields;
  const last = (schema as { type?: unknown }).type === 'record' ? fields?.at(-1)?.type : undefined;
  return avro.Type.forSchema(schema as avro.Schema, {
    typeHook: (s, opts) => {
      if (isMap(s)) return new KeyCachingMapType(s, opts) as avro.Type;
      const name = recordItemsName(s);
      if (name !== undefined && keepEncoded.includes(name))
        return new EncodedArrayType(s, opts, avroType(s), s === last) as avro.Type;
      return undefined;
    },
  });
}
