/**
 * The transactional outbox, the module that owns `event_outbox`. `enqueue` runs
 * inside the caller's transaction, so an event is recorded exactly when the state it
 * announces is. `relayOutbox` publishes what is committed, oldest first: it claims
 * rows with a lease (the work-queue primitive), publishes them with no transaction
 * open, then marks them published. Replicas relay concurrently without publishing a
 * row twice; a relay that dies between publish and mark leaves rows whose lease
 * runs out and are published again, which consumers tolerate (at-least-once).
 */
import type { Knex } from 'knex';
import type { EventBus } from '../kafka/event-bus.ts';
import type { EventMap, TopicName } from '../events/contracts.ts';
import { claim, queueDepth, type QueueSpec } from '../runtime/work-queue.ts';

export const OUTBOX_QUEUE: QueueSpec = {
  table: 'event_outbox',
  claimable: 'published_at is null and (claimed_until is null or claimed_until < now())',
  order: 'id',
  claim: `claimed_until = now() + (:lease * interval '1 millisecond')`,
  waiting: 'published_at is null',
  ageColumn: 'created_at',
  // A row another relay holds is due when its lease runs out.
  due: { rows: 'published_at is null', at: 'coalesce(claimed_until, now())' },
};

export async function enqueue<T extends TopicName>(
  tx: Knex | Knex.Transaction,
  topic: T,
  key: string,
  event: EventMap[T],
): Promise<void> {
  await tx('event_outbox').insert({ topic, event_key: key, payload: JSON.stringify(event) });
}

export async function relayOutbox(db: Knex, bus: EventBus, limit = 500, leaseMs = 60_000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await claim<{ id: string; topic: string; event_key: string; payload: unknown }>(db, OUTBOX_QUEUE, {
      limit,
      leaseMs,
    });
    if (rows.length === 0) return total;
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    const byTopic = new Map<string, typeof rows>();
    for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    for (const [topic, list] of byTopic) {
      const keys = new Map(list.map((r) => [r.payload as unknown, r.event_key]));
      await bus.publish(topic as TopicName, list.map((r) => r.payload) as never, (e: unknown) => keys.get(e) ?? '');
    }
    await db('event_outbox')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ published_at: db.fn.now(), claimed_until: null });
    total += rows.length;
    if (rows.length < limit) return total;
  }
}

/**
 * When the outbox next has a row to relay, and whether that time is only a lease running out
 * (every waiting row is held by a relay, as when another replica is publishing it): such a
 * wait ends early when a relay announces it published (adsync_event_outbox_released, 0025).
 */
export async function outboxDue(db: Knex): Promise<{ ms: number | null; leased: boolean }> {
  // The due rule is OUTBOX_QUEUE's (what nextDueIn reads); `leased` adds whether every such row is held.
  const due = OUTBOX_QUEUE.due!;
  const res = await db.raw(
    `select extract(epoch from min(${due.at}) - now()) * 1000 as ms,
            coalesce(bool_and(claimed_until is not null and claimed_until > now()), false) as leased
       from event_outbox where (${due.rows})`,
  );
  const row = res.rows[0] as { ms: string | number | null; leased: boolean };
  return { ms: row.ms === null ? null : Math.max(0, Number(row.ms)), leased: row.leased };
}

export const outboxDepth = (db: Knex) => queueDepth(db, OUTBOX_QUEUE);
