import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandMacros } from './grafana-macros.ts';

const ctx = {
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-08T00:00:00Z'),
  variables: { profile: ['1', "o'brien"] },
};

test('ClickHouse macros and quoted multi-value variables', () => {
  assert.equal(
    expandMacros('SELECT 1 FROM t WHERE $__dateFilter(date) AND $__timeFilter(at) AND p IN (${profile:singlequote})', {
      ...ctx,
      dialect: 'clickhouse',
    }),
    `SELECT 1 FROM t WHERE date >= toDate('2026-11-01') AND date <= toDate('2026-11-08') AND at >= toDateTime(${Date.parse('2026-11-01T00:00:00Z') / 1000}) AND at <= toDateTime(${Date.parse('2026-11-08T00:00:00Z') / 1000}) AND p IN ('1', 'o''brien')`,
  );
});

test('Postgres time filter; unknown variables and macros are errors', () => {
  assert.match(
    expandMacros('SELECT 1 WHERE $__timeFilter(created_at)', { ...ctx, dialect: 'postgres' }),
    /created_at BETWEEN '2026-11-01T00:00:00.000Z' AND '2026-11-08T00:00:00.000Z'/,
  );
  assert.throws(() => expandMacros('SELECT ${nope}', { ...ctx, dialect: 'postgres' }), /does not define/);
  assert.throws(() => expandMacros('SELECT $__interval_ms', { ...ctx, dialect: 'postgres' }), /unexpanded macro/);
});
