import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TOPICS } from '../events/contracts.ts';
import { DecodeError, InRepoSchemaCodec, SchemaValidationError, frame, registryError, unframe } from './codec.ts';
import { sampleEvent } from './sample-events.ts';

/** Decoded records carry avsc's record prototypes; compare their data. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

test('every topic round-trips through the in-repo codec in Confluent framing', async () => {
  const codec = new InRepoSchemaCodec();
  await codec.init();
  for (const topic of ALL_TOPICS) {
    const event = sampleEvent(topic, `e-${topic}`);
    const bytes = await codec.encode(topic, event);
    assert.equal(bytes[0], 0, 'magic byte');
    assert.deepEqual(plain(await codec.decode(topic, bytes)), event);
  }
});

test('a value that does not fit its schema is refused on encode, naming the field', async () => {
  const codec = new InRepoSchemaCodec();
  await codec.init();
  const bad = { ...sampleEvent('job.created', 'x'), priority: 'high' } as never;
  await assert.rejects(
    codec.encode('job.created', bad),
    (err: unknown) => err instanceof SchemaValidationError && /priority/.test(err.message),
  );
});

test('garbage, foreign schema ids and truncated bodies are DecodeErrors with a reason', async () => {
  const codec = new InRepoSchemaCodec();
  await codec.init();
  await assert.rejects(
    codec.decode('report.ready', Buffer.from('{"json":"not avro"}')),
    (e: unknown) => e instanceof DecodeError && /magic byte/.test((e as Error).message),
  );
  await assert.rejects(codec.decode('report.ready', null), DecodeError);
  const requested = await codec.encode('report.requested', sampleEvent('report.requested', 'y'));
  await assert.rejects(codec.decode('report.ready', requested), /is not the report.ready schema/);
  const ready = await codec.encode('report.ready', sampleEvent('report.ready', 'z'));
  await assert.rejects(codec.decode('report.ready', ready.subarray(0, ready.length - 8)), /does not decode/);
});

test('frame and unframe agree', () => {
  const { schemaId, body } = unframe(frame(123456, Buffer.from([1, 2, 3])));
  assert.equal(schemaId, 123456);
  assert.deepEqual([...body], [1, 2, 3]);
});

test("the registry's refusals in our error model: incompatible stops start-up, a set-up race and an outage are retried", () => {
  const url = 'http://registry/apis/ccompat/v7';
  const incompatible = registryError(
    Object.assign(
      new Error(
        'Confluent_Schema_Registry - RuleViolationException: Incompatible artifact: x [AVRO], list of diff types: [b at /fields/1]',
      ),
      { status: 409 },
    ),
    url,
    'report.ready-value',
  );
  assert.deepEqual([incompatible.code, incompatible.retriable], ['ADSYNC_SCHEMA_INCOMPATIBLE', false]);
  assert.match(incompatible.message, /report\.ready-value in this build is not BACKWARD compatible.*b at \/fields\/1/);
  // Seen when six services first start together: two set the subject's rule at once and Apicurio answers 409 to the second.
  const race = registryError(
    Object.assign(new Error("Confluent_Schema_Registry - A rule named 'COMPATIBILITY' already exists."), {
      status: 409,
    }),
    url,
    'job.created-value',
  );
  assert.deepEqual([race.code, race.retriable], ['ADSYNC_REGISTRY_RACE', true]);
  const down = registryError(
    Object.assign(new Error('Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:18081'), {
      status: 400,
    }),
    url,
    'schema id 7',
  );
  assert.deepEqual([down.code, down.retriable], ['ADSYNC_DEPENDENCY_UNAVAILABLE', true]);
});
