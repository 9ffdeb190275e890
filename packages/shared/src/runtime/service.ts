/**
 * The service runner every entry point stands on. `runService` builds what a service
 * needs from validated config (Postgres, ClickHouse, Kafka with the registry codec,
 * Amazon clients, sealed secrets), migrates when asked, serves HTTP (health,
 * readiness, OpenAPI, the service's routes), runs its loops and consumers, relays
 * its outbox, and shuts down in one order: stop taking requests → stop fetching →
 * let in-flight work finish and commit → last outbox relay → close clients and pools.
 * Readiness reflects real liveness: every dependency answers, every loop ticked
 * recently, no consumer has crashed for good.
 *
 * `runTask` is the same for CronJob entries: build, run once, close, exit with its code.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { loadConfig, ConfigError } from '../config/load-config.ts';
import type { BaseConfig } from '../config/base-config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createPostgres, postgresReady, type Knex } from '../db/postgres.ts';
import { createClickHouse, clickhouseReady, type ClickHouse } from '../db/clickhouse.ts';
import { migrateClickHouse, migratePostgres } from '../db/migrations.ts';
import { createCodec } from '../kafka/codec.ts';
import {
  createEventBus,
  type ConsumeOptions,
  type ConsumerHandle,
  type DeadLetterConsumeOptions,
  type EventBus,
} from '../kafka/event-bus.ts';
import { OUTBOX_QUEUE, outboxDue, relayOutbox } from '../db/outbox.ts';
import { listenForNotifications, type Notifications } from '../db/notifications.ts';
import { watchQueue } from './metrics.ts';
import type { QueueSpec } from './work-queue.ts';
import { AmazonClients } from '../amazon/account-clients.ts';
import { secretBoxFromEnv, type SecretBox } from '../crypto/secret-box.ts';
import { createHttpServer, type ReadinessCheck } from '../http/server.ts';
import { ensureAdminKey } from '../http/api-keys.ts';
import type { EventMap, TopicName } from '../events/contracts.ts';
import { startLoop, type Loop, type LoopOptions } from './loop.ts';
import { errorMessage } from './errors.ts';

export interface Needs {
  /**
   * Postgres (the default). false: a service that keeps no state and checks no keys itself (the
   * console, which passes each call on to a service that does) opens no database, runs no
   * migration and is given no database credentials.
   */
  postgres?: boolean;
  clickhouse?: boolean;
  kafka?: boolean;
  /** Amazon clients built from stored credentials (implies sealed secrets). */
  amazon?: boolean;
  /** The secret box, to seal and open stored credentials. */
  secrets?: boolean;
}

export type RuntimeLoopOptions<R> = Omit<LoopOptions<R>, 'log' | 'intervalMs'> & {
  intervalMs?: number;
  /**
   * Queue tables (migration 0024's triggers) whose NOTIFY wakes the loop; `{ channel, if }`
   * wakes it on another announcement (adsync_<channel>) only while `if()` says it is worth it.
   */
  wakeOn?: (string | { channel: string; if: () => boolean })[];
};

export interface Runtime<C extends BaseConfig> {
  readonly name: string;
  readonly cfg: C;
  readonly log: Logger;
  readonly db: Knex;
  /** Present when the service needs ClickHouse. */
  readonly ch: ClickHouse;
  /** Present when the service needs Kafka. */
  readonly bus: EventBus;
  readonly clients: AmazonClients;
  readonly box: SecretBox;
  /**
   * A loop whose liveness feeds readiness and which stops in order. `wakeOn` names the queue
   * tables whose notifications wake it; `intervalMs` defaults to IDLE_CHECK_MS, the safety net.
   */
  loop<R>(o: RuntimeLoopOptions<R>): Loop<R>;
  /** A consumer (group names get the topic prefix) whose health feeds readiness and which stops first. */
  consume<T extends TopicName, V = EventMap[T]>(o: ConsumeOptions<T, V>): Promise<ConsumerHandle>;
  /** A consumer of every `<topic>.dlq` (the dead-letter index), with the same prefixing and health. */
  consumeDeadLetters(o: DeadLetterConsumeOptions): Promise<ConsumerHandle>;
  /** Work a request started in the background: shutdown waits for it. */
  background(work: Promise<unknown>): void;
  /** An extra readiness check. */
  ready(name: string, check: ReadinessCheck): void;
  /** Relays the outbox now (after a state change whose event should not wait for the next relay tick). */
  relay(): Promise<void>;
}

interface Built<C extends BaseConfig> extends Runtime<C> {
  loops: Loop[];
  consumers: ConsumerHandle[];
  inflight: Set<Promise<unknown>>;
  checks: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

function configOrExit<S extends z.ZodRawShape>(shape: S): z.infer<z.ZodObject<S>> {
  try {
    return loadConfig(shape);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

async function build<C extends BaseConfig>(name: string, cfg: C, needs: Needs): Promise<Built<C>> {
  // Kafka's outbox and Amazon's stored credentials live in Postgres.
  if (needs.postgres === false && (needs.kafka || needs.amazon))
    throw new Error(
      `${name}: needs.postgres false cannot go with needs.kafka or needs.amazon (both keep state in Postgres)`,
    );
  const log = createLogger({ name, level: cfg.LOG_LEVEL });
  const pg =
    needs.postgres === false ? undefined : createPostgres({ url: cfg.DATABASE_URL, applicationName: `adsync-${name}` });
  // Typed as present: a service that declares needs.postgres false never reaches for it.
  const db = pg as Knex;
  const checks: Record<string, ReadinessCheck> = pg ? { postgres: () => postgresReady(pg) } : {};
  let ch: ClickHouse | undefined;
  if (needs.clickhouse) {
    ch = await createClickHouse({
      url: cfg.CLICKHOUSE_URL,
      cluster: cfg.CLICKHOUSE_CLUSTER,
      database: cfg.CLICKHOUSE_DATABASE,
      application: `adsync-${name}`,
      username: cfg.CLICKHOUSE_USER,
      password: cfg.CLICKHOUSE_PASSWORD,
    });
    const c = ch;
    checks.clickhouse = () => clickhouseReady(c);
  }
  if (pg && cfg.MIGRATE_ON_START) {
    await migratePostgres(pg);
    if (ch) await migrateClickHouse(ch, undefined, pg);
  }
  if (pg && cfg.ADMIN_API_KEY) await ensureAdminKey(pg, cfg.ADMIN_API_KEY);
  let bus: EventBus | undefined;
  if (needs.kafka) {
    const codec = createCodec(cfg.SCHEMA_REGISTRY_URL);
    bus = await createEventBus({
      brokers: cfg.KAFKA_BROKERS,
      clientId: `adsync-${name}`,
      codec,
      log,
      topicPrefix: cfg.KAFKA_TOPIC_PREFIX,
    });
    await bus.ensureTopics();
    log.info(
      { schemaRegistry: cfg.SCHEMA_REGISTRY_URL ?? null, codec: codec.kind },
      cfg.SCHEMA_REGISTRY_URL
        ? 'event schemas registered in the Schema Registry'
        : 'no Schema Registry configured: using the in-repo schemas',
    );
  }
  const box = needs.amazon || needs.secrets ? secretBoxFromEnv(cfg) : (undefined as unknown as SecretBox);
  const clients = needs.amazon
    ? new AmazonClients({ db, box, log, baseUrl: cfg.AMAZON_ADS_BASE_URL })
    : (undefined as unknown as AmazonClients);
  const loops: Loop[] = [];
  const consumers: ConsumerHandle[] = [];
  const inflight = new Set<Promise<unknown>>();
  /** A consumer counts towards readiness: one that crashed for good makes the service not ready. */
  const watched = (c: ConsumerHandle): ConsumerHandle => {
    consumers.push(c);
    checks[`consumer:${c.groupId}`] = async () => {
      const h = c.health();
      return { ok: h.status !== 'error', detail: h.detail };
    };
    return c;
  };
  let notifications: Notifications | undefined;
  const relay = async () => {
    if (bus) await relayOutbox(db, bus);
  };

  const rt: Built<C> = {
    name,
    cfg,
    log,
    db,
    ch: ch as ClickHouse,
    bus: bus as EventBus,
    clients,
    box,
    loops,
    consumers,
    inflight,
    checks,
    relay,
    loop: (o) => {
      const { wakeOn, ...rest } = o;
      const l = startLoop({ ...rest, intervalMs: o.intervalMs ?? cfg.IDLE_CHECK_MS, log });
      if (wakeOn?.length) {
        if (!pg)
          throw new Error(`${name}: loop ${o.name} wakes on Postgres notifications, but needs.postgres is false`);
        notifications ??= listenForNotifications({ url: cfg.DATABASE_URL, applicationName: `adsync-${name}`, log });
        for (const w of wakeOn)
          if (typeof w === 'string') notifications.on(w, () => l.wake());
          else notifications.on(w.channel, () => w.if() && l.wake());
      }
      loops.push(l as Loop);
      checks[`loop:${o.name}`] = async () => {
        const h = l.health();
        return { ok: h.ok, detail: h.detail };
      };
      return l;
    },
    consume: async (o) => {
      if (!bus) throw new Error(`${name} consumes ${o.topic} but does not declare needs.kafka`);
      return watched(
        await bus.consume({
          sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS,
          ...o,
          // Every group carries the prefix, as every topic does: environments sharing a cluster never share a group.
          groupId: `${cfg.KAFKA_TOPIC_PREFIX}${o.groupId}`,
        }),
      );
    },
    consumeDeadLetters: async (o) => {
      if (!bus) throw new Error(`${name} consumes dead letters but does not declare needs.kafka`);
      return watched(
        await bus.consumeDeadLetters({
          sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS,
          ...o,
          groupId: `${cfg.KAFKA_TOPIC_PREFIX}${o.groupId}`,
        }),
      );
    },
    background: (work) => {
      const p = work.catch((err) => log.error({ err }, 'background work failed'));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    ready: (n, check) => {
      checks[n] = check;
    },
    close: async () => {
      // Stop fetching first: consumers finish their batch and commit.
      for (const c of consumers) await c.stop();
      await notifications?.close();
      for (const l of loops) await l.stop();
      await Promise.allSettled([...inflight]);
      await relay().catch((err) =>
        log.warn({ err: errorMessage(err) }, 'outbox relay at shutdown failed; the next start relays it'),
      );
      await bus?.close();
      await clients?.close();
      await ch?.close();
      await pg?.destroy();
    },
  };
  if (bus) {
    // Woken by a new row; and, while every waiting row is another relay's, by its publishing them.
    let leased = false;
    rt.loop({
      name: 'outbox',
      tick: relay,
      wakeOn: ['event_outbox', { channel: 'event_outbox_released', if: () => leased }],
      due: async () => {
        const due = await outboxDue(db);
        leased = due.leased;
        return due.ms;
      },
    });
  }
  return rt;
}

export interface ServiceSpec<S extends z.ZodRawShape> {
  name: string;
  config: S;
  needs: Needs;
  /** Where the HTTP API listens (every service serves at least health, readiness and OpenAPI). */
  listen: (cfg: z.infer<z.ZodObject<S>>) => { host: string; port: number };
  /** The work queues this service owns, reported as depth and oldest age on /metrics. */
  queues?: Record<string, QueueSpec>;
  /** Registers the service's routes, loops and consumers. */
  start: (rt: Runtime<z.infer<z.ZodObject<S>> & BaseConfig>, app: FastifyInstance) => Promise<void> | void;
}

export async function runService<S extends z.ZodRawShape>(spec: ServiceSpec<S>): Promise<void> {
  const cfg = configOrExit(spec.config) as z.infer<z.ZodObject<S>> & BaseConfig;
  const rt = await build(spec.name, cfg, spec.needs);
  if (spec.needs.postgres === false && spec.queues)
    throw new Error(`${spec.name}: work queues live in Postgres, but needs.postgres is false`);
  for (const [queue, q] of Object.entries(spec.queues ?? {})) watchQueue(queue, rt.db, q);
  if (spec.needs.kafka) watchQueue(`outbox_${spec.name}`, rt.db, OUTBOX_QUEUE);
  const app = await createHttpServer({
    name: spec.name,
    log: rt.log,
    db: spec.needs.postgres === false ? undefined : rt.db,
    readiness: rt.checks,
    apiKeyCacheMs: cfg.API_KEY_CACHE_MS,
  });
  await spec.start(rt, app);
  const { host, port } = spec.listen(cfg);
  await app.listen({ host, port });
  rt.log.info(
    { host, port, loops: rt.loops.map((l) => l.name), consumers: rt.consumers.map((c) => c.groupId) },
    `${spec.name} running`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    rt.log.info(
      { signal, inflight: rt.inflight.size },
      'shutting down: no new requests; finishing in-flight work, committing, closing',
    );
    try {
      await app.close();
      await rt.close();
      process.exit(0);
    } catch (err) {
      rt.log.error({ err, signal }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

export interface TaskSpec<S extends z.ZodRawShape> {
  name: string;
  config: S;
  needs: Needs;
  /** The work; resolves with the exit code (0: done, 1: done with failures). */
  run: (rt: Runtime<z.infer<z.ZodObject<S>> & BaseConfig>) => Promise<number>;
}

/** A CronJob entry: build what the task needs, run it once, close everything, exit with its code (2 when it crashed). */
export async function runTask<S extends z.ZodRawShape>(spec: TaskSpec<S>): Promise<never> {
  const cfg = configOrExit(spec.config) as z.infer<z.ZodObject<S>> & BaseConfig;
  let code: number;
  let rt: Built<z.infer<z.ZodObject<S>> & BaseConfig> | null = null;
  try {
    rt = await build(spec.name, cfg, spec.needs);
    code = await spec.run(rt);
  } catch (err) {
    (rt?.log ?? console).error({ err }, `${spec.name} failed`);
    console.error(`${spec.name} failed: ${errorMessage(err)}`);
    code = 2;
  } finally {
    await rt?.close().catch(() => undefined);
  }
  process.exit(code);
}
