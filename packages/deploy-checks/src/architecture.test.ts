// The layout rules the code keeps, checked on every run so they stay true:
// services share code only through packages/, claim work only through the queue
// primitive, start only through the service runtime, and keep no network call in a transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const services = readdirSync(join(root, 'services')).filter((d) => statSync(join(root, 'services', d)).isDirectory());

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|sql)$/.test(e.name)) out.push(p);
  }
  return out;
}

const everything = [
  ...sources(join(root, 'packages')),
  ...sources(join(root, 'services')),
  ...sources(join(root, 'scripts')),
  ...sources(join(root, 'bench')),
];
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

test("no service imports another service's code, tests included", () => {
  const offences: string[] = [];
  for (const s of services) {
    for (const file of sources(join(root, 'services', s))) {
      for (const spec of importsOf(file)) {
        const other = services.find((o) => o !== s && (spec === `@adsync/${o}` || spec.startsWith(`@adsync/${o}/`)));
        if (other) offences.push(`${relative(root, file)} imports ${spec}`);
        if (spec.startsWith('.')) {
          const target = relative(join(root, 'services', s), resolve(dirname(file), spec));
          if (target.startsWith('..')) offences.push(`${relative(root, file)} reaches outside its service: ${spec}`);
        }
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, 'services', s, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (services.some((o) => dep === `@adsync/${o}`)) offences.push(`services/${s}/package.json depends on ${dep}`);
    }
  }
  assert.deepEqual(offences, []);
});

test('packages never import a service (what two services need lives in packages/)', () => {
  const offences: string[] = [];
  for (const file of sources(join(root, 'packages'))) {
    // Cross-service tests (e2e, deploy checks) are the exception: they exercise services together.
    if (/packages\/(e2e|deploy-checks)\//.test(file)) continue;
    for (const spec of importsOf(file))
      if (services.some((o) => spec === `@adsync/${o}` || spec.startsWith(`@adsync/${o}/`)))
        offences.push(`${relative(root, file)} imports ${spec}`);
  }
  assert.deepEqual(offences, []);
});

test('FOR UPDATE SKIP LOCKED appears only in the work-queue primitive', () => {
  const found = everything
    .filter((f) => !f.endsWith('architecture.test.ts') && /for\s+update\s+skip\s+locked/i.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f));
  assert.deepEqual(found, ['packages/shared/src/runtime/work-queue.ts']);
});

test('every service starts through the shared runtime, and its main.ts reads as a short list of what it runs', () => {
  for (const s of services) {
    const main = readFileSync(join(root, 'services', s, 'src', 'main.ts'), 'utf8');
    assert.match(main, /await runService\(\{/, `${s}/main.ts uses runService`);
    assert.ok(main.split('\n').length <= 50, `${s}/main.ts has ${main.split('\n').length} lines`);
    assert.doesNotMatch(main, /process\.on\('SIG/, `${s}/main.ts leaves signals to the runtime`);
    assert.doesNotMatch(main, /setInterval|setTimeout/, `${s}/main.ts leaves timers to the loop primitive`);
  }
  for (const s of services) {
    let cli: string;
    try {
      cli = readFileSync(join(root, 'services', s, 'src', 'cli.ts'), 'utf8');
    } catch {
      continue;
    }
    assert.match(cli, /runTask\(/, `${s}/cli.ts uses runTask`);
  }
});

test('no Amazon or supplier call is made inside a database transaction', () => {
  // A transaction callback's body, up to its closing `});`, must not touch a client that goes over the network.
  const offences: string[] = [];
  let seen = 0;
  for (const file of everything.filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/sandbox/'),
  )) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.transaction\(async \((\w+)\) => \{([\s\S]*?)\n\s*\}\);/g)) {
      seen++;
      // Our own ClickHouse is allowed: a supplier batch writes its history there before its
      // Postgres transaction commits, so a batch is whole or not at all (run-job.ts). Amazon
      // and suppliers are not: they are slow, rate-limited and can hang for minutes.
      const body = m[2]!.replace(/\bch\.client\./g, '');
      if (/\b(client\.|clients\.|fetch\(|request\(|forAccount\(|callJson\(|createExecution\(|download\()/.test(body))
        offences.push(`${relative(root, file)}: ${m[2]!.trim().split('\n')[0]}`);
    }
  }
  assert.ok(seen >= 8, `the check read the transactions (${seen})`);
  assert.deepEqual(offences, []);
});
