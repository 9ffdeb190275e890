/**
 * Postgres LISTEN/NOTIFY, one connection per process: the work loops sleep until a queue they
 * claim from announces a row (a trigger per queue table, migration 0024) instead of asking
 * Postgres every second. NOTIFY is delivered on commit only, so a woken loop finds what woke it.
 *
 * A notification can be missed while this connection is down; after every (re)connect each
 * channel's handlers run once, as if notified, and the loops' own safety-net timers cover the
 * rest. Losing this connection therefore slows nothing down for long and loses no work.
 */
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../runtime/errors.ts';
import { backoffDelay } from '../backoff.ts';

/** The channel a queue table's trigger notifies (see 0024_queue_notifications). */
export const channelOf = (table: string): string => `adsync_${table}`;

export interface Notifications {
  /** Calls `fn` on every notification on the channel of `table`, and after every reconnect. */
  on(table: string, fn: () => void): void;
  /** Whether the LISTEN connection is up (for readiness details, not readiness itself). */
  connected(): boolean;
  close(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

export function listenForNotifications(o: { url: string; applicationName: string; log: Logger }): Notifications {
  const log = o.log.child({ component: 'notifications' });
  const handlers = new Map<string, (() => void)[]>();
  let client: pg.Client | null = null;
  let up = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | null = null;
  let connecting: Promise<void> | null = null;
  /** The client a connect in progress is opening (close() ends it rather than wait). */
  let opening: pg.Client | null = null;

  const fire = (channel: string) => {
    for (const fn of handlers.get(channel) ?? []) fn();
  };
  const fireAll = () => {
    for (const channel of handlers.keys()) fire(channel);
  };

  const scheduleReconnect = () => {
    if (closed || retry) return;
    const delay = backoffDelay(++failures, { baseMs: 500, maxMs: 30_000 });
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, delay);
    retry.unref();
  };

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      // TCP keepalive finds a connection a failover or a NAT dropped silently (no error would ever
      // come, and the loops would be left to their safety-net timers); a connect never hangs.
      const c = new pg.Client({
        connectionString: o.url,
        application_name: `${o.applicationName}-listen`,
        keepAlive: true,
        keepAliveInitialDelayMillis: 30_000,
        connectionTimeoutMillis: 10_000,
      });
      opening = c;
      c.on('notification', (n) => fire(n.channel));
      c.on('error', (err) => {
        if (client !== c) return;
        log.warn(
          { err: errorMessage(err) },
          'LISTEN connection lost; loops fall back to their timers until it is back',
        );
        up = false;
        client = null;
        void c.end().catch(() => undefined);
        scheduleReconnect();
      });
      c.on('end', () => {
        if (client !== c || closed) return;
        up = false;
        client = null;
        scheduleReconnect();
      });
      try {
        await c.connect();
        for (const channel of handlers.keys()) await c.query(`LISTEN ${channel}`);
        if (closed) {
          await c.end();
          return;
        }
        client = c;
        up = true;
        if (failures > 0) log.info({ channels: [...handlers.keys()] }, 'LISTEN connection back');
        failures = 0;
        // Whatever was announced while nobody listened is looked at now.
        fireAll();
      } catch (err) {
        void c.end().catch(() => undefined);
        if (failures === 0) log.warn({ err: errorMessage(err) }, 'LISTEN connection failed; retrying');
        scheduleReconnect();
      }
    })().finally(() => {
      connecting = null;
      opening = null;
    });
    return connecting;
  };

  let started = false;
  return {
    on(table, fn) {
      const channel = channelOf(table);
      if (!IDENT.test(channel)) throw new Error(`unsafe channel name ${channel}`);
      const list = handlers.get(channel);
      if (list) {
        list.push(fn);
        return;
      }
      handlers.set(channel, [fn]);
      if (!started) {
        started = true;
        void connect();
      } else if (client && up) {
        const c = client;
        void c.query(`LISTEN ${channel}`).catch((err) => {
          log.warn({ err: errorMessage(err), channel }, 'LISTEN failed; reconnecting');
          c.emit('error', err);
        });
      }
      // A channel added while (re)connecting is listened to by that connect or the next one.
    },
    connected: () => up,
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      void opening?.end().catch(() => undefined);
      await connecting?.catch(() => undefined);
      const c = client;
      client = null;
      up = false;
      await c?.end().catch(() => undefined);
    },
  };
}
