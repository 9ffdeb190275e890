// The fast path from Avro bytes must write exactly what the object path writes (factRow's
// fields through fact-lines.ts), or hand the message back; and it must never pass a message
// rows-check refuses. Messages are encoded with the real rows.parsed schema, as producers do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaFor, type MetricRow, type RowsParsed } from '@adsync/shared/events/contracts';
import { avroType, type EncodedArray } from '@adsync/shared/kafka/avro-types';
import { measureColumnsOf as tableMeasures, type FactTable } from '@adsync/shared/amazon/report-catalog';
import { RECENT_COLUMNS } from '@adsync/shared/reports/ads-metrics';
import { encodedRowsText } from './encoded-rows.ts';
import { columnFields, factLines, insertColumns } from './fact-lines.ts';
import { RECENT_FIELDS, type PullStamp } from './fact-rows.ts';
import { rowsParsedProblem } from './rows-check.ts';

const plain = avroType(schemaFor('rows.parsed'));
const keeping = avroType(schemaFor('rows.parsed'), ['MetricRow']);
const stamp: PullStamp = { pulledAt: '2026-11-02 03:04:05', version: 1762052645000, loadedAt: '2026-11-05 00:00:00' };
const RECENT_FROM = '2026-10-22';
const recentFields = RECENT_COLUMNS.map((c) => RECENT_FIELDS[c]!);
const TYPE_OF: Record<FactTable, string> = {
  ads_metrics_daily: 'spTargeting',
  ads_purchased_products: 'spPurchasedProduct',
  ads_traffic_quality: 'spGrossAndInvalids',
  ads_audience_daily: 'spAudiences',
  ads_conversion_paths: 'conversionPath',
  dsp_metrics_daily: 'dspInventory',
};

/** A seeded generator: the same cases on every run, and a failure names its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}

const TEXT = ['plain', 'tab\there', 'line\nbreak', 'cr\rhere', 'back\\slash', 'Ünïcödé 🛒 日本語', '', '\\N', "it's"];
const NUMBERS = [0, 1, 9, 10, 99, 12345, 2 ** 31 - 1, 2 ** 31, 2 ** 40 + 7, 9007199254740990, 730_000, 19_990_000];

function randomEvent(seed: number, table: FactTable, rows: number): RowsParsed {
  const r = rng(seed);
  const measureColumns =
    table === 'ads_traffic_quality'
      ? ['impressions', 'clicks', 'gross_impressions', 'invalid_click_throughs']
      : tableMeasures(table)
          .filter(() => r.chance(0.2))
          .slice(0, 8);
  if (!measureColumns.length) measureColumns.push(tableMeasures(table)[0] ?? 'clicks');
  const entityLevel =
    table === 'ads_metrics_daily'
      ? r.pick(['target', 'search_term', 'campaign'])
      : table === 'dsp_metrics_daily'
        ? r.pick(['line_item', 'creative'])
        : 'purchased_product';
  const row = (): MetricRow => {
    const attributes: Record<string, string> = {};
    for (const k of [
      'searchTerm',
      'keyword',
      'matchType',
      'advertisedAsin',
      'promotedAsin',
      'purchasedAsin',
      'asinBrandHalo',
      'campaignStatus',
      'keywordId',
      'attributionType',
      // DSP's breakdowns, each a column of dsp_metrics_daily.
      'advertiserId',
      'creativeId',
      'supplySource',
      'site',
      'deviceName',
    ])
      if (r.chance(0.4))
        attributes[k] = r.chance(0.7)
          ? `v${r.int(1000)}`
          : // Traffic-quality rows write no JSON, so their attributes may hold what JSON escapes.
            r.pick(table === 'ads_traffic_quality' ? TEXT : ['Ünïcödé 🛒', 'ascii words', '', "o'k"]);
    return {
      date: `2026-${String(10 + r.int(2)).padStart(2, '0')}-${String(1 + r.int(28)).padStart(2, '0')}`,
      entityId: r.chance(0.8) ? String(100000000000 + r.int(1e9)) : r.pick(TEXT.filter(Boolean)),
      campaignId: r.pick([String(r.int(1e12)), ...TEXT]),
      adGroupId: r.chance(0.3) ? null : r.pick([String(r.int(1e12)), ...TEXT]),
      currency: r.pick(['USD', 'EUR', 'JPY']),
      impressions: r.pick(NUMBERS),
      clicks: r.pick(NUMBERS),
      costMicros: r.pick(NUMBERS),
      salesMicros: r.pick(NUMBERS),
      orders: r.int(50),
      units: r.int(50),
      attributes,
      measures: {},
      // Measures may be negative (restated returns): only the fixed counts must not be.
      measureValues: measureColumns.map(() => (r.chance(0.1) ? -r.pick(NUMBERS) : r.pick(NUMBERS))),
    };
  };
  return {
    eventId: `e${seed}`,
    occurredAt: '2026-11-02T00:00:00Z',
    pendingReportId: '00000000-0000-4000-8000-000000000001',
    profileId: `p\t${seed}`,
    reportId: 'r1',
    reportType: TYPE_OF[table],
    entityLevel,
    batchIndex: 0,
    lastBatch: false,
    pulledAt: '2026-11-02T03:04:05Z',
    measureColumns,
    rows: Array.from({ length: rows }, row),
  };
}

/** The event as the loader reads it from bytes (optionally edited), with what the object path makes of it. */
function throughBytes(ev: RowsParsed, edit?: (body: Buffer) => void) {
  const body = plain.toBuffer(ev);
  edit?.(body);
  const kept = keeping.fromBuffer(body) as Omit<RowsParsed, 'rows'> & { rows: EncodedArray<MetricRow> };
  const table = Object.entries(TYPE_OF).find(([, t]) => t === ev.reportType)![0] as FactTable;
  const fields = columnFields(table, insertColumns(table, [ev]));
  const recent = table === 'ads_metrics_daily' ? { fields: recentFields, from: RECENT_FROM } : undefined;
  const fast = encodedRowsText(kept as unknown as RowsParsed, kept.rows, fields, stamp, recent);
  let objects: RowsParsed | null = null;
  try {
    objects = { ...kept, rows: kept.rows.decode() };
  } catch {
    // avsc refuses the bytes: the object path dead-letters the message.
  }
  const problem = objects ? rowsParsedProblem(objects) : 'does not decode';
  const slow =
    objects && !problem
      ? {
          text: objects.rows.map(factLines(fields)(objects, stamp)).join(''),
          recentText: recent
            ? objects.rows
                .filter((r) => r.date >= RECENT_FROM)
                .map(factLines(recentFields)(objects, stamp))
                .join('')
            : '',
        }
      : null;
  return { fast, slow, problem };
}

test('for every table, the bytes path writes exactly the object path’s text, recent rows included', () => {
  let rows = 0;
  for (let seed = 1; seed <= 60; seed++)
    for (const table of Object.keys(TYPE_OF) as FactTable[]) {
      const { fast, slow, problem } = throughBytes(randomEvent(seed, table, 40));
      assert.equal(problem, null, `seed ${seed} ${table}`);
      assert.ok(fast, `the fast path handed back a plain message (seed ${seed}, ${table})`);
      assert.equal(fast.text.toString('utf8'), slow!.text, `seed ${seed} ${table}`);
      assert.equal(fast.recentText?.toString('utf8') ?? '', slow!.recentText, `seed ${seed} ${table} recent`);
      rows += fast.rows;
    }
  assert.equal(rows, 60 * Object.keys(TYPE_OF).length * 40);
});

test('rows whose every text byte is escaped, after messages that set a small buffer, lose no byte', () => {
  // The writer makes room once per row for the most the row can take (each text byte escaped to
  // two) and then writes unchecked: a bound too small would drop bytes past the buffer silently.
  const escapes = (n: number, at: number) => Array.from({ length: n }, (_, i) => '\\\t\n\r'[(i + at) % 4]).join('');
  for (const table of Object.keys(TYPE_OF) as FactTable[]) {
    // Plain messages first: the next buffer is sized from their text per byte.
    for (let seed = 1; seed <= 3; seed++) throughBytes(randomEvent(seed, table, 40));
    const ev = randomEvent(7, table, 200);
    ev.rows.forEach((r, i) => {
      r.entityId = escapes(40 + (i % 7), i);
      r.campaignId = escapes(30, i + 1);
      r.adGroupId = escapes(25, i + 2);
      if (table === 'ads_traffic_quality') r.attributes = { searchTerm: escapes(60, i), keyword: escapes(9, i) };
    });
    const { fast, slow, problem } = throughBytes(ev);
    assert.equal(problem, null, table);
    assert.ok(fast, `the fast path handed back a message it can write (${table})`);
    assert.equal(fast.text.toString('utf8'), slow!.text, table);
    assert.equal(fast.recentText?.toString('utf8') ?? '', slow!.recentText, `${table} recent`);
  }
});

test('whole numbers of every length, and around each power of ten, are written as String() writes them', () => {
  const values: number[] = [];
  for (let v = 0; v <= 2_000; v++) values.push(v);
  for (let p = 10; p <= 1e15; p *= 10) values.push(p - 1, p, p + 1, p + 9, 2 * p + 3);
  values.push(2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 9007199254740990);
  const base = randomEvent(7, 'ads_metrics_daily', 1);
  const ev: RowsParsed = {
    ...base,
    rows: values.map((v, i) => ({
      ...base.rows[0]!,
      impressions: v,
      clicks: i,
      measureValues: base.measureColumns!.map(() => -v),
    })),
  };
  const { fast, slow, problem } = throughBytes(ev);
  assert.equal(problem, null);
  assert.ok(fast, 'the bytes path wrote them');
  assert.equal(fast.text.toString('utf8'), slow!.text);
  assert.equal(fast.rows, values.length);
});

test('a row rows-check refuses is never written by the bytes path', () => {
  const refused: Partial<MetricRow>[] = [
    { clicks: -1 },
    { costMicros: -5 },
    { date: '2026-02-30' },
    { date: '2026-2-3' },
    { date: '1999-12-31' },
    { date: '2101-01-01' },
    { date: '300x-01-01' },
    { date: '2026-1x-01' },
    { date: '20260-1-01' },
    { entityId: '' },
    { measureValues: [1] },
  ];
  for (const patch of refused) {
    const ev = randomEvent(7, 'ads_metrics_daily', 5);
    ev.rows[3] = { ...ev.rows[3]!, ...patch };
    const { fast, problem } = throughBytes(ev);
    assert.ok(problem, JSON.stringify(patch));
    assert.equal(fast, null, `${JSON.stringify(patch)} must go to the object path`);
  }
  // Every one-character change of a day: refused by both paths, or written the same by both.
  for (let at = 0; at < 10; at++)
    for (const c of '0123456789-x/ ') {
      const ev = randomEvent(5, 'ads_metrics_daily', 1);
      const day = '2028-02-29';
      ev.rows[0]!.date = day.slice(0, at) + c + day.slice(at + 1);
      const { fast, slow, problem } = throughBytes(ev);
      if (problem) assert.equal(fast, null, ev.rows[0]!.date);
      else assert.equal(fast?.text.toString('utf8'), slow!.text, ev.rows[0]!.date);
    }
  // Leap days are days.
  const leap = randomEvent(7, 'ads_metrics_daily', 2);
  leap.rows[0]!.date = '2028-02-29';
  leap.rows[1]!.date = '2000-02-29';
  assert.ok(throughBytes(leap).fast);
});

test('what the bytes path is not sure of it hands back, and the object path decides', () => {
  const cases: [string, (ev: RowsParsed) => void, ((b: Buffer) => void)?][] = [
    ['a quote in an attribute', (ev) => (ev.rows[0]!.attributes.keyword = 'say "hi"')],
    ['a backslash in an attribute', (ev) => (ev.rows[0]!.attributes.keyword = 'a\\b')],
    ['a control character in an attribute', (ev) => (ev.rows[0]!.attributes.keyword = 'a\u0001b')],
    ['an integer-like key', (ev) => (ev.rows[0]!.attributes['12'] = 'x')],
    ['a __proto__ key', (ev) => (ev.rows[0]!.attributes = JSON.parse('{"__proto__":"x","keyword":"k"}'))],
    ['the older measures map', (ev) => (ev.rows[0]!.measures = { clicks: 3 })],
    [
      'a repeated key',
      (ev) => (ev.rows[0]!.attributes = { keyword: 'one', kexword: 'two' }),
      (b) => b.write('keyword', b.indexOf('kexword'), 'latin1'),
    ],
    [
      'text that is not UTF-8',
      (ev) => (ev.rows[0]!.campaignId = 'XXXX'),
      (b) => b.fill(0xff, b.indexOf('XXXX'), b.indexOf('XXXX') + 2),
    ],
    [
      'an attribute that is not UTF-8',
      (ev) => (ev.rows[0]!.attributes.keyword = 'XXXX'),
      (b) => b.fill(0xfe, b.indexOf('XXXX'), b.indexOf('XXXX') + 1),
    ],
  ];
  for (const [name, change, edit] of cases) {
    const ev = randomEvent(11, 'ads_metrics_daily', 3);
    change(ev);
    const { fast, slow, problem } = throughBytes(ev, edit);
    assert.equal(fast, null, `${name}: handed back`);
    assert.ok(slow, `${name}: the object path loads it (${problem})`);
  }
});

test('a truncated body or a count past 2^53 is handed back, and avsc refuses it', () => {
  const ev = randomEvent(3, 'ads_metrics_daily', 4);
  const body = plain.toBuffer(ev);
  const kept = keeping.fromBuffer(body) as Omit<RowsParsed, 'rows'> & { rows: EncodedArray<MetricRow> };
  const fields = columnFields('ads_metrics_daily', insertColumns('ads_metrics_daily', [ev]));
  // The rows cut short: what a corrupted message would hold.
  const cut = (
    keeping.fromBuffer(body.subarray(0, body.length - 3)) as Omit<RowsParsed, 'rows'> & {
      rows: EncodedArray<MetricRow>;
    }
  ).rows;
  assert.equal(encodedRowsText(kept as unknown as RowsParsed, cut, fields, stamp), null);
  // The rows are the body's last field, read without walking them: the walk, when asked, refuses.
  assert.throws(() => cut.count, /truncated/);
  assert.throws(() => cut.decode(), /truncated/);

  // avsc neither writes nor reads a long past 2^53 - 2: the largest it writes, made 2^53 in the bytes.
  const big = randomEvent(3, 'ads_metrics_daily', 2);
  big.rows[1]!.measureValues![0] = 9007199254740990;
  const largest = avroType('long').toBuffer(9007199254740990);
  const past = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]); // zig-zag 2^54, i.e. 2^53
  assert.equal(largest.length, past.length);
  const { fast, problem } = throughBytes(big, (b) => past.copy(b, b.indexOf(largest)));
  assert.equal(fast, null);
  assert.equal(problem, 'does not decode');
});

test('rows sent in several blocks, one with its byte size (a negative count), are written the same', () => {
  const ev = randomEvent(21, 'ads_metrics_daily', 6);
  const body = plain.toBuffer(ev);
  const kept = keeping.fromBuffer(body) as Omit<RowsParsed, 'rows'> & { rows: EncodedArray<MetricRow> };
  const item = (
    plain as unknown as { field(n: string): { type: { itemsType: { toBuffer(v: unknown): Buffer } } } }
  ).field('rows').type.itemsType;
  const rows = ev.rows.map((r) => item.toBuffer(r));
  const long = (n: number) => avroType('long').toBuffer(n);
  const second = Buffer.concat(rows.slice(2));
  const blocks = Buffer.concat([
    body.subarray(0, kept.rows.start),
    long(2),
    ...rows.slice(0, 2),
    long(-4),
    long(second.length),
    second,
    long(0),
  ]);
  const again = keeping.fromBuffer(blocks) as Omit<RowsParsed, 'rows'> & { rows: EncodedArray<MetricRow> };
  const fields = columnFields('ads_metrics_daily', insertColumns('ads_metrics_daily', [ev]));
  const one = encodedRowsText(kept as unknown as RowsParsed, kept.rows, fields, stamp);
  const parts = encodedRowsText(again as unknown as RowsParsed, again.rows, fields, stamp);
  assert.ok(one && parts);
  assert.equal(parts.rows, 6);
  assert.equal(parts.text.toString('utf8'), one.text.toString('utf8'));
});
