import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { DependencyUnavailableError, classifyDriverError } from '../runtime/errors.ts';

export type { ClickHouseClient };

export interface ClickHouseOptions {
  /** A server's HTTP URL, or several replicas' separated by commas: a call goes to one, and the next takes over when it does not answer. */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Prefix of every query id, so system.query_log and slow-query logs name the caller. */
  application: string;
  /** Cluster mode (clickhouse-cluster.ts): the cluster the servers' remote_servers name; empty or absent for one server. */
  cluster?: string;
}

export interface ClickHouse {
  client: ClickHouseClient;
  database: string;
  /** The cluster migrations are applied ON, or null for one server. */
  cluster: string | null;
  /** A query id carrying the caller's tag (portable: the log_comment setting is too new for some servers). */
  queryId(tag: string): string;
  close(): Promise<void>;
}

/** The replicas' URLs of a CLICKHOUSE_URL. */
export const clickhouseUrls = (url: string): string[] =>
  url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);

export async function createClickHouse(opts: ClickHouseOptions): Promise<ClickHouse> {
  const urls = clickhouseUrls(opts.url);
  if (!urls.length) throw new Error('no ClickHouse URL');
  const cluster = opts.cluster || null;
  if (cluster && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) throw new Error(`not a cluster name: ${cluster}`);
  const clients = urls.map((url) =>
    createClient({
      url,
      database: opts.database,
      username: opts.username ?? 'default',
      password: opts.password ?? '',
      request_timeout: 120_000,
      compression: { request: false, response: true },
      // Progress headers keep long inserts and FINAL reads from being cut by idle proxies.
      clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '20000' },
    }),
  );
  // The database may not exist yet on a fresh server; create it through a client that does not
  // select it (on every server of the cluster at once), at the first replica that answers.
  let lastError: unknown;
  // Calls begin at the first replica that answered.
  let answered = 0;
  for (const [at, url] of urls.entries()) {
    answered = at;
    const bootstrap = createClient({ url, username: opts.username ?? 'default', password: opts.password ?? '' });
    try {
      // ON CLUSTER waits for every server: asked only when the database is missing, so a service
      // starts while a replica is down.
      const known = cluster
        ? await bootstrap
            .query({
              query: `SELECT count() FROM system.databases WHERE name = ${chString(opts.database)}`,
              format: 'TabSeparated',
            })
            .then((r) => r.text())
            .then((t) => t.trim() === '1')
            .catch(() => false)
        : false;
      if (!known)
        await bootstrap.command({
          query: `CREATE DATABASE IF NOT EXISTS ${opts.database}${cluster ? ` ON CLUSTER ${cluster}` : ''}`,
          query_id: `${opts.application}:bootstrap:${randomUUID()}`,
        });
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
      if (!noAnswer(err)) break;
    } finally {
      await bootstrap.close();
    }
  }
  if (lastError) {
    await Promise.all(clients.map((c) => c.close()));
    throw lastError;
  }
  return {
    client: classifying(failingOver(clients, answered)),
    database: opts.database,
    cluster,
    queryId: (tag) => `${opts.application}:${tag}:${randomUUID()}`,
    close: async () => void (await Promise.all(clients.map((c) => c.close()))),
  };
}

/** A failure where the server never answered (refused, reset, timed out): another replica may. */
function noAnswer(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  // TABLE_IS_READ_ONLY: a replica that lost ZooKeeper answers, but cannot take writes.
  if (code === '242' || /^Code: 242[,.]/.test(String((err as Error)?.message ?? ''))) return true;
  if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_\w+)$/.test(code)) return true;
  return /socket hang up|ECONNREFUSED|ECONNRESET|Timeout error/i.test(String((err as Error)?.message ?? ''));
}

/**
 * Several replicas as one client: calls go to the current one; one that does not answer makes
 * the next current, and the call fails as an outage (callers retry those). A call the server
 * refused stays where it is. Readiness asks each in turn and keeps the first that answers.
 */
function failingOver(clients: ClickHouseClient[], first: number): ClickHouseClient {
  if (clients.length === 1) return clients[0]!;
  let current = first;
  return new Proxy(clients[0]!, {
    get(_target, prop) {
      const target = clients[current]!;
      if (prop === 'ping')
        return async () => {
          let answer: Awaited<ReturnType<ClickHouseClient['ping']>> | undefined;
          for (let i = 0; i < clients.length; i++) {
            const at = (current + i) % clients.length;
            answer = await clients[at]!.ping();
            if (answer.success) {
              current = at;
              return answer;
            }
          }
          return answer!;
        };
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (!CALLS.has(String(prop))) return (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) =>
        (v as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err: unknown) => {
          if (noAnswer(err) && clients[current] === target) current = (current + 1) % clients.length;
          throw err;
        });
    },
  });
}

const CALLS = new Set(['query', 'insert', 'command', 'exec']);

/**
 * The server's own refusal of a streamed insert reaches us as a bare Error with its exception
 * text ("Code: 16, e.displayText() = DB::Exception: No such column …"), where a query's refusal
 * is a ClickHouseError with its code. Either way ClickHouse answered: that is not an outage to
 * wait out, and the code is kept.
 */
// TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, NO_FREE_CONNECTION, SOCKET_TIMEOUT,
// NETWORK_ERROR, ABORTED, MEMORY_LIMIT_EXCEEDED, TABLE_IS_READ_ONLY, TOO_MANY_PARTS,
// QUERY_WAS_CANCELLED, KEEPER_EXCEPTION.
const TRANSIENT_CLICKHOUSE_CODES = new Set([159, 202, 203, 209, 210, 236, 241, 242, 252, 394, 999]);

export function clickhouseAnswer(err: unknown): unknown {
  if (!(err instanceof Error) || err.constructor !== Error) return err;
  const m = /^Code: (\d+)[,.]/.exec(err.message);
  // A server busy, short of memory, timing out or going down is still worth waiting for.
  if (!m || TRANSIENT_CLICKHOUSE_CODES.has(Number(m[1]))) return err;
  return Object.assign(new Error(err.message, { cause: err }), { code: `CLICKHOUSE_${m[1]}` });
}

/** The client, with each call's failure classified where the driver raises it (runtime/errors.ts). */
function classifying(client: ClickHouseClient): ClickHouseClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || !CALLS.has(String(prop))) return v;
      return (...args: unknown[]) =>
        (v as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err: unknown) => {
          throw classifyDriverError('ClickHouse', clickhouseAnswer(err));
        });
    },
  });
}

export async function clickhouseReady(ch: ClickHouse): Promise<{ ok: boolean; detail: string }> {
  const res = await ch.client.ping();
  return res.success
    ? { ok: true, detail: 'ok' }
    : { ok: false, detail: String((res as { error?: Error }).error?.message ?? 'ping failed') };
}

/**
 * A ClickHouse string literal. Query parameters ({name:Type}) are not available on
 * every server we support (Debian's 18.16), so values are inlined through this.
 */
export function chString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function chDate(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`not a date: ${v}`);
  return `toDate('${v}')`;
}

/** A DateTime value for JSONEachRow inserts (second precision, UTC; DateTime64 is too new for some servers). */
export const chDateTime = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

/**
 * INSERT from a stream of text already in `format` (JSONEachRow lines, say), sent as it is
 * produced: the server parses the first rows while the rest are still being encoded.
 */
export async function insertText(
  ch: ClickHouse,
  table: string,
  format: 'JSONEachRow' | 'TabSeparated',
  text: Readable,
  queryId?: string,
  /** The columns, in the order each line gives them (TabSeparated names none itself). */
  columns?: readonly string[],
): Promise<void> {
  const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (!ident.test(table)) throw new Error(`unsafe table name ${table}`);
  const bad = columns?.find((c) => !ident.test(c));
  if (bad !== undefined) throw new Error(`unsafe column name ${bad}`);
  const named = columns?.length ? ` (${columns.join(', ')})` : '';
  const res = await ch.client.exec({
    query: `INSERT INTO ${table}${named} FORMAT ${format}`,
    values: text,
    query_id: queryId,
  });
  // The answer is empty; reading it to the end frees the connection for the next request.
  for await (const _ of res.stream) void _;
}

/**
 * An ALTER … DELETE, waited for until ClickHouse has applied it (mutations run in the
 * background). Only the mutations this started are waited for; running out of time is an
 * outage to retry, and a retry that finds the rows already gone asks nothing again.
 */
export async function deleteAndWait(ch: ClickHouse, table: string, where: string, timeoutMs: number): Promise<void> {
  const ids = async () => {
    const rs = await ch.client.query({
      query: `SELECT mutation_id FROM system.mutations WHERE database = ${chString(ch.database)} AND table = ${chString(table)}`,
      format: 'JSONEachRow',
    });
    return new Set((await rs.json<{ mutation_id: string }>()).map((r) => r.mutation_id));
  };
  const before = await ids();
  await ch.client.command({ query: `ALTER TABLE ${table} DELETE WHERE ${where}` });
  const mine = [...(await ids())].filter((id) => !before.has(id));
  await mutationsDone(ch, table, mine, timeoutMs);
}

/** Waits until ClickHouse has applied these mutations of a table. */
async function mutationsDone(ch: ClickHouse, table: string, ids: string[], timeoutMs: number): Promise<void> {
  if (!ids.length) return;
  const until = Date.now() + timeoutMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const rs = await ch.client.query({
      query: `SELECT count() AS n FROM system.mutations WHERE database = ${chString(ch.database)} AND table = ${chString(table)}
                AND mutation_id IN (${ids.map(chString).join(', ')}) AND is_done = 0`,
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string }>();
    if (Number(row?.n ?? 0) === 0) return;
    if (Date.now() > until)
      throw new DependencyUnavailableError(
        'ClickHouse',
        `it has not applied the delete of restated rows in ${table} within ${timeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, wait));
  }
}
