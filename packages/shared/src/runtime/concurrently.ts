/**
 * Runs `fn` over `items`, at most `width` at once, each started in order. A failure rejects
 * the whole once every started call has settled its current item (the other workers go on
 * taking items, as independent profiles should); callers that must stop early check their
 * own signal or lease inside `fn`.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
}
