/**
 * Dead letters an operator can act on, the module that owns `dead_letter_actions`.
 * The index (ClickHouse `dead_letters`) lists them with their bytes; a replay sends a
 * selection back to the topic each came from, exactly as it was, with a header naming
 * the letter; a purge takes letters off the active list. A letter is replayed once:
 * the ledger remembers it, so replaying the same selection again sends nothing.
 *
 * The message is sent before the ledger row is written: a crash between the two can
 * send a letter twice, which every consumer already absorbs (loads are idempotent by
 * report and version), while the other order could mark a letter replayed that never was.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import { ALL_TOPICS, type TopicName } from '@adsync/shared/events/contracts';
import { findDeadLetters, type DeadLetterSelection, type IndexedLetter } from '@adsync/shared/db/dead-letter-index';

export const REPLAY_HEADER = 'adsync-replay-of';

export type LetterState = 'active' | 'replayed' | 'purged';

export interface ListedLetter extends Omit<IndexedLetter, 'message_value' | 'message_headers'> {
  state: LetterState;
  replayable: boolean;
}

const keyOf = (l: { topic: string; dlq_partition: number; dlq_offset: string }) =>
  `${l.topic}|${l.dlq_partition}|${l.dlq_offset}`;

async function statesOf(db: Knex, letters: IndexedLetter[]): Promise<Map<string, LetterState>> {
  const out = new Map<string, LetterState>();
  if (letters.length === 0) return out;
  const rows: { topic: string; dlq_partition: number; dlq_offset: string; action: LetterState }[] = await db(
    'dead_letter_actions',
  )
    .whereIn(
      ['topic', 'dlq_partition', 'dlq_offset'],
      letters.map((l) => [l.topic, l.dlq_partition, l.dlq_offset]),
    )
    .select('topic', 'dlq_partition', 'dlq_offset', 'action');
  for (const r of rows) out.set(keyOf(r), r.action);
  return out;
}

const isTopic = (t: string): t is TopicName => (ALL_TOPICS as readonly string[]).includes(t);

/** A letter can go back only if its bytes were kept and its topic is one adsync consumes. */
const replayable = (l: IndexedLetter) => l.message_value !== '' && isTopic(l.topic);

/** Letters matching a selection, in a state (default: active, neither replayed nor purged). */
export async function listLetters(
  deps: { db: Knex; ch: ClickHouse },
  sel: DeadLetterSelection & { state?: LetterState | 'all' },
  limit: number,
): Promise<ListedLetter[]> {
  const state = sel.state ?? 'active';
  // Read past the page so filtering by state still fills it; the index is small (letters are rare).
  const found = await findDeadLetters(deps.ch, sel, state === 'all' ? limit : limit * 10);
  const states = await statesOf(deps.db, found);
  return found
    .map((l) => {
      const { message_value: _v, message_headers: _h, ...rest } = l;
      return { ...rest, state: states.get(keyOf(l)) ?? ('active' as LetterState), replayable: replayable(l) };
    })
    .filter((l) => state === 'all' || l.state === state)
    .slice(0, limit);
}

export interface ActionSummary {
  selected: number;
  done: number;
  /** Letters left alone, with why (already replayed, purged, no bytes kept). */
  skipped: { topic: string; dlq_partition: number; dlq_offset: string; reason: string }[];
  dryRun: boolean;
}

export async function replayLetters(
  deps: { db: Knex; ch: ClickHouse; bus: EventBus },
  sel: DeadLetterSelection,
  o: { limit: number; dryRun?: boolean; actor?: string },
): Promise<ActionSummary> {
  const found = await findDeadLetters(deps.ch, sel, o.limit);
  const states = await statesOf(deps.db, found);
  const summary: ActionSummary = { selected: found.length, done: 0, skipped: [], dryRun: Boolean(o.dryRun) };
  const todo: IndexedLetter[] = [];
  for (const l of found) {
    const state = states.get(keyOf(l));
    const place = { topic: l.topic, dlq_partition: l.dlq_partition, dlq_offset: l.dlq_offset };
    if (state) summary.skipped.push({ ...place, reason: `already ${state}` });
    else if (!replayable(l))
      summary.skipped.push({
        ...place,
        reason: l.message_value === '' ? 'indexed before letters kept their bytes' : `unknown topic ${l.topic}`,
      });
    else todo.push(l);
  }
  if (o.dryRun) return { ...summary, done: todo.length };
  for (const topic of new Set(todo.map((l) => l.topic))) {
    const batch = todo.filter((l) => l.topic === topic);
    await deps.bus.publishRaw(
      topic as TopicName,
      batch.map((l) => ({
        key: l.message_key === '' ? null : l.message_key,
        value: Buffer.from(l.message_value, 'base64'),
        headers: {
          ...Object.fromEntries(
            Object.entries(JSON.parse(l.message_headers || '{}') as Record<string, string>).map(([k, v]) => [
              k,
              Buffer.from(v, 'base64'),
            ]),
          ),
          [REPLAY_HEADER]: Buffer.from(`${l.topic}.dlq/${l.dlq_partition}/${l.dlq_offset}`),
        },
      })),
    );
    await deps
      .db('dead_letter_actions')
      .insert(
        batch.map((l) => ({
          topic: l.topic,
          dlq_partition: l.dlq_partition,
          dlq_offset: l.dlq_offset,
          action: 'replayed',
          acted_by: o.actor ?? null,
        })),
      )
      .onConflict(['topic', 'dlq_partition', 'dlq_offset'])
      .merge(['action', 'acted_at', 'acted_by']);
    summary.done += batch.length;
  }
  return summary;
}

export async function purgeLetters(
  deps: { db: Knex; ch: ClickHouse },
  sel: DeadLetterSelection,
  o: { limit: number; dryRun?: boolean; actor?: string },
): Promise<ActionSummary> {
  const found = await findDeadLetters(deps.ch, sel, o.limit);
  const states = await statesOf(deps.db, found);
  const summary: ActionSummary = { selected: found.length, done: 0, skipped: [], dryRun: Boolean(o.dryRun) };
  const todo = found.filter((l) => {
    const state = states.get(keyOf(l));
    if (state === 'purged')
      summary.skipped.push({
        topic: l.topic,
        dlq_partition: l.dlq_partition,
        dlq_offset: l.dlq_offset,
        reason: 'already purged',
      });
    return state !== 'purged';
  });
  if (!o.dryRun && todo.length)
    await deps
      .db('dead_letter_actions')
      .insert(
        todo.map((l) => ({
          topic: l.topic,
          dlq_partition: l.dlq_partition,
          dlq_offset: l.dlq_offset,
          action: 'purged',
          acted_by: o.actor ?? null,
        })),
      )
      .onConflict(['topic', 'dlq_partition', 'dlq_offset'])
      .merge(['action', 'acted_at', 'acted_by']);
  summary.done = todo.length;
  return summary;
}
