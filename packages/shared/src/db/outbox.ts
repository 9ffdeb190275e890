/**
 * The transactional outbox. `enqueue` runs inside the caller's transaction; `relay`
 * publishes what is committed, oldest first, and marks it published. Replicas relay
 * concurrently without publishing a row twice (SKIP LOCKED); a crash between
 * publish and mark re-publishes, which consumers already tolerate (at-least-once).
 */
import type { Knex } from 'knex';
import type { EventBus } from '../kafka/event-bus.ts';
import type { EventMap, TopicName } from '../events/contracts.ts';

export async function enqueue<T extends TopicName>(tx: Knex | Knex.Transaction, topic: T, key: string, event: EventMap[T]): Promise<void> {
  await tx('event_outbox').insert({ topic, event_key: key, payload: JSON.stringify(event) });
}

export async function relayOutbox(db: Knex, bus: EventBus, limit = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const rows = await tx('event_outbox').whereNull('published_at').orderBy('id').limit(limit).forUpdate().skipLocked().select('id', 'topic', 'event_key', 'payload');
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, typeof rows>();
      for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      for (const [topic, list] of byTopic) {
        const keys = new Map(list.map((r) => [r.payload as unknown, r.event_key as string]));
        await bus.publish(topic as TopicName, list.map((r) => r.payload) as never, (e: unknown) => keys.get(e) ?? '');
      }
      await tx('event_outbox').whereIn('id', rows.map((r) => r.id)).update({ published_at: tx.fn.now() });
      return rows.length;
    });
    total += n;
    if (n < limit) return total;
  }
}
