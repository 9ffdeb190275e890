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

/**
 * Splits in order into as few chunks as `size` allows, of sizes differing by at most one:
 * 82 messages at 50 a chunk are 41 and 41, not 50 and 32, so when one chunk is decoded
 * while the one before it is handled, neither waits long for the other.
 */
export function evenChunks<T>(items: T[], size: number): T[][] {
  const n = Math.ceil(items.length / size);
  const out: T[][] = [];
  for (let i = 0, from = 0; i < n; i++) {
    const to = from + Math.ceil((items.length - from) / (n - i));
    out.push(items.slice(from, to));
    from = to;
  }
  return out;
}
