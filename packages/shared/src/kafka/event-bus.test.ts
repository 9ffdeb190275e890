import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, deadLetterTopic, type TopicName } from '../events/contracts.ts';
import { createEventBus, DLQ_HEADERS, type EventBus } from './event-bus.ts';
import { InRepoSchemaCodec } from './codec.ts';
import { PermanentError } from './transient.ts';
import { sampleEvent } from './sample-events.ts';
import { eventually, requireKafka, testConfig, testLogger, uniqueName } from '../testing/test-stack.ts';

const cfg = testConfig();
const prefix = `${uniqueName('t')}.`;
let bus: EventBus;
const raw = new Kafka({ clientId: 'raw-test', brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const rawProducer = raw.producer();

before(async () => {
  await requireKafka(cfg);
  bus = await createEventBus({ brokers: cfg.KAFKA_BROKERS, clientId: 'bus-test', codec: new InRepoSchemaCodec(), log: testLogger('bus'), topicPrefix: prefix, defaultPartitions: 2 });
  await bus.ensureTopics();
  await bus.ensureTopics(); // idempotent
  await rawProducer.connect();
});

after(async () => {
  await bus?.close();
  await rawProducer.disconnect();
});

test('topics and their dead-letter topics are created once', async () => {
  const admin = raw.admin();
  await admin.connect();
  const topics = new Set(await admin.listTopics());
  await admin.disconnect();
  for (const t of ALL_TOPICS) {
    assert.ok(topics.has(prefix + t), `${t} exists`);
    assert.ok(topics.has(prefix + deadLetterTopic(t)), `${t}.dlq exists`);
  }
});

test('every event type round-trips through Kafka', async () => {
  for (const topic of ALL_TOPICS) {
    const sent = [sampleEvent(topic, `${topic}-1`), sampleEvent(topic, `${topic}-2`)];
    await bus.publish(topic, sent as never, (e: { eventId: string }) => e.eventId);
    const got: unknown[] = [];
    const consumer = await bus.consume({ topic: topic as TopicName, groupId: uniqueName('rt'), handle: async (events) => { got.push(...events.map((e) => JSON.parse(JSON.stringify(e.value)))); } });
    await eventually(() => (got.length >= 2 ? true : undefined), { what: `${topic} events` });
    await consumer.stop();
    assert.deepEqual(
      [...got].sort((a, b) => String((a as { eventId: string }).eventId).localeCompare((b as { eventId: string }).eventId)),
      sent,
    );
  }
});

async function readDlq(topic: string, want: number) {
  const c = raw.consumer({ groupId: uniqueName('dlq-reader') });
  await c.connect();
  await c.subscribe({ topic: prefix + deadLetterTopic(topic), fromBeginning: true });
  const got: { value: string; headers: Record<string, string> }[] = [];
  await c.run({
    eachMessage: async ({ message }) => {
      got.push({
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  try {
    await eventually(() => (got.length >= want ? true : undefined), { what: 'dead letters' });
  } finally {
    await c.disconnect();
  }
  return got;
}

test('a malformed message is dead-lettered with its reason and the next good message is processed', async () => {
  const codec = new InRepoSchemaCodec();
  await codec.init();
  const good = sampleEvent('job.created', 'after-the-poison');
  // Same key, so the same partition: the good message sits behind the poison one.
  await rawProducer.send({
    topic: prefix + 'job.created',
    messages: [
      { key: 'k', value: Buffer.from('{"not":"avro"}') },
      { key: 'k', value: await codec.encode('job.created', good) },
    ],
  });
  const handled: string[] = [];
  const consumer = await bus.consume({ topic: 'job.created', groupId: uniqueName('dlq'), handle: async (events) => { handled.push(...events.map((e) => e.value.eventId)); } });
  await eventually(() => (handled.includes('after-the-poison') ? true : undefined), { what: 'the good message' });
  await consumer.stop();
  const dead = await readDlq('job.created', 1);
  assert.equal(dead.length, 1);
  const [first] = dead as [(typeof dead)[number]];
  assert.equal(first.value, '{"not":"avro"}', 'original bytes kept');
  assert.match(first.headers[DLQ_HEADERS.reason] ?? '', /magic byte/);
  assert.equal(first.headers[DLQ_HEADERS.step], 'decode');
  assert.equal(first.headers[DLQ_HEADERS.topic], 'job.created');
});

test('a handler can dead-letter one message it cannot use; a permanent error is not retried in place and leaves the batch uncommitted', async () => {
  const events = [sampleEvent('report.requested', 'rq-ok'), sampleEvent('report.requested', 'rq-bad')];
  await bus.publish('report.requested', events, () => 'same-key');
  const seen: string[] = [];
  const consumer = await bus.consume({
    topic: 'report.requested',
    groupId: uniqueName('handler-dlq'),
    handle: async (batch) => {
      const mine = batch.filter((e) => e.value.eventId.startsWith('rq-'));
      seen.push(...mine.map((e) => e.value.eventId));
      return { deadLetters: mine.filter((e) => e.value.eventId === 'rq-bad').map((e) => ({ offset: e.offset, reason: 'profile 1001 is unknown', step: 'lookup' })) };
    },
  });
  await eventually(() => (seen.includes('rq-bad') ? true : undefined), { what: 'batch' });
  await consumer.stop();
  const dead = await readDlq('report.requested', 1);
  assert.equal(dead[0]?.headers[DLQ_HEADERS.reason], 'profile 1001 is unknown');
  assert.equal(dead[0]?.headers[DLQ_HEADERS.step], 'lookup');

  // A permanent failure stops the consumer without committing (no endless retry loop).
  let calls = 0;
  const failingGroup = uniqueName('permanent');
  const failing = await bus.consume({
    topic: 'report.requested',
    groupId: failingGroup,
    maxAttempts: 5,
    handle: async () => {
      calls++;
      throw new PermanentError('target table is missing');
    },
  });
  await eventually(() => (failing.health().status !== 'ok' ? true : undefined), { what: 'degraded health' });
  assert.match(failing.health().detail, /target table is missing/);
  assert.ok(calls >= 1);
  await failing.stop();
  // Nothing was committed: the batch is redelivered once the cause is fixed, never skipped.
  const admin = raw.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: failingGroup, topics: [prefix + 'report.requested'] });
    assert.ok(offsets[0]!.partitions.every((p) => p.offset === '-1'), JSON.stringify(offsets));
  } finally {
    await admin.disconnect();
  }
});

test('a consumer killed before it commits leaves its batch to be re-processed, not lost', async () => {
  const groupId = uniqueName('kill');
  const events = [sampleEvent('report.ready', 'k-1'), sampleEvent('report.ready', 'k-2'), sampleEvent('report.ready', 'k-3')];
  await bus.publish('report.ready', events, () => 'one-partition');
  const fixture = fileURLToPath(new URL('./kill-before-commit.fixture.ts', import.meta.url));
  const child = spawn(process.execPath, [fixture, prefix, groupId], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  try {
    // Other tests left events on other partitions of this topic; wait for the batch holding ours.
    const firstDelivery = await new Promise<string[]>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        for (const line of buf.split('\n')) {
          if (!line.includes('"got"')) continue;
          const got = JSON.parse(line).got as string[];
          if (got.includes('k-1')) resolve(got);
        }
      });
      child.on('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
      setTimeout(() => reject(new Error('fixture never received the batch')), 60_000).unref();
    });
    assert.deepEqual(firstDelivery.filter((id) => id.startsWith('k-')), ['k-1', 'k-2', 'k-3'], 'the first consumer received the batch');
  } finally {
    child.kill('SIGKILL');
  }
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));

  const redelivered: string[] = [];
  const consumer = await bus.consume({ topic: 'report.ready', groupId, sessionTimeoutMs: 6_000, handle: async (batch) => { redelivered.push(...batch.map((e) => e.value.eventId)); } });
  await eventually(() => (['k-1', 'k-2', 'k-3'].every((id) => redelivered.includes(id)) ? true : undefined), { what: 'redelivery', timeoutMs: 60_000 });
  await consumer.stop();
});
