/**
 * Our small Kafka interface. Services see EventBus, never kafkajs, so the client
 * library (unmaintained since 2023) can be swapped without touching them.
 *
 * Delivery is at-least-once and ordered per partition, and a handler's answer per
 * message decides what happens to it (PostHog's step results):
 *  - `ok`: done;
 *  - `dlq(reason)`: to `<topic>.dlq` with its original key, bytes and headers plus
 *    reason, step and time — the partition moves on;
 *  - `retry(reason)`: tried again in place with backoff, then dead-lettered with the
 *    last reason. A thrown error counts as `retry` when another attempt can help and
 *    as `dlq` when it cannot; a batch that throws is split to find the one message at
 *    fault. One exception: when our own servers (Postgres, ClickHouse, Kafka) are
 *    unreachable the message is not at fault, so it waits for them — never dead-lettered.
 * Offsets are committed only after the work and its dead letters are durable; no
 * error crash-loops the consumer; long handlers keep their partitions (the consumer
 * heartbeats while they run) and get an abort signal when the service stops.
 */
import { randomUUID } from 'node:crypto';
import {
  Kafka,
  CompressionTypes,
  logLevel as kafkaLogLevel,
  Partitioners,
  type Consumer,
  type ConsumerRunConfig,
  type Producer,
  type Admin,
  type IHeaders,
  type LogEntry,
} from 'kafkajs';
import type { Logger } from '../logger.ts';
import { ALL_TOPICS, deadLetterTopic, type EventMap, type TopicName } from '../events/contracts.ts';
import { metrics } from '../runtime/metrics.ts';
import type { EventCodec } from './codec.ts';
import { evenChunks, planChunk, type ChunkPlan, type Decoded, type DeadLetter, type RawMessage } from './batch-plan.ts';
import { backoffDelay, sleep as realSleep, type BackoffPolicy, type Sleep } from '../backoff.ts';
import { AppError, errorMessage, isDependencyOutage, isRetriable } from '../runtime/errors.ts';
import { retry } from '../runtime/retry.ts';
import { afterCrash, afterFetch } from './consumer-health.ts';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

/** What a handler says about one message. */
export type Outcome =
  { kind: 'ok' } | { kind: 'dlq'; reason: string; step?: string } | { kind: 'retry'; reason: string };
export const ok = (): Outcome => ({ kind: 'ok' });
export const dlq = (reason: string, step?: string): Outcome => ({ kind: 'dlq', reason, step });
export const retryLater = (reason: string): Outcome => ({ kind: 'retry', reason });

export interface HandlerContext {
  topic: string;
  partition: number;
  log: Logger;
  /** 1 for the first try, then 2, 3… for in-place retries. */
  attempt: number;
  /** Tells the group this member is alive (the consumer also does this on its own while a handler runs). */
  heartbeat(): Promise<void>;
  /** Aborted when the service stops: long work should give up; its messages are redelivered. */
  signal: AbortSignal;
}

export interface ConsumeOptions<T extends TopicName, V = EventMap[T]> {
  topic: T;
  groupId: string;
  /**
   * How a message's value is read (the codec's decode by default): a bulk reader can keep part
   * of it as bytes (codec.decodeKeeping). Whatever it throws dead-letters the message, as a
   * decode failure does.
   */
  decode?: (codec: EventCodec, bytes: Buffer | null) => Promise<V>;
  /** One message at a time… */
  handle?: (event: Decoded<V>, ctx: HandlerContext) => Promise<Outcome | void>;
  /** …or a batch at a time (bulk writers), one outcome per message in order. */
  handleBatch?: (events: Decoded<V>[], ctx: HandlerContext) => Promise<(Outcome | void)[] | void>;
  /** Largest number of messages handed to one batch handler call. */
  maxBatchSize?: number;
  /** Partitions handled at once by this consumer (bounded in-flight work). */
  partitionsConsumedConcurrently?: number;
  /**
   * Bytes fetched from one partition at once (kafkajs' default: 1 MB). Bulk writers raise it
   * so one handler call, and so one ClickHouse insert, carries more rows.
   */
  maxBytesPerPartition?: number;
  /** Attempts for a message whose handler says `retry` before it is dead-lettered. */
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
  readonly topic: string;
  health(): { status: HealthStatus; lastActivityAt: string | null; detail: string };
  /** Group joins and crashes seen, for tests and metrics. */
  readonly stats: { joins: number; crashes: number; handled: number; retried: number; deadLettered: number };
  /** Stop fetching, let the in-flight batch finish and commit, then disconnect. */
  stop(): Promise<void>;
}

export interface EventBus {
  readonly codec: EventCodec;
  ensureTopics(specs?: TopicSpec[]): Promise<void>;
  publish<T extends TopicName>(topic: T, events: EventMap[T][], key: (event: EventMap[T]) => string): Promise<void>;
  consume<T extends TopicName, V = EventMap[T]>(options: ConsumeOptions<T, V>): Promise<ConsumerHandle>;
  /**
   * Consumes every dead-letter topic at once (`<topic>.dlq` of every topic), headers
   * decoded into records. A letter its handler cannot take is logged and passed, never
   * dead-lettered again.
   */
  consumeDeadLetters(options: DeadLetterConsumeOptions): Promise<ConsumerHandle>;
  /**
   * Sends messages exactly as they were (already encoded bytes, key, headers) to a topic:
   * a dead letter replayed to where it came from.
   */
  publishRaw(
    topic: TopicName,
    messages: { key: string | null; value: Buffer; headers: Record<string, Buffer> }[],
  ): Promise<void>;
  /** Dead-letters records that are not messages of a topic (e.g. a report row that does not parse). */
  deadLetter(
    topic: TopicName,
    records: { key: string | null; value: Buffer; reason: string; step: string }[],
  ): Promise<void>;
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
}

/** What a dead letter says about itself (its headers), as the dead-letter index reads it. */
export interface DeadLetterRecord {
  at: Date;
  /** The topic the message was dead-lettered from (logical name). */
  topic: string;
  consumerGroup: string;
  step: string;
  reason: string;
  sourcePartition: number;
  sourceOffset: string;
  key: string | null;
}

/** Reads a dead letter's headers; a message without them (written by hand) still gets a record. */
export function deadLetterRecordOf(m: RawMessage, dlqTopic: string): DeadLetterRecord {
  const h = (name: string): string | null => {
    const v = (m.headers as Record<string, unknown> | undefined)?.[name];
    return v === undefined || v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  };
  const at = new Date(h(DLQ_HEADERS.at) ?? Number(m.timestamp ?? Date.now()));
  return {
    at: Number.isNaN(at.getTime()) ? new Date() : at,
    topic: h(DLQ_HEADERS.topic) ?? dlqTopic.replace(/\.dlq$/, ''),
    consumerGroup: h(DLQ_HEADERS.group) ?? '',
    step: h(DLQ_HEADERS.step) ?? 'unknown',
    reason: h(DLQ_HEADERS.reason) ?? '(no reason recorded)',
    sourcePartition: Number(h(DLQ_HEADERS.partition) ?? -1),
    sourceOffset: h(DLQ_HEADERS.offset) ?? '',
    key: m.key ? m.key.toString('utf8') : null,
  };
}

/** Options for the consumer of every `<topic>.dlq` (the dead-letter index). */
export type DeadLetterConsumeOptions = Omit<
  ConsumeOptions<TopicName>,
  'topic' | 'handle' | 'handleBatch' | 'decode'
> & {
  handleBatch: (letters: Decoded<DeadLetterRecord>[], ctx: HandlerContext) => Promise<void>;
};

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
    else if (entry.level === kafkaLogLevel.WARN && !message.startsWith('Limiting retries for the idempotent producer'))
      log.warn(child, message);
    else log.debug(child, message);
  };
}

/**
 * GZIP only where it is needed: a record batch must stay under the broker's 1 MB limit, and
 * row batches compress about 5x. Below half that limit the batch travels as it is — gzip cost
 * the producer, the broker (which decompresses to validate) and the consumer a seventh of a
 * report's path to ClickHouse (bench/report-pipeline.ts (c)), for bytes the broker keeps a week.
 */
export const COMPRESS_ABOVE_BYTES = 512 * 1024;
export function compressionFor(
  messages: { key?: string | null; value: Buffer | null; headers?: Record<string, Buffer> }[],
): CompressionTypes {
  // Everything the record batch carries: value, key, headers and about 70 bytes per record.
  let bytes = 0;
  for (const m of messages) {
    bytes += (m.value?.length ?? 0) + (m.key ? Buffer.byteLength(m.key) : 0) + 70;
    for (const [k, v] of Object.entries(m.headers ?? {})) bytes += k.length + v.length;
  }
  return bytes > COMPRESS_ABOVE_BYTES ? CompressionTypes.GZIP : CompressionTypes.None;
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
  // A registry still starting is waited for (about a minute); an incompatible schema is not retriable and stops start-up.
  await retry(() => cfg.codec.init(), {
    maxAttempts: 10,
    backoff: { baseMs: 500, maxMs: 10_000 },
    onRetry: (err, attempt, delayMs) =>
      log.warn({ err: errorMessage(err), attempt, delayMs }, 'schema registry not reachable yet; retrying'),
  });

  let admin: Admin | null = null;
  let producer: Producer | null = null;
  const consumers: ConsumerHandle[] = [];

  async function getProducer(): Promise<Producer> {
    if (!producer) {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
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
    const a = admin;
    // Services start together and create the same topics at once: the broker can answer
    // a replica that lost the race "does not host this topic-partition" while the
    // winner's partitions get their leaders. That is worth another look, not a crash.
    await retry(
      async () => {
        const existing = new Set(await a.listTopics());
        const missing = withDlq.map((s) => ({ ...s, topic: physical(s.topic) })).filter((s) => !existing.has(s.topic));
        if (missing.length === 0) return;
        // createTopics answers false for topics that already exist (another replica won); that is success here.
        await a.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: -1 })),
        });
        log.info({ topics: missing.map((m) => m.topic) }, 'created topics');
      },
      {
        maxAttempts: 8,
        backoff: { baseMs: 250, maxMs: 5_000 },
        onRetry: (err, attempt) =>
          log.warn({ err: errorMessage(err), attempt }, 'creating topics raced; looking again'),
      },
    );
    // A broker that has just started can list a topic before it serves the topic's metadata:
    // the first send or subscribe then fails "does not host this topic-partition". Ready means
    // every partition of every topic has a leader.
    const names = withDlq.map((s) => physical(s.topic));
    await retry(
      async () => {
        const { topics } = await a.fetchTopicMetadata({ topics: names });
        const leaderless = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length || topics.length < names.length)
          throw new AppError(
            'ADSYNC_DEPENDENCY_UNAVAILABLE',
            `topics without leaders yet: ${leaderless.map((t) => t.name).join(', ') || 'some not listed'}`,
            { retriable: true },
          );
      },
      {
        maxAttempts: 10,
        backoff: { baseMs: 200, maxMs: 3_000 },
        onRetry: (err, attempt) => log.warn({ err: errorMessage(err), attempt }, 'waiting for topics to get leaders'),
      },
    );
  }

  async function publish<T extends TopicName>(
    topic: T,
    events: EventMap[T][],
    key: (e: EventMap[T]) => string,
  ): Promise<void> {
    if (events.length === 0) return;
    const messages = await Promise.all(
      events.map(async (e) => ({ key: key(e), value: await cfg.codec.encode(topic, e) })),
    );
    const p = await getProducer();
    await p.send({ topic: physical(topic), acks: -1, compression: compressionFor(messages), messages });
  }

  async function publishRaw(
    topic: TopicName,
    messages: { key: string | null; value: Buffer; headers: Record<string, Buffer> }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const p = await getProducer();
    await p.send({ topic: physical(topic), acks: -1, compression: compressionFor(messages), messages });
  }

  async function publishDeadLetters(
    topic: string,
    group: string,
    partition: number,
    dead: DeadLetter[],
  ): Promise<void> {
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
  }

  /** Where a consumer reads from and how its messages become values. */
  interface Source<V> {
    /** Logical topic names. */
    topics: string[];
    decode(topic: string, m: RawMessage): Promise<V>;
    /** Whether a message it cannot take goes to `<topic>.dlq` (false for the dead-letter topics themselves). */
    deadLetters: boolean;
  }

  async function consume<T extends TopicName, V = EventMap[T]>(opts: ConsumeOptions<T, V>): Promise<ConsumerHandle> {
    const read = opts.decode;
    return consumeFrom<V>(
      {
        topics: [opts.topic],
        decode: read
          ? (_t, m) => read(cfg.codec, m.value)
          : (_t, m) => cfg.codec.decode(opts.topic, m.value) as Promise<V>,
        deadLetters: true,
      },
      opts as unknown as Omit<ConsumeOptions<TopicName>, 'handle' | 'handleBatch' | 'decode'> & {
        handle?: (e: Decoded<V>, ctx: HandlerContext) => Promise<Outcome | void>;
        handleBatch?: (e: Decoded<V>[], ctx: HandlerContext) => Promise<(Outcome | void)[] | void>;
      },
    );
  }

  async function consumeDeadLetters(opts: DeadLetterConsumeOptions): Promise<ConsumerHandle> {
    return consumeFrom<DeadLetterRecord>(
      {
        topics: ALL_TOPICS.map(deadLetterTopic),
        decode: async (topic, m) => deadLetterRecordOf(m, topic),
        deadLetters: false,
      },
      { ...opts, topic: 'dead letters' as TopicName, handleBatch: opts.handleBatch },
    );
  }

  async function consumeFrom<V>(
    source: Source<V>,
    opts: Omit<ConsumeOptions<TopicName>, 'handle' | 'handleBatch' | 'decode'> & {
      handle?: (e: Decoded<V>, ctx: HandlerContext) => Promise<Outcome | void>;
      handleBatch?: (e: Decoded<V>[], ctx: HandlerContext) => Promise<(Outcome | void)[] | void>;
    },
  ): Promise<ConsumerHandle> {
    if (!opts.handle === !opts.handleBatch) throw new Error('consume needs exactly one of handle and handleBatch');
    const clog = log.child({ topic: opts.topic, groupId: opts.groupId });
    const logical = (physicalTopic: string) =>
      physicalTopic.startsWith(prefix) ? physicalTopic.slice(prefix.length) : physicalTopic;
    const maxBatch = opts.handle ? 1 : (opts.maxBatchSize ?? 500);
    const maxAttempts = opts.maxAttempts ?? 5;
    const sleep = opts.sleep ?? realSleep;
    const backoff = opts.backoff ?? { baseMs: 200, maxMs: 10_000 };
    const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
    const heartbeatInterval = Math.max(500, Math.min(3_000, Math.floor(sessionTimeout / 3)));
    const consumer: Consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout,
      // A fetch returns as soon as a message arrives, so its wait costs no latency: it only bounds
      // how often an idle consumer asks (and how long stop() waits). One heartbeat interval keeps
      // heartbeats, which kafkajs sends between fetches, on time.
      maxWaitTimeInMs: heartbeatInterval,
      heartbeatInterval,
      ...(opts.maxBytesPerPartition
        ? { maxBytesPerPartition: opts.maxBytesPerPartition, maxBytes: Math.max(10_485_760, opts.maxBytesPerPartition) }
        : {}),
      retry: { retries: 5 },
    });
    const stats = { joins: 0, crashes: 0, handled: 0, retried: 0, deadLettered: 0 };
    const aborter = new AbortController();
    let lastActivityAt: Date | null = null;
    let status: HealthStatus = 'ok';
    let detail = 'starting';
    let stopping = false;

    consumer.on(consumer.events.HEARTBEAT, () => {
      lastActivityAt = new Date();
    });
    let crashedSinceFetch = false;
    consumer.on(consumer.events.FETCH, () => {
      lastActivityAt = new Date();
      ({ status, detail } = afterFetch({ status, detail }, crashedSinceFetch));
      crashedSinceFetch = false;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      stats.joins++;
    });
    const crashTimes: number[] = [];
    let runConfig: ConsumerRunConfig | null = null;
    /**
     * kafkajs restarts a crashed consumer only after a retriable error; after others (an
     * UNKNOWN_MEMBER_ID on commit once the broker came back, say) it stays stopped. This runs
     * it again, with backoff: what was not committed is delivered again, nothing is lost.
     */
    const restartAfterCrash = (delayMs: number) =>
      setTimeout(async () => {
        if (stopping || !runConfig) return;
        try {
          await consumer.connect();
          await consumer.run(runConfig);
          clog.warn('consumer running again after a crash kafkajs does not restart from');
        } catch (err) {
          clog.error({ err: errorMessage(err) }, 'consumer could not be started again after a crash; trying later');
          restartAfterCrash(Math.min(delayMs * 2, 30_000));
        }
      }, delayMs);
    consumer.on(consumer.events.CRASH, (e) => {
      stats.crashes++;
      crashedSinceFetch = true;
      crashTimes.push(Date.now());
      const kafkajsRestarts = (e.payload as { restart?: boolean }).restart === true;
      const h = afterCrash(crashTimes, Date.now(), !stopping);
      status = h.status;
      detail = `${h.detail}: ${(e.payload as { error?: Error }).error?.message ?? 'unknown'}`;
      if (!kafkajsRestarts && !stopping) restartAfterCrash(1_000);
    });

    await consumer.connect();
    await consumer.subscribe({ topics: source.topics.map(physical), fromBeginning: opts.fromBeginning ?? true });

    type Msg = Decoded<V>;
    const asOutcome = (o: Outcome | void): Outcome => o ?? ok();
    const fromError = (err: unknown): Outcome =>
      isRetriable(err) ? retryLater(errorMessage(err)) : dlq(errorMessage(err), 'handle');

    /** Runs work that touches our own servers; while one is unreachable, waits (heartbeating) instead of blaming the messages. */
    const throughOutages = async <R>(
      work: () => Promise<R>,
      heartbeat: () => Promise<void>,
      abandoned: () => boolean = () => false,
    ): Promise<R> => {
      for (let wait = 1; ; wait++) {
        try {
          return await work();
        } catch (err) {
          if (stopping || aborter.signal.aborted || abandoned() || !isDependencyOutage(err)) throw err;
          const delay = backoffDelay(Math.min(wait, 8), backoff);
          status = 'degraded';
          detail = `waiting for a dependency: ${errorMessage(err)}`;
          clog.warn(
            { err: errorMessage(err), wait, delayMs: delay },
            'a server we depend on is unreachable; waiting, not dead-lettering',
          );
          await heartbeat().catch(() => undefined);
          await sleep(delay);
        }
      }
    };

    /** Runs the handler over some messages; a batch that fails as a whole is split to find the message at fault. */
    const run = async (msgs: Msg[], ctx: HandlerContext): Promise<Outcome[]> => {
      try {
        return await throughOutages(async () => {
          if (opts.handle) return [asOutcome(await opts.handle(msgs[0]!, ctx))];
          const out = (await opts.handleBatch!(msgs, ctx)) ?? [];
          return msgs.map((_, i) => asOutcome(out[i]));
        }, ctx.heartbeat);
      } catch (err) {
        if (stopping || aborter.signal.aborted) throw err;
        if (msgs.length === 1) return [fromError(err)];
        const one: Outcome[] = [];
        for (const m of msgs) one.push(...(await run([m], ctx)));
        return one;
      }
    };

    /**
     * Decodes a chunk. `ahead` decodes one message per turn of the event loop, so decoding the
     * next chunk fills the time this one's handler waits (on ClickHouse finishing an insert,
     * say) instead of running before its I/O starts.
     */
    const decodeChunk = (
      topic: string,
      messages: RawMessage[],
      heartbeat: () => Promise<void>,
      ahead: false | { abandoned: () => boolean },
    ) => {
      const abandoned = ahead ? ahead.abandoned : () => false;
      const decode = ahead
        ? async (m: RawMessage) => {
            await new Promise((r) => setImmediate(r));
            // The batch ended (a rebalance, a stop) before reaching this chunk: stop decoding it.
            if (abandoned()) throw new Error('the batch was left before this chunk');
            return source.decode(topic, m);
          }
        : (m: RawMessage) => source.decode(topic, m);
      const planned = throughOutages(() => planChunk(messages, decode), heartbeat, abandoned);
      // Awaited by handleChunk; a chunk never reached (stopping) must not be an unhandled rejection.
      planned.catch(() => undefined);
      return planned;
    };

    const handleChunk = async (
      topic: string,
      partition: number,
      planned: Promise<ChunkPlan<unknown>>,
      heartbeat: () => Promise<void>,
    ): Promise<string | null> => {
      const plan = await planned;
      const dead: DeadLetter[] = [...plan.dead];
      let pending: Msg[] = plan.good as Msg[];
      const partLog = clog.child({ partition });
      for (let attempt = 1; pending.length > 0; attempt++) {
        const ctx: HandlerContext = {
          topic,
          partition,
          log: partLog,
          attempt,
          heartbeat,
          signal: aborter.signal,
        };
        const outcomes = await run(pending, ctx);
        const again: Msg[] = [];
        outcomes.forEach((o, i) => {
          const m = pending[i]!;
          metrics.messages.inc({ topic, group: opts.groupId, outcome: o.kind });
          if (o.kind === 'ok') stats.handled++;
          else if (o.kind === 'dlq') dead.push({ raw: m.raw, reason: o.reason, step: o.step ?? 'handle' });
          else if (attempt >= maxAttempts)
            dead.push({ raw: m.raw, reason: `gave up after ${attempt} attempts: ${o.reason}`, step: 'retry' });
          else again.push(m);
        });
        pending = again;
        if (pending.length === 0) break;
        if (stopping) return null; // not committed: redelivered to whoever takes the partition
        stats.retried += pending.length;
        const delay = backoffDelay(attempt, backoff);
        status = 'degraded';
        detail = `retrying ${pending.length} message(s): ${(outcomes.find((o) => o.kind === 'retry') as { reason: string } | undefined)?.reason ?? ''}`;
        partLog.warn({ count: pending.length, attempt, delayMs: delay }, 'retrying messages in place');
        await sleep(delay);
      }
      if (dead.length && !source.deadLetters) {
        // Dead letters are not dead-lettered again: say so loudly and move on.
        clog.error(
          { partition, count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))].slice(0, 5) },
          'messages this consumer could not take were passed over',
        );
        stats.deadLettered += dead.length;
        dead.length = 0;
      }
      // Dead letters must be durable before the offset moves past them.
      if (dead.length) {
        for (let wait = 1; ; wait++) {
          try {
            await publishDeadLetters(topic, opts.groupId, partition, dead);
            break;
          } catch (err) {
            if (stopping) return null;
            partLog.warn({ err: errorMessage(err), wait }, 'dead letters not written yet; retrying before committing');
            await sleep(backoffDelay(Math.min(wait, 8), backoff));
          }
        }
        stats.deadLettered += dead.length;
        partLog.warn(
          { count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))].slice(0, 5) },
          'dead-lettered messages',
        );
      }
      status = 'ok';
      detail = 'running';
      return plan.commitOffset;
    };

    runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const topic = logical(batch.topic);
        const parts = evenChunks(batch.messages as RawMessage[], maxBatch);
        let left = false;
        const ahead = { abandoned: () => left };
        let next = parts.length ? decodeChunk(topic, parts[0]!, heartbeat, false) : null;
        try {
          for (const [i, part] of parts.entries()) {
            if (!isRunning() || isStale() || stopping) break;
            const planned = next!;
            // Handlers run one chunk at a time, in order; only decoding runs ahead, by one chunk.
            next = i + 1 < parts.length ? decodeChunk(topic, parts[i + 1]!, heartbeat, ahead) : null;
            // Heartbeats continue while the work runs, so a long handler keeps its partitions.
            const beat = setInterval(() => void heartbeat().catch(() => undefined), heartbeatInterval);
            let commitOffset: string | null;
            try {
              commitOffset = await handleChunk(topic, batch.partition, planned, heartbeat);
            } catch (err) {
              // Only reachable while stopping: leave the chunk uncommitted for redelivery.
              clog.info({ err: errorMessage(err) }, 'stopped mid-batch; the rest is redelivered');
              break;
            } finally {
              clearInterval(beat);
            }
            if (commitOffset === null) break;
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: commitOffset }]);
            resolveOffset(part.at(-1)!.offset);
            // What is left of the partition past what this group has committed.
            metrics.consumerLag.set(
              { group: opts.groupId, topic, partition: String(batch.partition) },
              Math.max(0, Number(batch.highWatermark) - Number(commitOffset)),
            );
            lastActivityAt = new Date();
            await heartbeat();
          }
        } finally {
          left = true;
        }
      },
    };
    await consumer.run(runConfig);

    const handle: ConsumerHandle = {
      groupId: opts.groupId,
      topic: opts.topic,
      stats,
      health: () => ({ status, lastActivityAt: lastActivityAt?.toISOString() ?? null, detail }),
      stop: async () => {
        if (stopping) return;
        stopping = true;
        aborter.abort();
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

  async function deadLetter(
    topic: TopicName,
    records: { key: string | null; value: Buffer; reason: string; step: string }[],
  ): Promise<void> {
    await publishDeadLetters(
      topic,
      cfg.clientId,
      -1,
      records.map((r, i) => ({
        raw: { offset: String(i), key: r.key === null ? null : Buffer.from(r.key), value: r.value },
        reason: r.reason,
        step: r.step,
      })),
    );
  }

  return {
    codec: cfg.codec,
    ensureTopics,
    publish,
    consume,
    consumeDeadLetters,
    publishRaw,
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
