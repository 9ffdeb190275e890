// Child process for the "killed before commit" test: consumes a topic, reports
// the batch it received, then hangs inside the handler until SIGKILLed, so the
// offset is never committed.
import { createEventBus } from './event-bus.ts';
import { InRepoSchemaCodec } from './codec.ts';
import { testConfig, testLogger } from '../testing/test-stack.ts';

const [prefix = '', groupId = 'kill-fixture'] = process.argv.slice(2);
const cfg = testConfig();
const bus = await createEventBus({
  brokers: cfg.KAFKA_BROKERS,
  clientId: 'kill-fixture',
  codec: new InRepoSchemaCodec(),
  log: testLogger('kill-fixture'),
  topicPrefix: prefix,
});
await bus.consume({
  topic: 'report.ready',
  groupId,
  sessionTimeoutMs: 6_000,
  handleBatch: async (events) => {
    const ids = events.map((e) => e.value.eventId);
    process.stdout.write(`${JSON.stringify({ got: ids })}\n`);
    // Hang (uncommitted) only on the batch under test; other tests' events pass through.
    if (ids.some((id) => id.startsWith('k-'))) await new Promise(() => undefined);
    return [];
  },
});
