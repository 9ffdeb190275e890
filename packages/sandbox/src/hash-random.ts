/**
 * Deterministic randomness addressed by key: the same (seed, key) always gives the
 * same number, so any entity or metric can be generated on its own, in any order,
 * without holding the whole dataset in memory.
 */
export function hash32(seed: number, key: string): number {
  // FNV-1a, then a murmur-style finaliser for good low bits.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1). */
export const unit = (seed: number, key: string): number => hash32(seed, key) / 4294967296;

/** Integer in [min, max]. */
export const intBetween = (seed: number, key: string, min: number, max: number): number =>
  min + Math.floor(unit(seed, key) * (max - min + 1));

export const pick = <T>(seed: number, key: string, items: readonly T[]): T =>
  items[Math.floor(unit(seed, key) * items.length)] as T;
