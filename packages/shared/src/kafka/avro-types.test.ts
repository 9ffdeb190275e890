import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { ALL_TOPICS, schemaFor } from '../events/contracts.ts';
import { sampleEvent } from './sample-events.ts';
import { avroType, type EncodedArray } from './avro-types.ts';

const schema = {
  type: 'record',
  name: 'R',
  fields: [
    { name: 'rows', type: { type: 'array', items: { type: 'map', values: 'long' } } },
    { name: 'labels', type: { type: 'map', values: 'string' } },
  ],
};

/** A deterministic generator, so a failure names the seed that found it. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test('maps read with cached keys equal avsc’s own reading, for repeated, colliding, long and non-ASCII keys', () => {
  const plain = avro.Type.forSchema(schema as avro.Schema);
  const ours = avroType(schema);
  const names = ['impressions', 'sales_7d_micros', 'ü', '日本語のキー', '', 'x'.repeat(48), 'y'.repeat(49), 'a\u0000b'];
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = random(seed);
    const key = () =>
      rnd() < 0.6
        ? names[Math.floor(rnd() * names.length)]!
        : // Many distinct short keys, so cache slots collide and are replaced.
          `k${Math.floor(rnd() * 20_000)}${rnd() < 0.1 ? '€' : ''}`;
    const value = {
      rows: Array.from({ length: Math.floor(rnd() * 20) }, () =>
        Object.fromEntries(
          Array.from({ length: Math.floor(rnd() * 12) }, () => [key(), Math.floor(rnd() * 1e12) - 5e11]),
        ),
      ),
      labels: Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [key(), key()])),
    };
    const bytes = plain.toBuffer(value);
    // Record classes differ between the two types; what they hold must not.
    const data = (v: unknown) => JSON.parse(JSON.stringify(v));
    assert.deepEqual(data(ours.fromBuffer(bytes)), data(plain.fromBuffer(bytes)), `seed ${seed}`);
    assert.deepEqual(data(ours.fromBuffer(bytes)), data(value), `seed ${seed}: what was written`);
    assert.deepEqual(ours.toBuffer(value), bytes, `seed ${seed}: the same bytes written`);
  }
});

test('Avro blocks with byte sizes (negative counts) and truncated bodies are read as avsc reads them', () => {
  const type = avroType({ type: 'map', values: 'long' });
  // {"a": 1, "b": 2} as one block of -2 entries with its byte size, then the end block.
  const sized = Buffer.from([0x03, 0x0a, 0x02, 0x61, 0x02, 0x02, 0x62, 0x04, 0x00]);
  assert.deepEqual({ ...(type.fromBuffer(sized) as object) }, { a: 1, b: 2 });
  const full = type.toBuffer({ impressions: 5 });
  assert.throws(() => type.fromBuffer(full.subarray(0, full.length - 3)), /truncated buffer/);
});

test('every event round-trips through the cached-key types, whose schemas are avsc’s own', () => {
  for (const topic of ALL_TOPICS) {
    const s = schemaFor(topic);
    assert.ok(avroType(s).equals(avro.Type.forSchema(s as avro.Schema)), topic);
    const ev = sampleEvent(topic, 'x');
    assert.deepEqual(
      JSON.parse(JSON.stringify(avroType(s).fromBuffer(avro.Type.forSchema(s as avro.Schema).toBuffer(ev)))),
      JSON.parse(JSON.stringify(ev)),
      topic,
    );
  }
});

test('a value too large for the first buffer, and one that is not a map, are written as avsc writes them', () => {
  const type = avroType({ type: 'map', values: 'string' });
  const plain = avro.Type.forSchema({ type: 'map', values: 'string' });
  const big = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`key_${i % 50}_${i}`, 'v'.repeat(i % 7)]));
  assert.deepEqual(type.toBuffer(big), plain.toBuffer(big));
  assert.throws(() => type.toBuffer([1, 2] as never), /invalid/);
  assert.equal(type.isValid({ a: 1 }), false);
});

test('rows kept encoded: the same rows decode() gives as a full read, and blocks written in parts are counted', () => {
  const plain = avroType(schemaFor('rows.parsed'));
  const keeping = avroType(schemaFor('rows.parsed'), ['MetricRow']);
  const ev = sampleEvent('rows.parsed', 'k');
  const many = { ...ev, rows: Array.from({ length: 7 }, (_, i) => ({ ...ev.rows[0]!, entityId: `e${i}` })) };
  const body = plain.toBuffer(many);
  const kept = keeping.fromBuffer(body) as { rows: EncodedArray<unknown>; reportId: string };
  assert.equal(kept.reportId, many.reportId);
  assert.equal(kept.rows.count, 7);
  assert.deepEqual(JSON.parse(JSON.stringify(kept.rows.decode())), JSON.parse(JSON.stringify(many.rows)));
  // The same rows as two blocks, the second with a byte size (a negative count), as other writers may send.
  const rowsType = (plain as unknown as { field(name: string): { type: avro.Type } }).field('rows').type;
  const itemType = (rowsType as unknown as { itemsType: avro.Type }).itemsType;
  const items = many.rows.map((r) => itemType.toBuffer(r));
  const head = body.subarray(0, kept.rows.start);
  const long = (n: number) => avro.Type.forSchema('long').toBuffer(n);
  const second = Buffer.concat(items.slice(3));
  const blocks = Buffer.concat([head, long(3), ...items.slice(0, 3), long(-4), long(second.length), second, long(0)]);
  const again = keeping.fromBuffer(blocks) as { rows: EncodedArray<unknown> };
  assert.equal(again.rows.count, 7);
  assert.deepEqual(JSON.parse(JSON.stringify(again.rows.decode())), JSON.parse(JSON.stringify(many.rows)));
});

test('rows kept encoded: a block size pointing backwards or a count past the bytes is refused at once, never looped on', () => {
  const plain = avroType(schemaFor('rows.parsed'));
  const keeping = avroType(schemaFor('rows.parsed'), ['MetricRow']);
  const ev = sampleEvent('rows.parsed', 'k');
  const body = plain.toBuffer({ ...ev, rows: [{ ...ev.rows[0]!, attributes: {}, measures: {}, measureValues: [] }] });
  const kept = keeping.fromBuffer(body) as { rows: EncodedArray<unknown> };
  // The row's last three fields are empty maps and an empty array: 00 00 00, then the rows' closing 00.
  assert.deepEqual([...body.subarray(body.length - 4)], [0, 0, 0, 0]);
  const long = (n: number) => avro.Type.forSchema('long').toBuffer(n);
  // attributes as a block of -1 items whose byte size is -2: avsc's own skip jumps back to it for ever.
  const backwards = Buffer.concat([
    body.subarray(0, body.length - 4),
    long(-1),
    long(-2),
    body.subarray(body.length - 4),
  ]);
  // The rows are the body's last field, so reading the body does not walk them: asking for their
  // count or their items does, and refuses.
  const rowsOf = (b: Buffer) => (keeping.fromBuffer(b) as { rows: EncodedArray<unknown> }).rows;
  const started = Date.now();
  assert.throws(() => rowsOf(backwards).count);
  assert.throws(() => rowsOf(backwards).decode());
  // A rows block of 2^40 items in a body of a few hundred bytes.
  const huge = Buffer.concat([body.subarray(0, kept.rows.start), long(2 ** 40), body.subarray(kept.rows.start + 1)]);
  assert.throws(() => rowsOf(huge).count, /does not fit the bytes left/);
  assert.throws(() => rowsOf(huge).decode(), /does not fit the bytes left/);
  // Reading the body leaves them unwalked: it does not throw, only the walk does.
  assert.doesNotThrow(() => keeping.fromBuffer(huge));
  // Without their closing 0, the rows are cut short.
  assert.throws(() => rowsOf(body.subarray(0, body.length - 1)).count, /truncated/);
  // A body cut before its rows begin is refused as it is read, as avsc refuses it.
  for (const at of [5, 40, kept.rows.start - 1])
    assert.throws(() => keeping.fromBuffer(body.subarray(0, at)), /truncated/, `cut at ${at}`);
  // Bytes after the rows' closing 0 are not rows.
  assert.throws(() => rowsOf(Buffer.concat([body, Buffer.from([0])])).count, /trailing data/);
  assert.ok(Date.now() - started < 1000, 'refused at once');
  // An array kept anywhere but last is walked as the body is read, and refused then.
  const inner = avroType(
    {
      type: 'record',
      name: 'Outer',
      fields: [
        { name: 'rows', type: schemaFor('rows.parsed') },
        { name: 'after', type: 'int' },
      ],
    },
    ['MetricRow'],
  );
  const outer = Buffer.concat([huge, long(1)]);
  assert.throws(() => inner.fromBuffer(outer), /does not fit the bytes left/);
});
