/**
 * Our small Kafka interface. Services see EventBus, never kafkajs, so the client
 * library (unmaintained since 2023) can be swapped without touching them.
 *
 * Delivery is at-least-once and ordered per partition:
 *  - a consumer commits an offset only after its handler's writes returned and
 *    any dead letters were acknowledged by the broker;
 *  - a message that does not decode or fit its schema goes to `<topic>.dlq` with
 *    its original key and bytes plus headers saying why, and the partition moves on;
 *  - handler failures are retried with backoff (bounded); if they keep failing the
 *    consumer stops without committing, so the batch is redelivered, never lost.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, CompressionTypes, logLevel as kafkaLogLevel, Partitioners, type Consumer, type Producer, type Admin, type IHeaders, type LogEntry } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { ALL_TOPICS, deadLetterTopic, type EventMap, type TopicName } from '../events/contracts.ts';
import type { EventCodec } from './codec.ts';
import { chunk, planChunk, type Decoded, type DeadLetter, type RawMessage } from './batch-plan.ts';
import { backoffDelay, sleep as realSleep, type BackoffPolicy, type Sleep } from '../backoff.ts';
import { isTransient } from './transient.ts';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export interface HandlerContext {
  topic: string;
  partition: number;
  log: Logger;
}

/** What a handler may say about individual messages: these go to the dead-letter topic. */
export interface HandlerResult {
  deadLetters?: { offset: string; reason: string; step?: string }[];
}

export interface ConsumeOptions<T extends TopicName> {
  topic: T;
  groupId: string;
  handle: (events: Decoded<EventMap[T]>[], ctx: HandlerContext) => Promise<HandlerResult | void>;
  /** Largest number of messages handed to one handler call. */
  maxBatchSize?: number;
  /** Partitions handled at once by this consumer (bounded in-flight work). */
  partitionsConsumedConcurrently?: number;
  /** Attempts for a failing handler before the consumer gives up the batch (uncommitted). */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  sleep?: Sleep;
  fromBeginning?: boolean;
  /** How long the group waits for a silent member before reassigning its partitions. */
  sessionTimeoutMs?: number;
}

export type HealthStatus = 'ok' | 'degraded' | 'error';

export interface ConsumerHandle {
  readonly groupId: string;
  health(): { status: HealthStatus; lastActivityAt: string | null; detail: string };
  /** Stop fetching, let the in-flight batch finish and commit, then disconnect. */
  stop(): Promise<void>;
}

export interface EventBus {
  readonly codec: EventCodec;
  ensureTopics(specs?: TopicSpec[]): Promise<void>;
  publish<T extends TopicName>(topic: T, events: EventMap[T][], key: (event: EventMap[T]) => string): Promise<void>;
  consume<T extends TopicName>(options: ConsumeOptions<T>): Promise<ConsumerHandle>;
  /** Dead-letters records that are not messages of a topic (e.g. a report row that does not parse). */
  deadLetter(topic: TopicName, records: { key: string | null; value: Buffer; reason: string; step: string }[]): Promise<void>;
  /** Stops every consumer (in order), then the producer and admin client. */
  close(): Promise<void>;
}

export interface EventBusConfig {
  brokers: string[];
  clientId: string;
  codec: EventCodec;
  log: Logger;
  defaultPartitions?: number;
  /**
   * Prepended to every physical topic name (not to the logical names services use),
   * so several environments or test runs can share one cluster without seeing each other.
   */
  topicPrefix?: string;
  /** Also told about every dead letter (after Kafka has it), e.g. to index them in ClickHouse. */
  deadLetterSink?: (records: DeadLetterRecord[]) => Promise<void>;
}

export interface DeadLetterRecord {
  at: Date;
  topic: string;
  consumerGroup: string;
  step: string;
  reason: string;
  sourcePartition: number;
  sourceOffset: string;
  key: string | null;
}

export const DLQ_HEADERS = {
  reason: 'adsync-dlq-reason',
  step: 'adsync-dlq-step',
  topic: 'adsync-dlq-source-topic',
  partition: 'adsync-dlq-source-partition',
  offset: 'adsync-dlq-source-offset',
  group: 'adsync-dlq-consumer-group',
  at: 'adsync-dlq-at',
} as const;

function kafkaLogCreator(log: Logger) {
  return () => (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    const child = { kafka: { namespace: entry.namespace, ...extra } };
    if (entry.level <= kafkaLogLevel.ERROR) log.error(child, message);
    // kafkajs warns about bounded producer retries on every connect; we bound them on purpose.
    else if (entry.level === kafkaLogLevel.WARN && !message.startsWith('Limiting retries for the idempotent producer')) log.warn(child, message);
    else log.debug(child, message);
  };
}

export async function createEventBus(cfg: EventBusConfig): Promise<EventBus> {
  const log = cfg.log.child({ component: 'event-bus' });
  const prefix = cfg.topicPrefix ?? '';
  const physical = (topic: string): string => `${prefix}${topic}`;
  const kafka = new Kafka({
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    logLevel: kafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(log),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  });
  await cfg.codec.init();

  let admin: Admin | null = null;
  let producer: Producer | null = null;
  const consumers: ConsumerHandle[] = [];

  async function getProducer(): Promise<Producer> {
    if (!producer) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      producer = p;
    }
    return producer;
  }

  async function ensureTopics(specs?: TopicSpec[]): Promise<void> {
    const partitions = cfg.defaultPartitions ?? 3;
    const wanted = specs ?? ALL_TOPICS.map((topic) => ({ topic, partitions }));
    const withDlq = wanted.flatMap((s) => [s, { topic: deadLetterTopic(s.topic), partitions: 1 }]);
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const existing = new Set(await admin.listTopics());
    const missing = withDlq.map((s) => ({ ...s, topic: physical(s.topic) })).filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    // createTopics answers false for topics that already exist (another replica won
    // the race); that is success here.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: -1 })),
    });
    log.info({ topics: missing.map((m) => m.topic) }, 'created topics');
  }

  async function publish<T extends TopicName>(topic: T, events: EventMap[T][], key: (e: EventMap[T]) => string): Promise<void> {
    if (events.length === 0) return;
    const messages = await Promise.all(events.map(async (e) => ({ key: key(e), value: await cfg.codec.encode(topic, e) })));
    const p = await getProducer();
    // GZIP: row batches compress ~5x, which keeps record batches far below the broker's 1 MB limit.
    await p.send({ topic: physical(topic), acks: -1, compression: CompressionTypes.GZIP, messages });
  }

  async function publishDeadLetters(topic: string, group: string, partition: number, dead: DeadLetter[]): Promise<void> {
    if (dead.length === 0) return;
    const p = await getProducer();
    const at = new Date().toISOString();
    await p.send({
      topic: physical(deadLetterTopic(topic)),
      acks: -1,
      messages: dead.map((d) => ({
        key: d.raw.key,
        value: d.raw.value,
        headers: {
          ...(d.raw.headers as IHeaders | undefined),
          [DLQ_HEADERS.reason]: d.reason.slice(0, 4000),
          [DLQ_HEADERS.step]: d.step,
          [DLQ_HEADERS.topic]: topic,
          [DLQ_HEADERS.partition]: String(partition),
          [DLQ_HEADERS.offset]: d.raw.offset,
          [DLQ_HEADERS.group]: group,
          [DLQ_HEADERS.at]: at,
        },
      })),
    });
    if (cfg.deadLetterSink) {
      await cfg.deadLetterSink(dead.map((d) => ({ at: new Date(at), topic, consumerGroup: group, step: d.step, reason: d.reason, sourcePartition: partition, sourceOffset: d.raw.offset, key: d.raw.key?.toString('utf8') ?? null }))).catch((err) => log.warn({ err }, 'dead-letter sink failed (the dead letters are on Kafka)'));
    }
  }

  async function consume<T extends TopicName>(opts: ConsumeOptions<T>): Promise<ConsumerHandle> {
    const clog = log.child({ topic: opts.topic, groupId: opts.groupId });
    const maxBatch = opts.maxBatchSize ?? 500;
    const maxAttempts = opts.maxAttempts ?? 5;
    const sleep = opts.sleep ?? realSleep;
    const backoff = opts.backoff ?? { baseMs: 200, maxMs: 10_000 };
    const consumer: Consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      // Short fetch waits keep pipeline latency and shutdown time low; the broker is local.
      maxWaitTimeInMs: 1_000,
      heartbeatInterval: 3_000,
      retry: { retries: 5 },
    });
    let lastActivityAt: Date | null = null;
    let status: HealthStatus = 'ok';
    let detail = 'starting';
    let stopping = false;

    consumer.on(consumer.events.HEARTBEAT, () => { lastActivityAt = new Date(); });
    consumer.on(consumer.events.FETCH, () => { lastActivityAt = new Date(); });
    consumer.on(consumer.events.CRASH, (e) => {
      const willRestart = (e.payload as { restart?: boolean }).restart;
      status = willRestart ? 'degraded' : 'error';
      detail = `consumer crashed: ${(e.payload as { error?: Error }).error?.message ?? 'unknown'}${willRestart ? ' (restarting)' : ''}`;
    });

    await consumer.connect();
    await consumer.subscribe({ topic: physical(opts.topic), fromBeginning: opts.fromBeginning ?? true });

    const handleChunk = async (partition: number, messages: RawMessage[]): Promise<string | null> => {
      const plan = await planChunk(messages, (m) => cfg.codec.decode(opts.topic, m.value));
      const dead: DeadLetter[] = [...plan.dead];
      if (plan.good.length > 0) {
        const ctx: HandlerContext = { topic: opts.topic, partition, log: clog.child({ partition }) };
        for (let attempt = 1; ; attempt++) {
          try {
            const result = await opts.handle(plan.good, ctx);
            for (const d of result?.deadLetters ?? []) {
              const raw = plan.good.find((g) => g.offset === d.offset)?.raw;
              if (raw) dead.push({ raw, reason: d.reason, step: d.step ?? 'handle' });
            }
            if (status === 'degraded' && detail.startsWith('handler')) { status = 'ok'; detail = 'running'; }
            break;
          } catch (err) {
            if (!isTransient(err) || attempt >= maxAttempts || stopping) {
              status = 'degraded';
              detail = `handler failed: ${(err as Error).message}`;
              clog.error({ err, partition, attempt }, 'handler failed; batch left uncommitted for redelivery');
              throw err;
            }
            const delay = backoffDelay(attempt, backoff);
            status = 'degraded';
            detail = `handler retrying: ${(err as Error).message}`;
            clog.warn({ err, partition, attempt, delayMs: delay }, 'transient handler failure; retrying');
            await sleep(delay);
          }
        }
      }
      // Dead letters must be durable before the offset moves past them.
      if (dead.length) {
        await publishDeadLetters(opts.topic, opts.groupId, partition, dead);
        clog.warn({ partition, count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))].slice(0, 5) }, 'dead-lettered messages');
      }
      return plan.commitOffset;
    };

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const part of chunk(batch.messages as RawMessage[], maxBatch)) {
          if (!isRunning() || isStale()) break;
          const commitOffset = await handleChunk(batch.partition, part);
          if (commitOffset !== null) {
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: commitOffset }]);
            resolveOffset(part.at(-1)!.offset);
          }
          lastActivityAt = new Date();
          if (status === 'ok') detail = 'running';
          await heartbeat();
        }
      },
    });

    const handle: ConsumerHandle = {
      groupId: opts.groupId,
      health: () => ({ status, lastActivityAt: lastActivityAt?.toISOString() ?? null, detail }),
      stop: async () => {
        if (stopping) return;
        stopping = true;
        // kafkajs' stop() waits for the running eachBatch to finish (and so to commit).
        // A consumer caught mid-restart after a crash can wait forever, so bound it:
        // anything uncommitted is redelivered, never lost.
        const bounded = async (p: Promise<unknown>, what: string) => {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              clog.warn(`${what} took over 20 s; moving on`);
              resolve();
            }, 20_000);
          });
          try {
            await Promise.race([p, timeout]);
          } finally {
            clearTimeout(timer);
          }
        };
        await bounded(consumer.stop(), 'consumer stop');
        await bounded(consumer.disconnect(), 'consumer disconnect');
        clog.info('consumer stopped');
      },
    };
    consumers.push(handle);
    return handle;
  }

  async function deadLetter(topic: TopicName, records: { key: string | null; value: Buffer; reason: string; step: string }[]): Promise<void> {
    await publishDeadLetters(topic, cfg.clientId, -1, records.map((r, i) => ({ raw: { offset: String(i), key: r.key === null ? null : Buffer.from(r.key), value: r.value }, reason: r.reason, step: r.step })));
  }

  return {
    codec: cfg.codec,
    ensureTopics,
    publish,
    consume,
    deadLetter,
    close: async () => {
      for (const c of consumers.splice(0)) await c.stop();
      if (producer) await producer.disconnect();
      if (admin) await admin.disconnect();
      producer = null;
      admin = null;
    },
  };
}

export const newEventId = (): string => randomUUID();
