import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaFor, type RowsParsed } from '../events/contracts.ts';
import { avroType } from './avro-types.ts';
import { InRepoSchemaCodec, SchemaValidationError, encodeFramed } from './codec.ts';
import { writeRowsParsed } from './rows-parsed-writer.ts';
import { sampleEvent } from './sample-events.ts';

const type = avroType(schemaFor('rows.parsed'));
const ID = 0x1234abcd;

/** A deterministic generator, so a failure names the seed that found it. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

// Each varint width, both signs, both of avsc's arithmetic paths (±2^30 is where they meet), and avsc's limits (±(2^53 - 2)).
const LONGS = [
  0,
  1,
  -1,
  63,
  64,
  -64,
  -65,
  127,
  128,
  8191,
  8192,
  2 ** 30 - 1,
  2 ** 30,
  -(2 ** 30),
  -(2 ** 30) - 1,
  2 ** 31,
  2 ** 35,
  -(2 ** 40) + 3,
  2 ** 53 - 2,
  -(2 ** 53 - 2),
  1_500_000,
  123_456_789_012,
];
const TEXTS = [
  '',
  'a',
  'Brand – exact',
  'ü',
  '日本語',
  'emoji 🎉 pair',
  'x'.repeat(64),
  'y'.repeat(65),
  `${'z'.repeat(63)}é`,
  `${'long ASCII '.repeat(20)}`,
  `${'mixed ß '.repeat(30)}`,
  'tab\tand\nnewline "quoted" \\',
];
// Lone surrogates (a name cut inside a pair): avsc writes them its own way, so such an event goes its way.
const LONE = ['a\ud800b', '\udc00', `${'w'.repeat(40)}\ud83d`, `${'k'.repeat(48)}\udc00`];

function event(rnd: () => number): RowsParsed {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const compact = rnd() < 0.7;
  const columns = compact ? Array.from({ length: Math.floor(rnd() * 40) }, (_, i) => `measure_${i}_micros`) : [];
  return {
    ...(sampleEvent('rows.parsed', `e-${Math.floor(rnd() * 1e9)}`) as RowsParsed),
    reportType: pick(TEXTS),
    batchIndex: pick([0, 1, 63, 64, 5000, 2 ** 31 - 1, -(2 ** 31)]),
    lastBatch: rnd() < 0.5,
    measureColumns: columns,
    rows: Array.from({ length: Math.floor(rnd() * 30) }, () => ({
      date: '2026-11-01',
      entityId: String(Math.floor(rnd() * 1e15)),
      campaignId: pick(TEXTS),
      adGroupId: pick([null, '7', pick(TEXTS)]),
      currency: pick(['USD', 'JPY', 'EUR']),
      impressions: pick(LONGS),
      clicks: pick(LONGS),
      costMicros: pick(LONGS),
      salesMicros: pick(LONGS),
      orders: pick(LONGS),
      units: pick(LONGS),
      attributes: Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 6) }, () => [
          pick([...TEXTS, 'k'.repeat(49), 'campaignName']),
          pick(TEXTS),
        ]),
      ),
      measures: compact
        ? {}
        : Object.fromEntries(Array.from({ length: Math.floor(rnd() * 10) }, (_, i) => [`m${i}`, pick(LONGS)])),
      measureValues: columns.map(() => pick(LONGS)),
    })),
  };
}

test('rows.parsed written by hand is byte for byte what avsc writes, for every long width, text and row form', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const value = event(random(seed));
    assert.deepEqual(writeRowsParsed(value, ID), encodeFramed(type, ID, value), `seed ${seed}`);
  }
});

test('text with a lone surrogate is left to avsc, which the codec then writes', async () => {
  const good = sampleEvent('rows.parsed', 's') as RowsParsed;
  const row = good.rows[0]!;
  const codec = new InRepoSchemaCodec();
  await codec.init();
  for (const text of LONE)
    for (const value of [
      { ...good, reportType: text },
      { ...good, rows: [{ ...row, campaignId: text }] },
      { ...good, rows: [{ ...row, attributes: { [text]: 'x', name: text } }] },
    ]) {
      assert.equal(writeRowsParsed(value, ID), null, JSON.stringify(text));
      const bytes = await codec.encode('rows.parsed', value);
      assert.deepEqual(bytes.subarray(5), encodeFramed(type, 0, value).subarray(5), JSON.stringify(text));
    }
});

test('fields with defaults left out are written as their defaults, as avsc writes them', () => {
  const full = sampleEvent('rows.parsed', 'd') as RowsParsed;
  const row = { ...full.rows[0]! } as Partial<RowsParsed['rows'][number]>;
  delete row.adGroupId;
  delete row.attributes;
  delete row.measures;
  delete row.measureValues;
  const value = { ...full, measureColumns: undefined, rows: [row] };
  assert.deepEqual(writeRowsParsed(value, ID), encodeFramed(type, ID, value));
});

test('a value that does not fit is left to avsc, and the codec still refuses it naming the field', async () => {
  const good = sampleEvent('rows.parsed', 'm') as RowsParsed;
  const row = good.rows[0]!;
  const misfits: [string, unknown][] = [
    ['a string that is a number', { ...good, profileId: 42 }],
    ['a fractional batch index', { ...good, batchIndex: 1.5 }],
    ['an int out of range', { ...good, batchIndex: 2 ** 31 }],
    ['a boolean as a number', { ...good, lastBatch: 1 }],
    ['rows not an array', { ...good, rows: {} }],
    ['a row that is null', { ...good, rows: [null] }],
    ['a fractional count', { ...good, rows: [{ ...row, clicks: 2.5 }] }],
    ['a long past avsc’s limit', { ...good, rows: [{ ...row, costMicros: 2 ** 53 - 1 }] }],
    ['an infinite count', { ...good, rows: [{ ...row, orders: Number.POSITIVE_INFINITY }] }],
    ['a count as text', { ...good, rows: [{ ...row, impressions: '10' }] }],
    ['an attribute that is a number', { ...good, rows: [{ ...row, attributes: { a: 1 } }] }],
    ['a measure value that is NaN', { ...good, rows: [{ ...row, measureValues: [Number.NaN] }] }],
    ['measures as an array', { ...good, rows: [{ ...row, measures: [] }] }],
  ];
  const codec = new InRepoSchemaCodec();
  await codec.init();
  for (const [what, value] of misfits) {
    assert.equal(writeRowsParsed(value, ID), null, what);
    await assert.rejects(codec.encode('rows.parsed', value as RowsParsed), SchemaValidationError, what);
  }
  // After a misfit, the next event is written whole (nothing of the abandoned one is left behind).
  assert.deepEqual(writeRowsParsed(good, ID), encodeFramed(type, ID, good));
});

test('a message larger than the writer’s buffer is written whole', () => {
  const value = event(random(7));
  const wide = { ...value, rows: Array.from({ length: 3000 }, () => value.rows[0] ?? event(random(8)).rows[0]!) };
  const bytes = writeRowsParsed(wide, ID)!;
  assert.ok(bytes.length > 256 * 1024, `${bytes.length} bytes`);
  assert.deepEqual(bytes, encodeFramed(type, ID, wide));
});
