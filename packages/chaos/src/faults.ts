/**
 * The faults the suite injects, each as a user's infrastructure would produce it:
 * a service killed with SIGKILL and restarted by its orchestrator, the Kafka broker
 * killed and restarted, ClickHouse and Postgres restarted, Amazon answering 429 and
 * 5xx for a while, and poison on every topic (bytes that are not an event, and events
 * that fit their schema but cannot be true).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, type TopicName } from '@adsync/shared/events/contracts';
import { createCodec } from '@adsync/shared/kafka/codec';
import { sampleEvent } from '@adsync/shared/kafka/sample-events';
import { testConfig } from '@adsync/shared/testing/test-stack';
import { ROOT, type ServiceName, type World } from './world.ts';

const run = promisify(execFile);

export interface Injected {
  /** Dead letters the fault itself must produce (poison), by message key. */
  expectedDeadLetters: string[];
}

export interface Fault {
  name: string;
  /** What it does, for the table. */
  what: string;
  inject(world: World): Promise<Injected>;
}

const none: Injected = { expectedDeadLetters: [] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stack(...args: string[]): Promise<void> {
  await run(join(ROOT, 'deploy', 'local', 'stack'), args, { cwd: ROOT, timeout: 180_000 });
}

export const killService = (name: ServiceName): Fault => ({
  name: `kill -9 ${name}`,
  what: `SIGKILL ${name}, restarted a second later`,
  inject: async (world) => {
    await world.services[name].kill9();
    await sleep(1_000);
    await world.services[name].start(120_000);
    return none;
  },
});

export const killBroker: Fault = {
  name: 'kill -9 kafka',
  what: 'SIGKILL the Kafka broker, restarted two seconds later',
  inject: async () => {
    await stack('kill', 'kafka');
    await sleep(2_000);
    await stack('start', 'kafka');
    return none;
  },
};

export const restartServer = (server: 'clickhouse' | 'postgres'): Fault => ({
  name: `restart ${server}`,
  what: `graceful restart of ${server}`,
  inject: async () => {
    await stack('restart', server);
    return none;
  },
});

export const amazonStorm: Fault = {
  name: 'amazon 429/5xx storm',
  what: 'Amazon answers 30 % 429 and 20 % 5xx for 15 s',
  inject: async (world) => {
    world.sandbox.setFaults({ rate429: 0.3, rate5xx: 0.2, retryAfterSec: 1 });
    await sleep(15_000);
    world.sandbox.setFaults({ rate429: 0, rate5xx: 0 });
    return none;
  },
};

/**
 * On every topic: bytes that are not an event, and (on the topics whose consumers act
 * on ids) an event that fits its schema but names nothing or cannot be true. The first
 * kind is always a dead letter; of the second, those a consumer must refuse are.
 */
export const poison: Fault = {
  name: 'poison on every topic',
  what: 'garbage bytes on each topic; impossible rows.parsed and report.ready',
  inject: async (world) => {
    const cfg = testConfig();
    const codec = createCodec(cfg.SCHEMA_REGISTRY_URL);
    await codec.init();
    const producer = new Kafka({
      clientId: 'chaos-poison',
      brokers: cfg.KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    const expected: string[] = [];
    try {
      for (const topic of ALL_TOPICS) {
        const key = `poison-garbage-${topic}-${randomUUID()}`;
        await producer.send({
          topic: `${world.prefix}${topic}`,
          messages: [{ key, value: Buffer.from('{"not":"an event"}') }],
        });
        expected.push(key);
      }
      const impossible: [TopicName, (k: string) => unknown][] = [
        [
          'rows.parsed',
          (k) => {
            const e = sampleEvent('rows.parsed', k);
            return { ...e, pendingReportId: k, rows: [{ ...e.rows[0]!, clicks: -5 }] };
          },
        ],
        ['report.ready', (k) => ({ ...sampleEvent('report.ready', k), pendingReportId: k })],
      ];
      for (const [topic, make] of impossible) {
        const key = `poison-impossible-${topic}-${randomUUID()}`;
        const value = await codec.encode(topic, make(key) as never);
        await producer.send({ topic: `${world.prefix}${topic}`, messages: [{ key, value }] });
        expected.push(key);
      }
      // Fits its schema and names nothing: consumers that only wake on it must simply pass it.
      for (const topic of ['report.requested', 'report.loaded', 'job.created'] as const) {
        const value = await codec.encode(topic, sampleEvent(topic, randomUUID()) as never);
        await producer.send({
          topic: `${world.prefix}${topic}`,
          messages: [{ key: `harmless-${randomUUID()}`, value }],
        });
      }
    } finally {
      await producer.disconnect();
    }
    return { expectedDeadLetters: expected };
  },
};

export const ALL_FAULTS: Fault[] = [
  killService('entity-sync'),
  killService('report-requester'),
  killService('report-poller'),
  killService('etl-loader'),
  killService('amc-runner'),
  killService('supplier-sync'),
  killBroker,
  restartServer('clickhouse'),
  restartServer('postgres'),
  amazonStorm,
  poison,
];
