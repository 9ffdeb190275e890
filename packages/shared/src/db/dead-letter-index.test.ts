// Dead letters reach ClickHouse whichever service wrote them: the index is fed from the
// <topic>.dlq topics, not by the service that dead-lettered (report-poller and
// supplier-sync have no ClickHouse of their own, and their letters were never indexed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, type EventBus } from '../kafka/event-bus.ts';
import { InRepoSchemaCodec } from '../kafka/codec.ts';
import { PermanentError } from '../runtime/errors.ts';
import { sampleEvent } from '../kafka/sample-events.ts';
import { migrateClickHouse } from './migrations.ts';
import { indexDeadLetters } from './dead-letter-index.ts';
import {
  eventually,
  freshClickHouse,
  requireKafka,
  testConfig,
  testLogger,
  uniqueName,
  type FreshClickHouse,
} from '../testing/test-stack.ts';

const cfg = testConfig();
const prefix = `${uniqueName('dli')}.`;
let bus: EventBus;
let ch: FreshClickHouse;

before(async () => {
  await requireKafka(cfg);
  ch = await freshClickHouse();
  await migrateClickHouse(ch.ch);
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'dli-test',
    codec: new InRepoSchemaCodec(),
    log: testLogger('dli'),
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
});

after(async () => {
  await bus?.close();
  await ch?.drop();
});

const indexed = async () =>
  (
    await (
      await ch.ch.client.query({
        query: 'SELECT topic, consumer_group, step, reason, message_key FROM dead_letters FINAL ORDER BY message_key',
        format: 'JSONEachRow',
      })
    ).json<Record<string, string>>()
  ).map((r) => ({ ...r }));

test('a dead letter from a service without ClickHouse is indexed once, even when the index reads it twice', async () => {
  // Like report-poller's wake-up consumer: a message it cannot take, dead-lettered by a bus with no ClickHouse at all.
  await bus.publish('report.requested', [sampleEvent('report.requested', 'for-the-poller')], () => 'poller-key');
  const poller = await bus.consume({
    topic: 'report.requested',
    groupId: `${prefix}adsync.report-poller.wakeup`,
    handle: async () => {
      throw new PermanentError('report 42 names a profile this deployment does not know');
    },
  });
  await eventually(() => (poller.stats.deadLettered === 1 ? true : undefined), { what: 'the dead letter' });
  await poller.stop();

  const index = (groupId: string) =>
    bus.consumeDeadLetters({
      groupId,
      handleBatch: async (letters, ctx) => indexDeadLetters(ch.ch, ctx.partition, letters),
    });
  const first = await index(`${prefix}adsync.etl-loader.dead-letter-index`);
  const want = [
    {
      topic: 'report.requested',
      consumer_group: `${prefix}adsync.report-poller.wakeup`,
      step: 'handle',
      reason: 'report 42 names a profile this deployment does not know',
      message_key: 'poller-key',
    },
  ];
  await eventually(async () => ((await indexed()).length === 1 ? true : undefined), { what: 'the letter indexed' });
  assert.deepEqual(await indexed(), want);
  await first.stop();
  // A second pass over the same letters (a redelivery before a commit) adds nothing.
  const again = await index(`${prefix}reindex`);
  await eventually(() => (again.stats.handled >= 1 ? true : undefined), { what: 'the second pass' });
  await again.stop();
  assert.deepEqual(await indexed(), want);
});
