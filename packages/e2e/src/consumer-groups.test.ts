// Every consumer group a service starts carries KAFKA_TOPIC_PREFIX, as every topic does:
// two environments sharing a cluster never share a group (report-poller's did not).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireKafka,
  testConfig,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { ServiceProcess, SERVICE_NAMES, freePort } from '@adsync/shared/testing/service-process';

const cfg = testConfig();
const prefix = `${uniqueName('groups')}.`;
let pg: FreshPostgres;
let ch: FreshClickHouse;
const services: ServiceProcess[] = [];

/** The groups each service runs (its main.ts), without the prefix. */
const GROUPS = [
  'adsync.entity-sync.recent-metrics',
  'adsync.report-poller.wakeup',
  'adsync.report-poller.reconcile',
  'adsync.etl-loader.download',
  'adsync.etl-loader.clickhouse',
  'adsync.etl-loader.dead-letter-index',
  'adsync.supplier-sync.workers',
];

before(async () => {
  await requireKafka(cfg);
  pg = await freshPostgres();
  ch = await freshClickHouse();
  const env = {
    DATABASE_URL: pg.url,
    CLICKHOUSE_DATABASE: ch.ch.database,
    KAFKA_TOPIC_PREFIX: prefix,
    SCHEMA_REGISTRY_URL: cfg.SCHEMA_REGISTRY_URL ?? '',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    KAFKA_SESSION_TIMEOUT_MS: '10000',
  };
  for (const name of SERVICE_NAMES) services.push(new ServiceProcess(name, { port: await freePort(), env }));
  await Promise.all(services.map((s) => s.start(120_000)));
});

after(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await ch?.drop();
  await pg?.drop();
});

test('every consumer group of every service carries the environment prefix, and has its member', async () => {
  const admin = new Kafka({ clientId: 'groups-test', brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const groups = await eventually(
      async () => {
        const listed = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
        return GROUPS.every((g) => listed.includes(`${prefix}${g}`)) ? listed : undefined;
      },
      { what: 'every group joined', timeoutMs: 60_000 },
    );
    assert.deepEqual(groups.sort(), GROUPS.map((g) => `${prefix}${g}`).sort());
    const described = await admin.describeGroups(groups);
    for (const g of described.groups) assert.ok(g.members.length >= 1, `${g.groupId} has a member`);
  } finally {
    await admin.disconnect();
  }
});
