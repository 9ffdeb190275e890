import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, deadLetterTopic, type TopicName } from '../events/contracts.ts';
import {
  COMPRESS_ABOVE_BYTES,
  compressionFor,
  createEventBus,
  DLQ_HEADERS,
  ok,
  retryLater,
  type EventBus,
} from './event-bus.ts';
import { InRepoSchemaCodec } from './codec.ts';
import { PermanentError } from '../runtime/errors.ts';
import { sampleEvent } from './sample-events.ts';
import { eventually, requireKafka, testConfig, testLogger, uniqueName } from '../testing/test-stack.ts';

const cfg = testConfig();
const prefix = `${uniqueName('t')}.`;
let bus: EventBus;
const raw = new Kafka({ clientId: 'raw-test', brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const rawProducer = raw.producer();

before(async () => {
  await requireKafka(cfg);
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'bus-test',
    codec: new InRepoSchemaCodec(),
    log: testLogger('bus'),
    topicPrefix: prefix,
    defaultPartitions: 2,
  });
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

test('six services creating the same new topics at once all start (a lost race is looked at again, not a crash)', async () => {
  const fresh = `${uniqueName('race')}.`;
  const buses = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      createEventBus({
        brokers: cfg.KAFKA_BROKERS,
        clientId: `race-${i}`,
        codec: new InRepoSchemaCodec(),
        log: testLogger('race'),
        topicPrefix: fresh,
      }),
    ),
  );
  try {
    await Promise.all(buses.map((b) => b.ensureTopics()));
  } finally {
    await Promise.all(buses.map((b) => b.close()));
  }
  const admin = raw.admin();
  await admin.connect();
  const topics = new Set(await admin.listTopics());
  await admin.disconnect();
  for (const t of ALL_TOPICS) assert.ok(topics.has(fresh + t) && topics.has(fresh + deadLetterTopic(t)), t);
});

test('every event type round-trips through Kafka', async () => {
  for (const topic of ALL_TOPICS) {
    const sent = [sampleEvent(topic, `${topic}-1`), sampleEvent(topic, `${topic}-2`)];
    await bus.publish(topic, sent as never, (e: { eventId: string }) => e.eventId);
    const got: unknown[] = [];
    const consumer = await bus.consume({
      topic: topic as TopicName,
      groupId: uniqueName('rt'),
      handleBatch: async (events) => {
        got.push(...events.map((e) => JSON.parse(JSON.stringify(e.value))));
        return [];
      },
    });
    await eventually(() => (got.length >= 2 ? true : undefined), { what: `${topic} events` });
    await consumer.stop();
    assert.deepEqual(
      [...got].sort((a, b) =>
        String((a as { eventId: string }).eventId).localeCompare((b as { eventId: string }).eventId),
      ),
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
  const consumer = await bus.consume({
    topic: 'job.created',
    groupId: uniqueName('dlq'),
    handle: async (e) => {
      handled.push(e.value.eventId);
      return ok();
    },
  });
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

async function committed(groupId: string, topic: string) {
  const admin = raw.admin();
  await admin.connect();
  try {
    return (await admin.fetchOffsets({ groupId, topics: [prefix + topic] }))[0]!.partitions;
  } finally {
    await admin.disconnect();
  }
}

test('a message whose handler fails permanently is dead-lettered with the reason; the next one on its partition is processed; the consumer never restarts', async () => {
  const events = [sampleEvent('report.requested', 'rq-bad'), sampleEvent('report.requested', 'rq-after')];
  await bus.publish('report.requested', events, () => 'same-key');
  const seen: string[] = [];
  const groupId = uniqueName('permanent');
  const consumer = await bus.consume({
    topic: 'report.requested',
    groupId,
    maxAttempts: 5,
    handle: async (e) => {
      seen.push(e.value.eventId);
      if (e.value.eventId === 'rq-bad') throw new PermanentError('pending report 9f1 is not recorded');
      return ok();
    },
  });
  await eventually(() => (seen.includes('rq-after') ? true : undefined), { what: 'the message behind the poison one' });
  await eventually(
    async () => ((await committed(groupId, 'report.requested')).some((p) => Number(p.offset) > 0) ? true : undefined),
    { what: 'the offset committed past both' },
  );
  assert.equal(seen.filter((id) => id === 'rq-bad').length, 1, 'a permanent failure is not retried');
  assert.deepEqual(
    { crashes: consumer.stats.crashes, joins: consumer.stats.joins },
    { crashes: 0, joins: 1 },
    'no crash, no restart, no rebalance',
  );
  assert.equal(consumer.health().status, 'ok');
  await consumer.stop();
  const dead = (await readDlq('report.requested', 1)).filter((d) => d.headers[DLQ_HEADERS.group] === groupId);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.headers[DLQ_HEADERS.reason], 'pending report 9f1 is not recorded');
  assert.equal(dead[0]!.headers[DLQ_HEADERS.step], 'handle');
  assert.ok(dead[0]!.headers[DLQ_HEADERS.at], 'time of the dead letter');
});

test('a retry answer is retried in place with backoff, then dead-lettered with the last reason', async () => {
  await bus.publish('report.ready', [sampleEvent('report.ready', 'rr-flaky')], () => 'retry-key');
  const groupId = uniqueName('retry');
  const attempts: number[] = [];
  const consumer = await bus.consume({
    topic: 'report.ready',
    groupId,
    maxAttempts: 3,
    backoff: { baseMs: 10, maxMs: 20 },
    handle: async (e, ctx) => {
      if (e.value.eventId !== 'rr-flaky') return ok();
      attempts.push(ctx.attempt);
      return retryLater(`Amazon still says PROCESSING (attempt ${ctx.attempt})`);
    },
  });
  await eventually(
    async () =>
      (await readDlq('report.ready', 1)).some((d) => d.headers[DLQ_HEADERS.group] === groupId) ? true : undefined,
    { what: 'the dead letter', timeoutMs: 30_000 },
  );
  await consumer.stop();
  assert.deepEqual(attempts, [1, 2, 3]);
  const dead = (await readDlq('report.ready', 1)).find((d) => d.headers[DLQ_HEADERS.group] === groupId)!;
  assert.equal(dead.headers[DLQ_HEADERS.reason], 'gave up after 3 attempts: Amazon still says PROCESSING (attempt 3)');
  assert.equal(dead.headers[DLQ_HEADERS.step], 'retry');
});

test('a batch that fails for one message loads the others and dead-letters only that one', async () => {
  const events = ['b-1', 'b-2', 'b-poison', 'b-4'].map((id) => sampleEvent('job.created', id));
  await bus.publish('job.created', events, () => 'batch-key');
  const groupId = uniqueName('split');
  const written = new Set<string>();
  const consumer = await bus.consume({
    topic: 'job.created',
    groupId,
    maxBatchSize: 10,
    handleBatch: async (batch) => {
      const mine = batch.filter((e) => e.value.eventId.startsWith('b-'));
      // Like ClickHouse refusing an insert for one impossible row: the whole batch fails.
      if (mine.some((e) => e.value.eventId === 'b-poison'))
        throw new PermanentError('Cannot parse input: clicks -5 is not UInt64');
      for (const e of mine) written.add(e.value.eventId);
      return batch.map(() => ok());
    },
  });
  await eventually(() => (written.has('b-4') ? true : undefined), { what: 'the good messages' });
  await consumer.stop();
  assert.deepEqual([...written].sort(), ['b-1', 'b-2', 'b-4']);
  // (The topic also holds the earlier test's undecodable message; only the handler's verdicts count here.)
  const dead = (await readDlq('job.created', 1)).filter(
    (d) => d.headers[DLQ_HEADERS.group] === groupId && d.headers[DLQ_HEADERS.step] === 'handle',
  );
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.headers[DLQ_HEADERS.reason]!, /clicks -5/);
});

test('an unreachable dependency is waited for, not dead-lettered', async () => {
  await bus.publish('rows.parsed', [sampleEvent('rows.parsed', 'rp-wait')], () => 'wait-key');
  const groupId = uniqueName('outage');
  let calls = 0;
  let done = false;
  const consumer = await bus.consume({
    topic: 'rows.parsed',
    groupId,
    maxAttempts: 2,
    backoff: { baseMs: 10, maxMs: 40 },
    handle: async (e) => {
      if (e.value.eventId !== 'rp-wait') return ok();
      calls++;
      if (calls < 6) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' });
      done = true;
      return ok();
    },
  });
  await eventually(() => (done ? true : undefined), { what: 'the dependency back', timeoutMs: 20_000 });
  await consumer.stop();
  assert.equal(calls, 6, 'kept waiting past maxAttempts: the message was never at fault');
  assert.equal(consumer.stats.deadLettered, 0);
});

test('a handler that works longer than the session timeout keeps its partitions: no rebalance, no second delivery', async () => {
  await bus.publish(
    'report.ready',
    [sampleEvent('report.ready', 'slow-1'), sampleEvent('report.ready', 'slow-2')],
    () => 'slow-key',
  );
  const groupId = uniqueName('slow');
  const seen: string[] = [];
  const consumer = await bus.consume({
    topic: 'report.ready',
    groupId,
    sessionTimeoutMs: 6_000,
    handle: async (e) => {
      if (!e.value.eventId.startsWith('slow-')) return ok();
      seen.push(e.value.eventId);
      // A large report download: 1.5 × the session timeout.
      if (e.value.eventId === 'slow-1') await new Promise((r) => setTimeout(r, 9_000));
      return ok();
    },
  });
  await eventually(() => (seen.includes('slow-2') ? true : undefined), { what: 'both handled', timeoutMs: 40_000 });
  await new Promise((r) => setTimeout(r, 1_000));
  await consumer.stop();
  assert.deepEqual(seen, ['slow-1', 'slow-2'], 'each handled once');
  assert.equal(consumer.stats.joins, 1, 'the group never rebalanced');
});

test('a consumer evicted from its group while it worked (UNKNOWN_MEMBER_ID on commit) runs again and loses nothing', async () => {
  await bus.publish(
    'report.ready',
    [sampleEvent('report.ready', 'evicted-1'), sampleEvent('report.ready', 'evicted-2')],
    () => 'evicted-key',
  );
  const groupId = uniqueName('evicted');
  const seen: string[] = [];
  const consumer = await bus.consume({
    topic: 'report.ready',
    groupId,
    sessionTimeoutMs: 6_000,
    handle: async (e) => {
      if (!e.value.eventId.startsWith('evicted-')) return ok();
      seen.push(e.value.eventId);
      // The process stalls (no heartbeat can leave it) past the session timeout, once: the broker
      // evicts the member and its commit is refused, a crash kafkajs does not restart from.
      if (e.value.eventId === 'evicted-1' && seen.length === 1) {
        const until = Date.now() + 8_000;
        while (Date.now() < until);
      }
      return ok();
    },
  });
  try {
    await eventually(() => (seen.includes('evicted-2') ? true : undefined), {
      what: 'both handled after the eviction',
      timeoutMs: 60_000,
    });
    assert.ok(consumer.stats.crashes + consumer.stats.joins > 1, 'the eviction happened');
    assert.notEqual(consumer.health().status, 'error');
  } finally {
    await consumer.stop();
  }
});

test('a consumer killed before it commits leaves its batch to be re-processed, not lost', async () => {
  const groupId = uniqueName('kill');
  const events = [
    sampleEvent('report.ready', 'k-1'),
    sampleEvent('report.ready', 'k-2'),
    sampleEvent('report.ready', 'k-3'),
  ];
  await bus.publish('report.ready', events, () => 'one-partition');
  const fixture = fileURLToPath(new URL('./kill-before-commit.fixture.ts', import.meta.url));
  const child = spawn(process.execPath, [fixture, prefix, groupId], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
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
    assert.deepEqual(
      firstDelivery.filter((id) => id.startsWith('k-')),
      ['k-1', 'k-2', 'k-3'],
      'the first consumer received the batch',
    );
  } finally {
    child.kill('SIGKILL');
  }
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));

  const redelivered: string[] = [];
  const consumer = await bus.consume({
    topic: 'report.ready',
    groupId,
    sessionTimeoutMs: 6_000,
    handle: async (e) => {
      redelivered.push(e.value.eventId);
      return ok();
    },
  });
  await eventually(() => (['k-1', 'k-2', 'k-3'].every((id) => redelivered.includes(id)) ? true : undefined), {
    what: 'redelivery',
    timeoutMs: 60_000,
  });
  await consumer.stop();
});

test('record batches are compressed only when they would come near the broker limit', () => {
  const msg = (bytes: number) => ({ value: Buffer.alloc(bytes) });
  assert.equal(compressionFor([msg(400_000)]), CompressionTypes.None);
  assert.equal(compressionFor([msg(300_000), msg(300_000)]), CompressionTypes.GZIP);
  // Each record also carries its key, its headers and about 70 bytes of framing.
  assert.equal(compressionFor([msg(COMPRESS_ABOVE_BYTES - 70)]), CompressionTypes.None);
  assert.equal(compressionFor([msg(COMPRESS_ABOVE_BYTES - 69)]), CompressionTypes.GZIP);
  assert.equal(compressionFor([{ value: null }]), CompressionTypes.None);
  const replay = Array.from({ length: 4000 }, () => ({
    key: 'k'.repeat(36),
    value: Buffer.alloc(10),
    headers: { 'dlq-reason': Buffer.alloc(100) },
  }));
  assert.equal(compressionFor(replay), CompressionTypes.GZIP, 'small values with large headers still add up');
});
