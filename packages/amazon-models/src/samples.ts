/**
 * Requests generated from a model's schemas, and the ways to break them: a value for
 * any schema (every optional field filled, or only what is required), and for each
 * required field and each enum inside that value, a copy without the field or with
 * a value the enum does not list. Deterministic: the same schema gives the same value.
 */
import { deref } from './models.ts';

type Schema = Record<string, unknown>;
export type JsonPath = (string | number)[];

export interface SampleOptions {
  /** Fill every property (true) or only the required ones (false). */
  full: boolean;
  /** Properties never filled (names whose values only the server can issue, such as nextToken). */
  skip?: (name: string, path: JsonPath) => boolean;
  /** A value for a place, instead of one drawn from the schema (ids, dates the server must know). */
  seed?: (path: JsonPath, schema: Schema) => unknown;
  /** "Today", for date formats. */
  today?: string;
  /** Which branch of an anyOf/oneOf to take, by path ("filters.0"); the first non-null one otherwise. */
  branches?: Record<string, number>;
  /** Told of every anyOf/oneOf met, with its path and how many non-null branches it has. */
  onBranch?: (path: string, count: number) => void;
}

/** The non-null branches of a schema's anyOf/oneOf (empty when it has none). */
function branchesOf(doc: unknown, schema: Schema): unknown[] {
  const all = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (!Array.isArray(all)) return [];
  const nonNull = all.filter((b) => deref<Schema>(doc, b).type !== 'null');
  return nonNull.length > 0 ? nonNull : all;
}

const pathKey = (path: JsonPath) => path.join('.');

const MAX_DEPTH = 12;

/** A value the schema accepts (as far as a schema alone can tell). */
export function sampleOf(doc: unknown, node: unknown, opts: SampleOptions, path: JsonPath = []): unknown {
  const schema = deref<Schema>(doc, node);
  const seeded = opts.seed?.(path, schema);
  if (seeded !== undefined) return seeded;
  if (path.length > MAX_DEPTH) return undefined;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum.find((e) => e !== null) ?? null;
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((s) => sampleOf(doc, s, opts, path));
    const objects = parts.filter((p) => p && typeof p === 'object' && !Array.isArray(p)) as Record<string, unknown>[];
    if (objects.length === parts.length && objects.length > 0) return Object.assign({}, ...objects);
    return parts.find((p) => p !== undefined);
  }
  const branches = branchesOf(doc, schema);
  if (branches.length > 0) {
    opts.onBranch?.(pathKey(path), branches.length);
    return sampleOf(doc, branches[opts.branches?.[pathKey(path)] ?? 0] ?? branches[0], opts, path);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object' || (type === undefined && schema.properties)) {
    const out: Record<string, unknown> = {};
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((schema.properties as Record<string, unknown> | undefined) ?? {})) {
      // A seeded optional property is one the server needs after all (a destination, say): always filled.
      if (!opts.full && !required.has(name) && opts.seed?.([...path, name], deref<Schema>(doc, prop)) === undefined)
        continue;
      if (!required.has(name) && opts.skip?.(name, [...path, name])) continue;
      const ps = deref<Schema>(doc, prop);
      if (ps.readOnly === true) continue;
      const v = sampleOf(doc, prop, opts, [...path, name]);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
  if (type === 'array') {
    const min = Number(schema.minItems ?? 0);
    const n = Math.max(min, opts.full ? 1 : 0);
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = sampleOf(doc, schema.items ?? {}, opts, [...path, i]);
      if (v !== undefined) items.push(v);
    }
    return items;
  }
  if (type === 'integer' || type === 'number') {
    let n = typeof schema.minimum === 'number' ? schema.minimum : 1;
    if (typeof schema.exclusiveMinimum === 'number' && n <= schema.exclusiveMinimum) n = schema.exclusiveMinimum + 1;
    if (typeof schema.maximum === 'number' && n > schema.maximum) n = schema.maximum;
    return type === 'integer' ? Math.ceil(n) : n;
  }
  if (type === 'boolean') return true;
  if (type === 'string' || type === undefined) {
    if (typeof schema.example === 'string' && !schema.pattern) return fit(schema, schema.example);
    const today = opts.today ?? new Date().toISOString().slice(0, 10);
    if (schema.format === 'date') return today;
    if (schema.format === 'date-time') return `${today}T00:00:00Z`;
    if (typeof schema.example === 'string') return schema.example;
    return fit(schema, 'sample');
  }
  return undefined;
}

/** A string stretched or cut to the schema's length bounds. */
function fit(schema: Schema, s: string): string {
  const min = Number(schema.minLength ?? 0);
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  let out = s;
  while (out.length < min) out += s;
  return out.slice(0, Math.max(min, Math.min(out.length, max)));
}

export interface Mutation {
  kind: 'required' | 'enum';
  path: JsonPath;
  /** A copy of the value with this one thing broken. */
  value: unknown;
  /** What was done, for a report line: "without configuration.reportTypeId". */
  describe: string;
}

export const UNDOCUMENTED = 'NOT_A_DOCUMENTED_VALUE';

/**
 * Every variant of a generated value: the default, and one per other branch of each
 * anyOf/oneOf the default meets (so an SB target list is tried with each filter type).
 */
export function sampleVariantsOf(
  doc: unknown,
  node: unknown,
  opts: SampleOptions,
): { value: unknown; branches: Record<string, number>; label: string }[] {
  const points: [string, number][] = [];
  const base = sampleOf(doc, node, { ...opts, onBranch: (p, n) => points.push([p, n]) });
  const out = [{ value: base, branches: {}, label: '' }];
  for (const [p, n] of points)
    for (let k = 1; k < n; k++) {
      const branches = { [p]: k };
      out.push({
        value: sampleOf(doc, node, { ...opts, branches }),
        branches,
        label: `${p || 'the body'} as branch ${k + 1}`,
      });
    }
  return out;
}

/**
 * For a value the schema accepts: a copy without each required property it carries,
 * and a copy with each enum it carries set to a value outside the enum. `branches` names
 * the anyOf/oneOf branch the value was drawn from, as for sampleOf.
 */
export function mutationsOf(
  doc: unknown,
  node: unknown,
  value: unknown,
  branches: Record<string, number> = {},
): Mutation[] {
  const out: Mutation[] = [];
  const label = (p: JsonPath) =>
    p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || 'the body';
  const walk = (n: unknown, v: unknown, path: JsonPath, depth: number) => {
    if (depth > MAX_DEPTH) return;
    const schema = deref<Schema>(doc, n);
    if (Array.isArray(schema.enum) && v !== undefined) {
      const bad = typeof v === 'number' ? 987654321 : UNDOCUMENTED;
      if (!schema.enum.includes(bad))
        out.push({
          kind: 'enum',
          path,
          value: setAt(value, path, bad),
          describe: `${label(path)} = ${JSON.stringify(bad)}`,
        });
    }
    for (const part of (schema.allOf as unknown[] | undefined) ?? []) walk(part, v, path, depth + 1);
    const options = branchesOf(doc, schema);
    if (options.length > 0) walk(options[branches[pathKey(path)] ?? 0] ?? options[0], v, path, depth + 1);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const props = (schema.properties as Record<string, unknown> | undefined) ?? {};
      for (const [name, child] of Object.entries(v)) {
        if (required.has(name))
          out.push({
            kind: 'required',
            path: [...path, name],
            value: deleteAt(value, [...path, name]),
            describe: `without ${label([...path, name])}`,
          });
        if (props[name]) walk(props[name], child, [...path, name], depth + 1);
      }
    }
    if (Array.isArray(v) && v.length > 0 && schema.items) walk(schema.items, v[0], [...path, 0], depth + 1);
  };
  walk(node, value, [], 0);
  return out;
}

function setAt(root: unknown, path: JsonPath, v: unknown): unknown {
  if (path.length === 0) return v;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let n = copy;
  for (const k of path.slice(0, -1)) n = n[k] as Record<string | number, unknown>;
  n[path[path.length - 1]!] = v;
  return copy;
}

function deleteAt(root: unknown, path: JsonPath): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let n = copy;
  for (const k of path.slice(0, -1)) n = n[k] as Record<string | number, unknown>;
  delete n[path[path.length - 1]!];
  return copy;
}
