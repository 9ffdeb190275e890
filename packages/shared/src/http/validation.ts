/**
 * How every adsync API validates requests. Two Ajv instances: bodies are JSON and
 * mean exactly what they say (a number is not a company name, `true` is not a
 * string), while query strings and path parameters arrive as text and are coerced
 * to the types their schema declares. Formats are checked in full: `date` is a
 * real calendar day, `http-url` an http(s) URL with a host.
 *
 * A NUL character can never be stored (Postgres text refuses it) and never means
 * anything in our fields, so any string carrying one is refused up front.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

type AddFormats = (ajv: Ajv, opts?: { mode?: 'fast' | 'full' }) => Ajv;
// ajv-formats is CommonJS with a default export; under Node's ESM loader it may arrive wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

/** An http(s) URL a server could be reached at: `http://` alone, `ftp://x` or `https://` with no host are not. */
export function isHttpUrl(s: string): boolean {
  if (s.length > 2048) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

function makeAjv(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes, strict: false });
  addFormats(ajv, { mode: 'full' });
  ajv.addFormat('http-url', { type: 'string', validate: isHttpUrl });
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv('array');

/** Fastify's validator compiler: strict for bodies, coercing for everything that arrives as text. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema as object) as ValidateFunction;

/** Paths of every string under `value` that contains a NUL character ("body.name", "query.q"). */
/**
 * What a parsed body or query is made of. Anything else (a request stream a proxy passes on
 * untouched) is not walked: its object graph is large and cyclic, and walking it spun a core.
 */
const isPlainObject = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  // A parsed query's prototype is itself prototype-less (fast-querystring's).
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
};

export function nulPaths(value: unknown, path: string, out: string[] = [], depth = 0): string[] {
  if (depth > 32 || out.length >= 10) return out;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulPaths(v, `${path}[${i}]`, out, depth + 1));
  } else if (value && typeof value === 'object' && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) out.push(`${path} (a key)`);
      nulPaths(v, `${path}.${k}`, out, depth + 1);
    }
  }
  return out;
}
