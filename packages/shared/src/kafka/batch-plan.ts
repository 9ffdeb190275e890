/**
 * Pure planning of one partition's chunk: which messages decode, which are poison,
 * and which offset to commit once the work is durable. Offsets within a partition
 * are handled in order, so the commit is always the last offset of the chunk + 1 —
 * never past a message that has not been handled or dead-lettered.
 */
import { isDependencyOutage } from '../runtime/errors.ts';

export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
  timestamp?: string;
}

export interface Decoded<T> {
  offset: string;
  key: string | null;
  value: T;
  raw: RawMessage;
}

export interface DeadLetter {
  raw: RawMessage;
  reason: string;
  step: string;
}

export interface ChunkPlan<T> {
  good: Decoded<T>[];
  dead: DeadLetter[];
  commitOffset: string | null;
}

export async function planChunk<T>(
  messages: RawMessage[],
  decode: (m: RawMessage) => Promise<T>,
): Promise<ChunkPlan<T>> {
  const good: Decoded<T>[] = [];
  const dead: DeadLetter[] = [];
  for (const m of messages) {
    try {
      good.push({ offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value: await decode(m), raw: m });
    } catch (err) {
      // The registry being down says nothing about the message: the caller waits and plans again.
      if (isDependencyOutage(err)) throw err;
      dead.push({ raw: m, reason: (err as Error).message, step: 'decode' });
    }
  }
  const last = messages.at(-1);
  return { good, dead, commitOffset: last ? (BigInt(last.offset) + 1n).toString() : null };
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
