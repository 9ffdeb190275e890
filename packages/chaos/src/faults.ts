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
import { plannedWindows, quiescent } from './judge.ts';

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

// ---------------------------------------------------------------- the fleet's faults

/** One of a service's replicas SIGKILLed and restarted a second later; the other carries on meanwhile. */
export const killReplica = (name: ServiceName): Fault => ({
  name: `kill -9 one ${name} replica`,
  what: `SIGKILL one of ${name}'s two processes, restarted a second later`,
  inject: async (world) => {
    const replica = world.replicas[name][0]!;
    await replica.kill9();
    await sleep(1_000);
    await replica.start(180_000);
    return none;
  },
});

/**
 * The entity-sync process running the ingestion, killed while it has reports recorded as
 * `requesting` and not yet asked: what it held must lapse and be asked again by another process.
 * Aimed, not left to which replica happens to run the ingestion when the clock strikes.
 */
export const killAskingEntitySync: Fault = {
  name: 'kill -9 the entity-sync replica asking Amazon for reports',
  what: 'SIGKILL the entity-sync process whose ingestion has reports recorded but not yet asked, restarted a second later',
  inject: async (world) => {
    const db = world.pg.db;
    let victim: (typeof world.replicas)['entity-sync'][number] | undefined;
    const deadline = Date.now() + 120_000;
    while (!victim && Date.now() < deadline) {
      const asking: { owner: string } | undefined = await db('ingestion_runs as r')
        .join('pending_amazon_reports as p', 'p.run_id', 'r.id')
        .where({ 'r.status': 'running', 'p.status': 'requesting' })
        .first('r.owner');
      // Owners are entity-sync-<pid>-<started>.
      const pid = Number(/^entity-sync-(\d+)-/.exec(asking?.owner ?? '')?.[1]);
      victim = world.replicas['entity-sync'].find((r) => r.pid === pid);
      if (!victim) await sleep(10);
    }
    if (!victim) throw new Error('no entity-sync replica was asking Amazon for reports within two minutes');
    await victim.kill9();
    await sleep(1_000);
    await victim.start(180_000);
    return none;
  },
};

const fleetOf = (world: World) => {
  if (!world.options.fleet) throw new Error('a fleet fault in a world without the fleet');
  return world.options.fleet;
};

export const killClusterBroker: Fault = {
  name: 'kill -9 one of three kafka nodes',
  what: 'SIGKILL Kafka node 1 (leader of some partitions, a controller voter), restarted two seconds later',
  inject: async (world) => {
    const { kafka } = fleetOf(world);
    kafka.kill(1);
    await sleep(2_000);
    await kafka.start(1);
    return none;
  },
};

export const killClickHouseReplica: Fault = {
  name: 'kill -9 one clickhouse replica',
  what: 'SIGKILL ClickHouse replica 1 (the first URL every client uses), restarted two seconds later',
  inject: async (world) => {
    const { clickhouse } = fleetOf(world);
    clickhouse.kill(1);
    await sleep(2_000);
    await clickhouse.start(1);
    return none;
  },
};

/**
 * Amazon restates rows away: from now on one row in three of every day is gone from every pull
 * (its traffic judged invalid), and once the job has settled every planned window is pulled
 * again, as the next day's restatement pulls would. The judge expects the rows gone.
 */
export const restateAway: Fault = {
  name: 'restate rows away',
  what: 'one row in three vanishes from every later pull; every planned window is re-pulled once settled',
  inject: async (world) => {
    world.sandbox.setFaults({ restateAwayEvery: 3 });
    const deadline = Date.now() + 300_000;
    while ((await quiescent(world).catch(() => null)) === null) {
      if (Date.now() > deadline) throw new Error('the job did not settle before the re-pull');
      await sleep(500);
    }
    // One backfill per owner and window, naming the types planned for it.
    const byWindow = new Map<string, { owner: string; from: string; to: string; types: string[] }>();
    for (const w of await plannedWindows(world)) {
      const key = `${w.owner}|${w.startDate}|${w.endDate}`;
      const at = byWindow.get(key) ?? { owner: w.owner, from: w.startDate, to: w.endDate, types: [] };
      if (!at.types.includes(w.reportType)) at.types.push(w.reportType);
      byWindow.set(key, at);
    }
    for (const w of byWindow.values())
      await world.apiEventually('report-requester', 'POST', '/v1/reports/backfill', {
        ...(w.owner.startsWith('dsp:') ? { dspAccountId: w.owner.slice(4) } : { profileId: w.owner }),
        reportTypes: w.types,
        from: w.from,
        to: w.to,
      });
    return none;
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
