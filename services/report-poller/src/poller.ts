/**
 * The poll loop: a tick every interval (10–30 s in production), or sooner when a
 * report.requested event or the HTTP trigger asks. Never more than one tick at a
 * time in a process; replicas coordinate through the claim in pollTick. Events
 * enqueued by a tick are relayed right after it.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { pollTick, type PollOptions, type TickResult } from './poll-tick.ts';

export interface Poller {
  tickNow(): Promise<TickResult>;
  wake(): void;
  stop(): Promise<void>;
  lastTickAt(): Date | null;
}

export function startPoller(o: { db: Knex; clients: AmazonClients; bus: EventBus; log: Logger; intervalMs: number; poll: PollOptions }): Poller {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<TickResult> | null = null;
  let stopped = false;
  let last: Date | null = null;

  const tick = async (): Promise<TickResult> => {
    if (running) return running;
    running = (async () => {
      try {
        const r = await pollTick({ db: o.db, clients: o.clients, log: o.log }, o.poll);
        await relayOutbox(o.db, o.bus);
        last = new Date();
        if (r.claimed) o.log.info(r, 'poll tick');
        return r;
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      void tick()
        .catch((err) => o.log.error({ err }, 'poll tick failed'))
        .finally(() => schedule(o.intervalMs));
    }, ms);
  };
  schedule(0);
  return {
    tickNow: tick,
    wake: () => schedule(0),
    lastTickAt: () => last,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
