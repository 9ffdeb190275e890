/**
 * Small JSON-schema builders the APIs share, and the one pagination contract:
 * every list answers at most `limit` items (default 100, at most 1000) from
 * `offset`, and says where the next page starts (`nextOffset`, null on the last).
 */
import type { Knex } from 'knex';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;
export const nullable = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, 'null'] }) as const;

/** An object response whose listed fields are documented; others may be added later without breaking clients. */
export const object = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: true }) as const;

export const idParams = (name = 'id') =>
  ({ type: 'object', required: [name], additionalProperties: false, properties: { [name]: uuid } }) as const;

export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
} as const;

export const pageResponseProperties = {
  limit: { type: 'integer' },
  offset: { type: 'integer' },
  nextOffset: { type: ['integer', 'null'] },
} as const;

/** A list's query: an optional account (see listedAccount), a page, and the list's own filters. */
export const accountListQuery = (filters: Record<string, unknown> = {}) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: { accountId: uuid, ...filters, ...pageQueryProperties },
  }) as const;

export interface PageQuery {
  limit: number;
  offset: number;
}

/** Runs a list query for one page (asking one row more to know whether another page follows). */
export async function page<T>(
  q: Knex.QueryBuilder,
  p: PageQuery,
): Promise<{ items: T[]; limit: number; offset: number; nextOffset: number | null }> {
  const rows = (await q
    .clone()
    .limit(p.limit + 1)
    .offset(p.offset)) as T[];
  const more = rows.length > p.limit;
  return {
    items: rows.slice(0, p.limit),
    limit: p.limit,
    offset: p.offset,
    nextOffset: more ? p.offset + p.limit : null,
  };
}

/** The same for a list already in memory (a computed report, e.g. completeness gaps). */
export function pageOfList<T>(
  all: T[],
  p: PageQuery,
): { items: T[]; limit: number; offset: number; nextOffset: number | null; total: number } {
  const items = all.slice(p.offset, p.offset + p.limit);
  return {
    items,
    limit: p.limit,
    offset: p.offset,
    nextOffset: p.offset + p.limit < all.length ? p.offset + p.limit : null,
    total: all.length,
  };
}
