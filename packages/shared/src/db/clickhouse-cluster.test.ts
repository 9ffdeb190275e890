import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { clusterStatement } from './clickhouse-cluster.ts';
import { MIGRATIONS_DIR, readMigrations, splitStatements } from './migrations.ts';

const c = (sql: string) => clusterStatement(sql, 'adsync', 'db1');

test('a MergeTree table is created on every server, replicated under its own path', () => {
  assert.equal(
    c('CREATE TABLE IF NOT EXISTS t (a String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY a'),
    "CREATE TABLE IF NOT EXISTS db1.t ON CLUSTER adsync (a String, version UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db1/t', '{replica}', version) ORDER BY a",
  );
  assert.equal(
    c('CREATE TABLE x\n(a String)\nENGINE = MergeTree()\nORDER BY a'),
    "CREATE TABLE db1.x ON CLUSTER adsync\n(a String)\nENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db1/x', '{replica}')\nORDER BY a",
  );
});

test('views, drops and renames go ON CLUSTER; ALTER and INSERT run once and replicate', () => {
  // Each server runs what comes ON CLUSTER in its own default database: every table is named with its own.
  assert.equal(
    c(
      'CREATE VIEW IF NOT EXISTS v AS\nSELECT a FROM t FINAL WHERE a IN (SELECT b FROM u FINAL) AND c IN (SELECT 1 FROM numbers(2))',
    ),
    'CREATE VIEW IF NOT EXISTS db1.v ON CLUSTER adsync AS\nSELECT a FROM db1.t FINAL WHERE a IN (SELECT b FROM db1.u FINAL) AND c IN (SELECT 1 FROM numbers(2))',
  );
  assert.equal(c('DROP TABLE IF EXISTS t'), 'DROP TABLE IF EXISTS db1.t ON CLUSTER adsync');
  assert.equal(c('RENAME TABLE a TO b, c TO a'), 'RENAME TABLE db1.a TO db1.b, db1.c TO db1.a ON CLUSTER adsync');
  for (const sql of [
    'ALTER TABLE t ADD COLUMN x Int64 DEFAULT 0',
    "ALTER TABLE t DELETE WHERE a = 'x'",
    'INSERT INTO t SELECT * FROM u',
  ])
    assert.equal(c(sql), sql);
});

test('what cluster mode cannot place is refused, not guessed', () => {
  assert.throws(() => c('CREATE TABLE t (a String) ENGINE = Log'), /not a MergeTree table/);
  assert.throws(() => c('OPTIMIZE TABLE t FINAL'), /does not know where to apply/);
  assert.throws(() => clusterStatement('DROP TABLE t', 'bad name', 'db1'), /not a cluster name/);
});

test('every statement of every ClickHouse migration has a cluster form', () => {
  let n = 0;
  for (const m of readMigrations(join(MIGRATIONS_DIR, 'clickhouse')))
    for (const sql of [...splitStatements(m.up), ...splitStatements(m.down ?? '')]) {
      const out = c(sql);
      if (/^CREATE TABLE/i.test(sql))
        assert.match(
          out,
          /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/db1\/\w+', '\{replica\}'/,
        );
      n++;
    }
  assert.ok(n > 50, `${n} statements`);
});
