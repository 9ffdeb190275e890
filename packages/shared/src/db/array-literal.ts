/**
 * A flat JS array as Postgres array text (`{1,NULL,"a\"b"}`), for one parameter standing for a
 * whole column (`unnest(?::int8[])`, `= any(?::text[])`). node-postgres can do this itself,
 * but it runs every element through its generic value preparation and a quoting regex, and
 * builds the text by concatenation: on a 10,000-row batch of five columns that was about a
 * tenth of a price job's CPU in the service (bench/supplier-price-update.ts). Numbers need no
 * quotes; text is always quoted, so an empty string, a space or the word NULL stay text. Pure.
 */

import type { Knex } from 'knex';

/**
 * A JS array as one Postgres array parameter (`= any(?::text[])`, `unnest(?::int8[])`).
 * knex expands a JS array in raw bindings into a list of parameters, one per element:
 * for thousands of keys that costs knex, the driver and Postgres's planner far more than
 * the query itself. A flat array of text and numbers goes as array text (arrayLiteral);
 * anything else through node-postgres' own array preparation (its toPostgres hook).
 */
export function pgArray(values: readonly unknown[]): Knex.Value {
  if (isLiteralArray(values)) return arrayLiteral(values);
  return { toPostgres: (prepare: (v: unknown) => unknown) => prepare(values) } as unknown as Knex.Value;
}

/** The elements arrayLiteral takes; anything else (a Date, an object, a nested array) is left to node-postgres. */
export type LiteralElement = string | number | boolean | null | undefined;

export function isLiteralArray(values: readonly unknown[]): values is readonly LiteralElement[] {
  for (const v of values) {
    const t = typeof v;
    if (v !== null && t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'undefined') return false;
  }
  return true;
}

const QUOTED = /["\\]/g;

export function arrayLiteral(values: readonly LiteralElement[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = 'NULL';
    else if (typeof v === 'string')
      parts[i] = `"${v.indexOf('"') < 0 && v.indexOf('\\') < 0 ? v : v.replace(QUOTED, '\\$&')}"`;
    else parts[i] = String(v);
  }
  return `{${parts.join(',')}}`;
}
