import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgres, type FreshPostgres } from '../testing/test-stack.ts';
import {
  bulkUpsert,
  copyUpsert,
  copyValue,
  COPY_UPSERT_MIN_ROWS,
  type FirstLoad,
  type UpsertSpec,
} from './bulk-upsert.ts';

let pg: FreshPostgres;

interface Row {
  id: string;
  name: string | null;
  doc: unknown;
  n: number | null;
  flag: boolean | null;
  at: string | null;
}

const columns = { id: 'text', name: 'text', doc: 'jsonb', n: 'int8', flag: 'bool', at: 'timestamptz' };
const spec = (table: string): UpsertSpec<Row> => ({
  table,
  columns,
  key: ['id'],
  keepWhenNull: ['at'],
  alwaysSet: { touched: '1' },
  row: (r) => [r.id, r.name, r.doc, r.n, r.flag, r.at],
});

// Every character COPY's text format treats specially, and the ones JSON does.
const awkward = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', 'quote " and \'', 'ünï ✓', ''];
const rows = (count: number, round: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `k${i}`,
    name: i % 11 === 0 ? null : `${awkward[i % awkward.length]} ${round}`,
    doc: i % 13 === 0 ? null : { s: awkward[(i + round) % awkward.length], list: [i, { deep: '\\t' }], round },
    n: i % 7 === 0 ? null : i * 1_000_003 + round,
    flag: i % 5 === 0 ? null : i % 2 === 0,
    at: round === 1 || i % 3 ? `2026-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:00:00.000Z` : null,
  }));

before(async () => {
  pg = await freshPostgres();
  for (const t of ['via_copy', 'via_unnest'])
    await pg.db.raw(
      `create table ${t} (id text primary key, name text, doc jsonb, n bigint, flag boolean, at timestamptz, touched int not null default 0)`,
    );
});
after(() => pg.drop());

const contents = (t: string) => pg.db(t).orderBy('id').select('id', 'name', 'doc', 'n', 'flag', 'at', 'touched');

test('COPY through a staging table writes exactly what the unnest upsert writes, first as inserts and then as updates', async () => {
  const n = COPY_UPSERT_MIN_ROWS * 2;
  for (const round of [1, 2]) {
    const batch = rows(n, round);
    assert.equal(await copyUpsert(pg.db, spec('via_copy'), batch), n);
    // Below the threshold bulkUpsert takes the unnest path: one row at a time forces it.
    for (const r of batch) await bulkUpsert(pg.db, spec('via_unnest'), [r]);
  }
  const viaCopy = await contents('via_copy');
  assert.equal(viaCopy.length, COPY_UPSERT_MIN_ROWS * 2);
  assert.deepEqual(viaCopy, await contents('via_unnest'));
  assert.ok(
    viaCopy.every((r) => r.touched === 1),
    'the second round updated every row once',
  );
  assert.ok(
    viaCopy.some((r) => r.at !== null && r.id !== 'k0'),
    'keepWhenNull kept the first round timestamps where the second sent none',
  );
});

test('several batches at once each use their own connection and staging table; a failed batch leaves nothing behind', async () => {
  await pg.db('via_copy').delete();
  const batches = [0, 1, 2, 3].map((b) => rows(COPY_UPSERT_MIN_ROWS, 3).map((r) => ({ ...r, id: `${b}-${r.id}` })));
  await Promise.all(batches.map((b) => bulkUpsert(pg.db, spec('via_copy'), b)));
  assert.equal(Number((await pg.db('via_copy').count<{ c: string }[]>('* as c'))[0]!.c), 4 * COPY_UPSERT_MIN_ROWS);
  // A batch naming one key twice cannot be merged: it fails whole, and the staging table is empty after.
  const dup = rows(COPY_UPSERT_MIN_ROWS, 4);
  dup.push({ ...dup[0]! });
  await assert.rejects(copyUpsert(pg.db, spec('via_copy'), dup), /cannot affect row a second time/);
  assert.equal(await copyUpsert(pg.db, spec('via_copy'), rows(COPY_UPSERT_MIN_ROWS, 5)), COPY_UPSERT_MIN_ROWS);
});

test('inside a caller’s transaction COPY batches commit and roll back with it, each batch merged once', async () => {
  await pg.db('via_copy').delete();
  const n = COPY_UPSERT_MIN_ROWS;
  await pg.db.transaction(async (tx) => {
    assert.equal(await bulkUpsert(tx, spec('via_copy'), rows(n, 6)), n);
    // The second batch of the same transaction sees none of the first in the staging table.
    const second = rows(n * 2, 7).slice(n / 2);
    assert.equal(await bulkUpsert(tx, spec('via_copy'), second), second.length);
    assert.equal(Number((await tx('via_copy').count<{ c: string }[]>('* as c'))[0]!.c), n * 2);
  });
  assert.equal(Number((await pg.db('via_copy').count<{ c: string }[]>('* as c'))[0]!.c), n * 2);
  assert.equal((await pg.db('via_copy').where({ id: 'k1' }).first()).n, 1 * 1_000_003 + 6);
  assert.equal(
    (
      await pg
        .db('via_copy')
        .where({ id: `k${n}` })
        .first()
    ).n,
    n * 1_000_003 + 7,
  );
  // A failure later in the transaction takes its COPY batch back with it.
  await assert.rejects(
    pg.db.transaction(async (tx) => {
      await bulkUpsert(tx, spec('via_copy'), rows(n * 3, 8));
      throw new Error('the caller fails after writing');
    }),
    /the caller fails/,
  );
  assert.equal(Number((await pg.db('via_copy').count<{ c: string }[]>('* as c'))[0]!.c), n * 2);
  assert.equal((await pg.db('via_copy').where({ id: 'k1' }).first()).n, 1 * 1_000_003 + 6);
});

const count = async (t: string) => Number((await pg.db(t).count<{ c: string }[]>('* as c'))[0]!.c);

test('a first load COPYs new rows straight in and stores what the merge stores; the first batch with a stored key is merged, and so is every later one', async () => {
  const n = COPY_UPSERT_MIN_ROWS * 2;
  // A table of its own: the merge path leaves its staging table behind in its session, which
  // other sessions see in pg_class, so whether any batch was merged can be told from outside.
  await pg.db.raw(
    `create table via_first (id text primary key, name text, doc jsonb, n bigint, flag boolean, at timestamptz, touched int not null default 0)`,
  );
  const staged = async () =>
    Number(
      (await pg.db.raw(`select count(*) as c from pg_class where relname like 'stage\\_via\\_first\\_%'`)).rows[0].c,
    );
  await pg.db('via_unnest').delete();
  const firstLoad: FirstLoad = { likelyNew: true };
  const round1 = rows(n, 1);
  assert.equal(await bulkUpsert(pg.db, spec('via_first'), round1.slice(0, n / 2), firstLoad), n / 2);
  assert.equal(await bulkUpsert(pg.db, spec('via_first'), round1.slice(n / 2), firstLoad), n / 2);
  assert.equal(firstLoad.likelyNew, true);
  assert.equal(await staged(), 0, 'nothing was stored yet, so both batches went straight in');
  for (const r of round1) await bulkUpsert(pg.db, spec('via_unnest'), [r]);
  const contentsOf = (t: string) => pg.db(t).orderBy('id').select('id', 'name', 'doc', 'n', 'flag', 'at', 'touched');
  assert.deepEqual(await contentsOf('via_first'), await contents('via_unnest'), 'inserted as the merge inserts');
  // A reload: the COPY is refused on the first stored key, and the batch is merged instead.
  const round2 = rows(n + 10, 2);
  assert.equal(await bulkUpsert(pg.db, spec('via_first'), round2, firstLoad), n + 10);
  assert.equal(firstLoad.likelyNew, false);
  assert.ok((await staged()) > 0, 'the refused batch was merged through its staging table');
  for (const r of round2) await bulkUpsert(pg.db, spec('via_unnest'), [r]);
  const after = await contentsOf('via_first');
  assert.equal(after.length, n + 10);
  assert.deepEqual(after, await contents('via_unnest'), 'merged as the merge merges: keepWhenNull, alwaysSet');
  assert.ok(after.filter((r) => r.touched === 1).length === n, 'each stored row updated once, the new ones inserted');
});

test('a first load batch naming a key twice fails as the merge fails and leaves nothing; inside a transaction it rolls back with the caller', async () => {
  await pg.db('via_copy').delete();
  const dup = rows(COPY_UPSERT_MIN_ROWS, 4);
  dup.push({ ...dup[0]! });
  await assert.rejects(
    bulkUpsert(pg.db, spec('via_copy'), dup, { likelyNew: true }),
    /cannot affect row a second time/,
  );
  assert.equal(await count('via_copy'), 0);
  const n = COPY_UPSERT_MIN_ROWS;
  await pg.db.transaction(async (tx) => {
    const firstLoad: FirstLoad = { likelyNew: true };
    assert.equal(await bulkUpsert(tx, spec('via_copy'), rows(n, 5), firstLoad), n);
    assert.equal(firstLoad.likelyNew, true);
    // The refused COPY is taken back to its savepoint; the caller's transaction goes on.
    assert.equal(await bulkUpsert(tx, spec('via_copy'), rows(n * 2, 6), firstLoad), n * 2);
    assert.equal(firstLoad.likelyNew, false);
    assert.equal(
      await tx('via_copy')
        .where({ id: 'k1' })
        .first()
        .then((r) => r.n),
      1 * 1_000_003 + 6,
    );
  });
  assert.equal(await count('via_copy'), n * 2);
  await assert.rejects(
    pg.db.transaction(async (tx) => {
      await bulkUpsert(
        tx,
        spec('via_copy'),
        rows(n, 7).map((r) => ({ ...r, id: `new-${r.id}` })),
        { likelyNew: true },
      );
      throw new Error('the caller fails after writing');
    }),
    /the caller fails/,
  );
  assert.equal(await count('via_copy'), n * 2, 'the straight COPY rolled back with its transaction');
});

test('COPY text values: null, booleans, JSON and the escaped characters', () => {
  assert.equal(copyValue(null, 'text'), '\\N');
  assert.equal(copyValue(undefined, 'int8'), '\\N');
  assert.equal(copyValue('\\N', 'text'), '\\\\N', 'the text \\N is not a null');
  assert.equal(copyValue(true, 'bool'), 't');
  assert.equal(copyValue('a\tb\nc\rd\\e', 'text'), 'a\\tb\\nc\\rd\\\\e');
  assert.equal(copyValue({ a: 'x\ty' }, 'jsonb'), '{"a":"x\\\\ty"}');
});
