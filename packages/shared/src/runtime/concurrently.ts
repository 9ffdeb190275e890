/**
 * Runs `fn` over `items`, at most `width` at once, each started in order. A failure does not
 * stop the others (independent profiles go on), and the whole rejects with the first failure
 * only once every item has run and settled, so nothing is still writing when the caller
 * learns of it (and, say, releases a lease). Callers that must stop early check their own
 * signal or lease inside `fn`.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  if (failed) throw (failed as { error: unknown }).error;
}
