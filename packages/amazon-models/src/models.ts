/**
 * Amazon's OpenAPI models of the Ads API, as the files were taken (models/, with
 * their provenance in models/manifest.json and models/README.md). Parsed once per
 * process; YAML and JSON alike come back as plain objects.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

export const MODELS_DIR = new URL('../models/', import.meta.url);

export interface ManifestEntry {
  /** Our short name of the model (used in operation keys and generated type files). */
  name: ModelName;
  file: string;
  title: string;
  version: string;
  /** Where the bytes were taken: a public repository's commit that holds the file as it is here. */
  source: { repository: string; commit: string; path: string; commitDate: string };
  sha256: string;
}

/** The provenance table of models/README.md, as the manifest gives it (a test holds the README to it). */
export function provenanceTable(models: readonly ManifestEntry[] = MANIFEST): string {
  return [
    '| file | name here | title | version | taken from (repository, commit, path, date of commit) | sha256 (first 16) |',
    '|---|---|---|---|---|---|',
    ...models.map(
      (m) =>
        `| \`${m.file}\` | ${m.name} | ${m.title} | ${m.version} | ${m.source.repository}@${m.source.commit.slice(0, 12)} \`${m.source.path}\`, ${m.source.commitDate} | \`${m.sha256.slice(0, 16)}\` |`,
    ),
  ].join('\n');
}

export type ModelName =
  | 'SponsoredProducts'
  | 'OfflineReport'
  | 'Profiles'
  | 'Exports'
  | 'MarketingStream'
  | 'Portfolios'
  | 'SponsoredBrandsV4'
  | 'SponsoredBrandsV3'
  | 'SponsoredDisplay'
  | 'DspAdvertisers'
  | 'ManagerAccounts'
  | 'AdsApiV1'
  | 'Attribution';

export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
} & Record<string, unknown>;

export const MANIFEST: ManifestEntry[] = (
  JSON.parse(readFileSync(new URL('manifest.json', MODELS_DIR), 'utf8')) as { models: ManifestEntry[] }
).models;

export const MODEL_NAMES = MANIFEST.map((m) => m.name);

export function manifestEntry(name: ModelName): ManifestEntry {
  const m = MANIFEST.find((x) => x.name === name);
  if (!m) throw new Error(`no Amazon model named ${name}`);
  return m;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * A model's text. One of the files (SB v3) carries a few cp1252 bytes in prose; they
 * are read as U+FFFD, which touches no name, type or enum.
 */
export function parseModel(file: string, bytes: Uint8Array): OpenApiDocument {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as OpenApiDocument;
}

const cache = new Map<ModelName, OpenApiDocument>();

/** The parsed model (shared: treat it as read-only). */
export function modelDocument(name: ModelName): OpenApiDocument {
  let doc = cache.get(name);
  if (!doc) {
    const m = manifestEntry(name);
    doc = parseModel(m.file, readFileSync(new URL(m.file, MODELS_DIR)));
    cache.set(name, doc);
  }
  return doc;
}

/** Files whose bytes differ from the manifest's hash (empty when every model is as taken). */
export function modelsOffTheirHashes(): { file: string; expected: string; actual: string }[] {
  return MANIFEST.flatMap((m) => {
    const actual = sha256(readFileSync(new URL(m.file, MODELS_DIR)));
    return actual === m.sha256 ? [] : [{ file: m.file, expected: m.sha256, actual }];
  });
}

/** Resolves a local JSON pointer ("#/components/schemas/X") inside a document. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '#' || pointer === '') return doc;
  let node = doc;
  for (const raw of pointer.replace(/^#\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in (node as object)))
      throw new Error(`no ${pointer} in the model (stopped at ${key})`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows $ref until a node that is not a reference (local references only, as in every model here). */
export function deref<T = Record<string, unknown>>(doc: unknown, node: unknown): T {
  let n = node;
  for (let i = 0; i < 32 && n && typeof n === 'object' && '$ref' in n; i++)
    n = resolvePointer(doc, String((n as { $ref: string }).$ref));
  return n as T;
}

/** "/paths/~1sp~1campaigns~1list/post" from its parts (RFC 6901 escaping). */
export const pointerOf = (...parts: string[]) =>
  '#' + parts.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
