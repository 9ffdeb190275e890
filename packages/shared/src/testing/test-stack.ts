/**
 * Integration tests run against real servers. They come from the environment
 * that `deploy/local/stack env` prints (CI and the README's test command set it),
 * or from docker-compose. A server that does not answer fails the test run with
 * a message saying how to start it — it is never a skip.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { loadBaseConfig, type BaseConfig } from '../config/base-config.ts';
import { createPostgres, type Knex } from '../db/postgres.ts';
import { createClickHouse, type ClickHouse } from '../db/clickhouse.ts';
import { createLogger, type Logger } from '../logger.ts';
import { AppError } from '../runtime/errors.ts';

export class StackMissingError extends AppError {
  constructor(server: string, address: string, cause: unknown) {
    super(
      'ADSYNC_STACK_MISSING',
      `${server} does not answer at ${address} (${(cause as Error)?.message ?? cause}). ` +
        'Integration tests need the real servers: run `deploy/local/stack up` (or `docker compose up`) and use `deploy/local/stack test`.',
      { retriable: false },
    );
    this.name = 'StackMissingError';
  }
}

export const testConfig = (): BaseConfig =>
  loadBaseConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });

export const testLogger = (name = 'test'): Logger =>
  createLogger({ name, level: process.env.LOG_LEVEL ?? 'warn', pretty: false });

export const uniqueName = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

export async function requireKafka(cfg = testConfig()): Promise<void> {
  const admin = new Kafka({
    clientId: 'adsync-test-probe',
    brokers: cfg.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    // A broker just started answers while it still elects its partitions' leaders ("no leader
    // for this topic-partition"): it is there, so give it a few seconds before calling it missing.
    retry: { retries: 6, initialRetryTime: 300, maxRetryTime: 3000 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new StackMissingError('Kafka', cfg.KAFKA_BROKERS.join(','), err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The Schema Registry's URL; a missing one is a failure, as for every other server. */
export async function requireRegistry(cfg = testConfig()): Promise<string> {
  const url = cfg.SCHEMA_REGISTRY_URL;
  if (!url)
    throw new StackMissingError('The Schema Registry', 'SCHEMA_REGISTRY_URL (unset)', new Error('no URL configured'));
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`GET /subjects answered ${res.status}`);
  } catch (err) {
    throw new StackMissingError('The Schema Registry', url, err);
  }
  return url;
}

/** The SQS endpoint (ElasticMQ in the stack), answering; a missing one is a failure, not a skip. */
export async function requireSqs(): Promise<string> {
  const endpoint = process.env.SQS_ENDPOINT;
  if (!endpoint)
    throw new StackMissingError(
      'SQS (ElasticMQ)',
      'SQS_ENDPOINT (unset)',
      new Error('run the tests through `deploy/local/stack test`'),
    );
  try {
    const res = await fetch(`${endpoint}/?Action=ListQueues`);
    if (!res.ok) throw new Error(`answered ${res.status}`);
    await res.arrayBuffer();
  } catch (err) {
    throw new StackMissingError('SQS (ElasticMQ)', endpoint, err);
  }
  return endpoint;
}

export interface FreshPostgres {
  db: Knex;
  url: string;
  drop(): Promise<void>;
}

/** A brand-new, empty Postgres database, so each test file starts from nothing. */
export async function freshPostgres(cfg = testConfig()): Promise<FreshPostgres> {
  const admin = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-test-admin', poolMax: 1 });
  const name = uniqueName('adsync_t');
  try {
    await admin.raw(`create database ${name}`);
  } catch (err) {
    await admin.destroy();
    throw new StackMissingError('Postgres', cfg.DATABASE_URL.replace(/:[^:@/]*@/, ':***@'), err);
  }
  const u = new URL(cfg.DATABASE_URL);
  u.pathname = `/${name}`;
  const db = createPostgres({ url: u.toString(), applicationName: 'adsync-test' });
  return {
    db,
    url: u.toString(),
    drop: async () => {
      await db.destroy();
      // An autovacuum worker may still be in the database; on a server where our role may not
      // end it (42501), it is done within moments, so the drop is tried again for a while.
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.raw(`drop database if exists ${name} with (force)`);
            break;
          } catch (err) {
            if ((err as { code?: string }).code !== '42501' || attempt >= 50) throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        await admin.destroy();
      }
    },
  };
}

export interface FreshClickHouse {
  ch: ClickHouse;
  drop(): Promise<void>;
}

export async function freshClickHouse(cfg = testConfig()): Promise<FreshClickHouse> {
  const database = uniqueName('adsync_t');
  let ch: ClickHouse;
  try {
    ch = await createClickHouse({
      url: cfg.CLICKHOUSE_URL,
      cluster: cfg.CLICKHOUSE_CLUSTER,
      database,
      application: 'adsync-test',
      username: cfg.CLICKHOUSE_USER,
      password: cfg.CLICKHOUSE_PASSWORD,
    });
  } catch (err) {
    throw new StackMissingError('ClickHouse', cfg.CLICKHOUSE_URL, err);
  }
  return {
    ch,
    drop: async () => {
      await ch.client.command({
        query: `DROP DATABASE IF EXISTS ${database}${ch.cluster ? ` ON CLUSTER ${ch.cluster}` : ''}`,
      });
      await ch.close();
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** A `background` runner for code that starts work from a request, and a way for a test to wait for all of it. */
export function backgroundWork(): { background: (work: Promise<unknown>) => void; settle: () => Promise<void> } {
  const inflight = new Set<Promise<unknown>>();
  return {
    background: (work) => {
      const p = work.catch(() => undefined);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    settle: async () => {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
  };
}
