// The event codec against the real Schema Registry the stack runs (Apicurio, Confluent-compatible API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, schemaFor, type TopicName } from '../events/contracts.ts';
import { createEventBus, DLQ_HEADERS, ok, type EventBus } from './event-bus.ts';
import { DecodeError, RegistryCodec, frame, unframe } from './codec.ts';
import { AppError, isDependencyOutage } from '../runtime/errors.ts';
import { sampleEvent } from './sample-events.ts';
import {
  eventually,
  requireKafka,
  requireRegistry,
  testConfig,
  testLogger,
  uniqueName,
} from '../testing/test-stack.ts';

const cfg = testConfig();
const prefix = `${uniqueName('reg')}.`;
// Subjects of this file only, so a refused schema here never touches the stack's own subjects.
const subjectPrefix = `${uniqueName('it')}.`;
let url: string;
let codec: RegistryCodec;
let bus: EventBus;
const raw = new Kafka({ clientId: 'registry-test', brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const rawProducer = raw.producer();

before(async () => {
  await requireKafka(cfg);
  url = await requireRegistry(cfg);
  codec = new RegistryCodec(url, { subjectPrefix });
  bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'registry-test',
    codec,
    log: testLogger('registry'),
    topicPrefix: prefix,
  });
  await bus.ensureTopics();
  await rawProducer.connect();
});

after(async () => {
  await bus?.close();
  await rawProducer.disconnect();
});

const registryGet = async (path: string) => {
  const res = await fetch(`${url}${path}`);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json() as Promise<Record<string, unknown>>;
};

test('start-up registers every topic schema under <topic>-value with BACKWARD compatibility', async () => {
  for (const topic of ALL_TOPICS) {
    const subject = codec.subject(topic);
    const latest = await registryGet(`/subjects/${encodeURIComponent(subject)}/versions/latest`);
    assert.deepEqual(
      JSON.parse(String(latest.schema)),
      JSON.parse(JSON.stringify(schemaFor(topic))),
      `${subject} holds this build's schema`,
    );
    const config = await registryGet(`/config/${encodeURIComponent(subject)}`);
    assert.equal(config.compatibilityLevel, 'BACKWARD', subject);
  }
});

test('six services starting at once against a registry that has never seen their subjects all start', async () => {
  // The registry refuses the second of two concurrent "set BACKWARD" on a new subject; the loser must retry, not stop.
  const fresh = `${uniqueName('race')}.`;
  const buses = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      createEventBus({
        brokers: cfg.KAFKA_BROKERS,
        clientId: `race-${i}`,
        codec: new RegistryCodec(url, { subjectPrefix: fresh }),
        log: testLogger('registry'),
        topicPrefix: prefix,
      }),
    ),
  );
  await Promise.all(buses.map((b) => b.close()));
  for (const topic of ALL_TOPICS) {
    const config = await registryGet(`/config/${encodeURIComponent(`${fresh}${topic}-value`)}`);
    assert.equal(config.compatibilityLevel, 'BACKWARD');
    const versions = (await (
      await fetch(`${url}/subjects/${encodeURIComponent(`${fresh}${topic}-value`)}/versions`)
    ).json()) as number[];
    assert.equal(versions.length, 1, `${topic}: one version however many registered it`);
  }
});

test('each event round-trips through Kafka under the id the registry gave its schema', async () => {
  for (const topic of ALL_TOPICS) {
    const sent = sampleEvent(topic, `${topic}-via-registry`);
    await bus.publish(topic, [sent] as never, () => 'k');
    const got: { value: unknown; schemaId: number }[] = [];
    const consumer = await bus.consume({
      topic: topic as TopicName,
      groupId: uniqueName('rt'),
      handle: async (e) => {
        got.push({ value: JSON.parse(JSON.stringify(e.value)), schemaId: unframe(e.raw.value).schemaId });
        return ok();
      },
    });
    await eventually(() => (got.length >= 1 ? true : undefined), { what: `${topic} through the registry` });
    await consumer.stop();
    assert.deepEqual(got[0]!.value, sent);
    const latest = await registryGet(`/subjects/${encodeURIComponent(codec.subject(topic))}/versions/latest`);
    assert.equal(got[0]!.schemaId, latest.id, `${topic} is framed with the registry's id`);
  }
});

test('a schema change that old readers cannot follow is refused at start-up, with what and where', async () => {
  // A new field without a default: BACKWARD forbids it (readers of the new schema could not read old events).
  const broken = (topic: TopicName) => {
    const s = schemaFor(topic) as { fields: unknown[] };
    return topic === 'report.ready' ? { ...s, fields: [...s.fields, { name: 'region', type: 'string' }] } : s;
  };
  const next = new RegistryCodec(url, { subjectPrefix, schemaOf: broken });
  await assert.rejects(
    () =>
      createEventBus({
        brokers: cfg.KAFKA_BROKERS,
        clientId: 'registry-test-next',
        codec: next,
        log: testLogger('registry'),
        topicPrefix: prefix,
      }),
    (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'ADSYNC_SCHEMA_INCOMPATIBLE');
      assert.equal(err.retriable, false);
      assert.match(err.message, /report\.ready-value/);
      assert.match(err.message, /not BACKWARD compatible/);
      assert.match(err.message, /region/);
      return true;
    },
  );
  // A compatible change (a new field with a default) is accepted as the next version.
  const withDefault = (topic: TopicName) => {
    const s = schemaFor(topic) as { fields: unknown[] };
    return topic === 'report.ready'
      ? { ...s, fields: [...s.fields, { name: 'region', type: ['null', 'string'], default: null }] }
      : s;
  };
  await new RegistryCodec(url, { subjectPrefix, schemaOf: withDefault }).init();
  const versions = (await (
    await fetch(`${url}/subjects/${encodeURIComponent(codec.subject('report.ready'))}/versions`)
  ).json()) as number[];
  assert.equal(versions.length, 2);
});

test('a message whose schema id the registry does not know is dead-lettered with the reason; the next one is processed', async () => {
  const good = sampleEvent('job.created', 'after-unknown-id');
  const goodBytes = await codec.encode('job.created', good);
  const unknownId = 2_000_000_000;
  const stranger = frame(unknownId, unframe(goodBytes).body);
  await rawProducer.send({
    topic: `${prefix}job.created`,
    messages: [
      { key: 'same', value: stranger },
      { key: 'same', value: goodBytes },
    ],
  });
  const handled: string[] = [];
  const groupId = uniqueName('unknown-id');
  const consumer = await bus.consume({
    topic: 'job.created',
    groupId,
    handle: async (e) => {
      handled.push(e.value.eventId);
      return ok();
    },
  });
  await eventually(() => (handled.includes('after-unknown-id') ? true : undefined), {
    what: 'the message behind the unknown id',
  });
  await consumer.stop();
  const c = raw.consumer({ groupId: uniqueName('dlq-reader') });
  await c.connect();
  await c.subscribe({ topic: `${prefix}job.created.dlq`, fromBeginning: true });
  const dead: { value: Buffer | null; headers: Record<string, string> }[] = [];
  await c.run({
    eachMessage: async ({ message }) =>
      void dead.push({
        value: message.value,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      }),
  });
  await eventually(() => (dead.some((d) => d.headers[DLQ_HEADERS.group] === groupId) ? true : undefined), {
    what: 'the dead letter',
  });
  await c.disconnect();
  const mine = dead.filter((d) => d.headers[DLQ_HEADERS.group] === groupId);
  assert.equal(mine.length, 1);
  assert.deepEqual(mine[0]!.value, stranger, 'original bytes kept');
  assert.equal(
    mine[0]!.headers[DLQ_HEADERS.reason],
    `schema id ${unknownId} is not known to the schema registry (job.created)`,
  );
  assert.equal(mine[0]!.headers[DLQ_HEADERS.step], 'decode');
});

test('a message written under an older schema reads with this build’s, defaults filled; another topic’s schema is a decode error', async () => {
  // rows.parsed as it was before each row carried its measures (BACKWARD: the field has a default).
  const current = schemaFor('rows.parsed') as { fields: { name: string; type: unknown }[] };
  const rowsField = current.fields.find((f) => f.name === 'rows')!;
  const row = (rowsField.type as { items: { fields: { name: string }[] } }).items;
  const older = {
    ...current,
    fields: current.fields.map((f) =>
      f.name === 'rows'
        ? { ...f, type: { type: 'array', items: { ...row, fields: row.fields.filter((x) => x.name !== 'measures') } } }
        : f,
    ),
  };
  const { SchemaRegistry, SchemaType } = await import('@kafkajs/confluent-schema-registry');
  const { id } = await new SchemaRegistry({ host: url }).register(
    { type: SchemaType.AVRO, schema: JSON.stringify(older) },
    { subject: `${subjectPrefix}older-rows.parsed-value` },
  );
  const sample = sampleEvent('rows.parsed', 'older');
  const { measures: _, ...oldRow } = sample.rows[0]!;
  const bytes = frame(id, avro.Type.forSchema(older as avro.Schema).toBuffer({ ...sample, rows: [oldRow, oldRow] }));
  for (let i = 0; i < 2; i++) {
    // Twice: the second read takes the remembered resolver.
    const back = await codec.decode('rows.parsed', bytes);
    assert.equal(back.rows.length, 2);
    assert.deepEqual(back.rows[1]!.measures, {});
    assert.equal(back.rows[1]!.entityId, sample.rows[0]!.entityId);
  }
  const ready = await codec.encode('report.ready', sampleEvent('report.ready', 'x'));
  await assert.rejects(
    codec.decode('rows.parsed', ready),
    (err: Error) => err instanceof DecodeError && /cannot be read as rows\.parsed/.test(err.message),
  );
});

/** A TCP relay in front of the registry that a test can cut and restore, to play a registry outage. */
async function relayTo(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
    restore: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
  };
}

test('while the registry is unreachable a consumer waits on the message instead of dead-lettering it, then handles it', async () => {
  const relay = await relayTo(new URL(url));
  const viaRelay = new RegistryCodec(relay.url, { subjectPrefix });
  const outagePrefix = `${uniqueName('outage')}.`;
  const relayBus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'registry-outage',
    codec: viaRelay,
    log: testLogger('registry'),
    topicPrefix: outagePrefix,
  });
  await relayBus.ensureTopics();
  try {
    // A schema id this client has never seen (a compatible newer writer), so decoding must ask the registry.
    const writer = { ...(schemaFor('job.created') as { fields: unknown[] }) };
    writer.fields = [...writer.fields, { name: 'note', type: ['null', 'string'], default: null }];
    const writerSubject = `${uniqueName('writer')}-value`;
    const res = await fetch(`${url}/subjects/${encodeURIComponent(writerSubject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(writer) }),
    });
    assert.equal(res.status, 200);
    const { id: writerId } = (await res.json()) as { id: number };
    const event = { ...sampleEvent('job.created', 'during-outage'), note: 'from a newer producer' };
    const bytes = frame(writerId, avro.Type.forSchema(writer as avro.Schema).toBuffer(event));

    await relay.cut();
    await assert.rejects(
      () => viaRelay.decode('job.created', bytes),
      (err: unknown) => isDependencyOutage(err) && !(err instanceof DecodeError),
    );
    await rawProducer.send({ topic: `${outagePrefix}job.created`, messages: [{ key: 'outage', value: bytes }] });
    const handled: string[] = [];
    const groupId = uniqueName('outage');
    const consumer = await relayBus.consume({
      topic: 'job.created',
      groupId,
      backoff: { baseMs: 100, maxMs: 300 },
      handle: async (e) => {
        handled.push(e.value.eventId);
        return ok();
      },
    });
    await eventually(() => (consumer.health().status === 'degraded' ? true : undefined), {
      what: 'the consumer noticing the outage',
    });
    assert.match(consumer.health().detail ?? '', /waiting for a dependency/);
    assert.equal(consumer.stats.deadLettered, 0);
    await relay.restore();
    await eventually(() => (handled.includes('during-outage') ? true : undefined), {
      what: 'the message once the registry is back',
    });
    assert.equal(consumer.stats.deadLettered, 0, 'nothing was dead-lettered');
    await consumer.stop();
  } finally {
    await relayBus.close();
    await relay.cut().catch(() => undefined);
  }
});
