/**
 * Opaque page tokens (a position in a list, base64url) and the text filter of Amazon's list
 * APIs (`{include, queryTermMatchType}`), shared by the sandbox's list operations.
 */

/** Tokens of one API family: `prefix:position`, base64url; an absent token is the first page, a foreign one null. */
export function pageTokens(prefix: string) {
  const re = new RegExp(`^${prefix}:(\\d+)$`);
  return {
    encode: (i: number) => Buffer.from(`${prefix}:${i}`).toString('base64url'),
    decode(t: unknown): number | null {
      if (t === undefined || t === null || t === '') return 0;
      const m = re.exec(Buffer.from(String(t), 'base64url').toString('utf8'));
      return m ? Number(m[1]) : null;
    },
  };
}

/**
 * A text filter ({include, queryTermMatchType}): EXACT_MATCH takes any listed value whole;
 * BROAD_MATCH "matches if the queried value contains the filter value" and, as the SP v3 model
 * says, only for the first value listed. Null: no filter given.
 */
export function textMatcher(f: unknown): ((values: string[]) => boolean) | null {
  const q = f as { include?: string[]; queryTermMatchType?: string } | undefined;
  if (!q?.include?.length) return null;
  const include = q.include;
  return q.queryTermMatchType === 'EXACT_MATCH'
    ? (values) => values.some((v) => include.includes(v))
    : (values) => values.some((v) => v.toLowerCase().includes(include[0]!.toLowerCase()));
}
