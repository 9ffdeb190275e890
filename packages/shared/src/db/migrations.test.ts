import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  MIGRATIONS_DIR,
  MigrationDriftError,
  planMigrations,
  readMigrations,
  splitStatements,
  type MigrationFile,
} from './migrations.ts';

const file = (version: number, up: string): MigrationFile => ({
  version,
  name: `m${version}`,
  up,
  down: null,
  checksum: `c-${up}`,
});

test('pending migrations are those not yet applied, in order', () => {
  const files = [file(1, 'a'), file(2, 'b'), file(3, 'c')];
  assert.deepEqual(
    planMigrations(files, [{ version: 1, name: 'm1', checksum: 'c-a' }]).map((f) => f.version),
    [2, 3],
  );
});

test('an edited applied migration is drift', () => {
  assert.throws(
    () => planMigrations([file(1, 'edited')], [{ version: 1, name: 'm1', checksum: 'c-a' }]),
    MigrationDriftError,
  );
});

test('an applied migration whose file vanished is drift', () => {
  assert.throws(() => planMigrations([], [{ version: 7, name: 'gone', checksum: 'x' }]), /file is missing/);
});

test('ClickHouse statements split only on the explicit marker', () => {
  const sql = "CREATE TABLE a (s String DEFAULT 'x;y');\n-- statement\n-- a comment\nCREATE TABLE b (n UInt8);\n";
  assert.deepEqual(splitStatements(sql), ["CREATE TABLE a (s String DEFAULT 'x;y')", 'CREATE TABLE b (n UInt8)']);
});

test('the shipped migration sources are well-formed', () => {
  for (const db of ['postgres', 'clickhouse']) {
    const files = readMigrations(join(MIGRATIONS_DIR, db));
    assert.ok(files.length > 0, `${db} has migrations`);
    files.forEach((f, i) => assert.equal(f.version, i + 1, `${db} versions are contiguous from 1`));
  }
});
