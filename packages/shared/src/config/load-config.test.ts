import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, loadConfig, hostPortList, port } from './load-config.ts';
import { loadBaseConfig } from './base-config.ts';

test('defaults run the local stack with an empty environment', () => {
  const cfg = loadBaseConfig({});
  assert.deepEqual(cfg.KAFKA_BROKERS, ['127.0.0.1:19092']);
  assert.equal(cfg.DATABASE_URL, 'postgres://adsync:adsync@127.0.0.1:55432/adsync');
  assert.equal(cfg.SCHEMA_REGISTRY_URL, undefined);
});

test('empty strings fall back to defaults instead of failing', () => {
  const cfg = loadBaseConfig({ SCHEMA_REGISTRY_URL: '', LOG_LEVEL: '  ' });
  assert.equal(cfg.SCHEMA_REGISTRY_URL, undefined);
  assert.equal(cfg.LOG_LEVEL, 'info');
});

test('every bad variable is named in one error', () => {
  assert.throws(
    () => loadBaseConfig({ KAFKA_BROKERS: 'localhost', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'ADSYNC_ERR_CONFIG');
      const vars = err.problems.map((p) => p.variable).sort();
      assert.deepEqual(vars, ['DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL']);
      assert.match(err.message, /KAFKA_BROKERS: expected a comma-separated list of host:port/);
      return true;
    },
  );
});

test('values are coerced and trimmed', () => {
  const cfg = loadConfig(
    { PORT: port, B: hostPortList, NAME: z.string() },
    { PORT: ' 8080 ', B: 'a:1, b:2', NAME: 'x' },
  );
  assert.equal(cfg.PORT, 8080);
  assert.deepEqual(cfg.B, ['a:1', 'b:2']);
});
