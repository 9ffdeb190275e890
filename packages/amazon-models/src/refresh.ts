#!/usr/bin/env node
/**
 * Refreshes the models from a folder of Amazon's downloads (or another copy of them)
 * and holds them to their recorded hashes.
 *
 *   node packages/amazon-models/src/refresh.ts                 # are models/ as recorded?
 *   node packages/amazon-models/src/refresh.ts <folder>        # what differs in <folder>?
 *   node packages/amazon-models/src/refresh.ts <folder> --accept --from <owner/repo>@<commit> --date <YYYY-MM-DD> [--path <dir>/]
 *       # take what differs, recording the new hashes and where the files came from (each file's
 *       # path in that repository is <dir>/<file>, specs/ by default); models/README.md's table follows
 *
 * A model that changed is listed with the operations it gained and lost, so a refresh is
 * reviewed before it is accepted; after --accept, `pnpm run build` regenerates the types
 * and the conformance test (packages/sandbox/src/model-conformance.test.ts) says what the
 * sandbox must change. Exit code 1 when something differs and was not accepted.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST, MODELS_DIR, modelsOffTheirHashes, parseModel, provenanceTable, sha256 } from './models.ts';

const args = process.argv.slice(2);
const accept = args.includes('--accept');
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const folder = args.find((a, i) => !a.startsWith('--') && !['--from', '--date', '--path'].includes(args[i - 1] ?? ''));
const from = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(option('--from') ?? '');
const date = option('--date');
if (accept && (!from || !date || !/^\d{4}-\d{2}-\d{2}$/.test(date))) {
  console.error(
    '--accept needs --from <owner/repo>@<40-hex commit> and --date <YYYY-MM-DD>: a model is kept with where it came from',
  );
  process.exit(2);
}

const operationsOf = (file: string, bytes: Uint8Array) => {
  const doc = parseModel(file, bytes);
  return new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object)
        .filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
};

if (!folder) {
  const off = modelsOffTheirHashes();
  for (const o of off)
    console.error(`models/${o.file}: sha256 ${o.actual.slice(0, 16)}, recorded ${o.expected.slice(0, 16)}`);
  console.log(
    off.length ? `${off.length} model(s) differ from models/manifest.json` : `${MANIFEST.length} models as recorded`,
  );
  process.exit(off.length ? 1 : 0);
}

const manifestUrl = new URL('manifest.json', MODELS_DIR);
const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { models: typeof MANIFEST };
let changed = 0;
for (const m of manifest.models) {
  const source = join(resolve(folder), m.file);
  if (!existsSync(source)) {
    console.log(`${m.file}: not in ${folder}`);
    continue;
  }
  const bytes = readFileSync(source);
  const hash = sha256(bytes);
  if (hash === m.sha256) {
    console.log(`${m.file}: unchanged`);
    continue;
  }
  changed++;
  const before = operationsOf(m.file, readFileSync(new URL(m.file, MODELS_DIR)));
  const after = operationsOf(m.file, bytes);
  const gained = [...after].filter((o) => !before.has(o));
  const lost = [...before].filter((o) => !after.has(o));
  console.log(`${m.file}: changed (sha256 ${hash.slice(0, 16)}, was ${m.sha256.slice(0, 16)})`);
  for (const o of gained) console.log(`  + ${o}`);
  for (const o of lost) console.log(`  - ${o}`);
  if (accept) {
    copyFileSync(source, new URL(m.file, MODELS_DIR));
    m.sha256 = hash;
    m.source = {
      repository: from![1]!,
      commit: from![2]!,
      path: `${option('--path') ?? 'specs/'}${m.file}`,
      commitDate: date!,
    };
  }
}
if (accept && changed) {
  writeFileSync(manifestUrl, JSON.stringify(manifest, null, 2) + '\n');
  const readmeUrl = new URL('README.md', MODELS_DIR);
  const readme = readFileSync(readmeUrl, 'utf8');
  const start = readme.indexOf('| file |');
  const end = readme.indexOf('\n\n', start);
  writeFileSync(readmeUrl, readme.slice(0, start) + provenanceTable(manifest.models) + readme.slice(end));
  console.log(`took ${changed} model(s); run \`pnpm run build\` to regenerate the types, then the tests`);
} else if (changed) {
  console.log(`${changed} model(s) differ; run again with --accept to take them`);
  process.exit(1);
}
