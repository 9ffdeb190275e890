// No import circle in the sandbox: each feature's records live in a state module of its own
// (amazon/reporting-state.ts, amc-state.ts, export-state.ts, stream-state.ts) that state.ts
// composes, so the routes, which import state.ts, are never imported back by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('.', import.meta.url));

/** Every circle a depth-first walk meets, as "a -> b -> a"; none when the graph has no circle. */
function circlesIn(graph: Map<string, string[]>): string[] {
  const circles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string) => {
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (path.includes(next)) circles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node);
  return circles;
}

test('the walk finds a circle where there is one', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', []],
  ]);
  assert.deepEqual(circlesIn(graph), ['a -> b -> c -> a']);
  assert.deepEqual(circlesIn(new Map([...graph, ['c', ['d']]])), []);
});

test('no import circle among the sandbox modules (type-only imports included)', () => {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(src, f));
  const importsOf = (file: string) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) =>
      relative(src, resolve(dirname(file), m[1]!)),
    );
  const graph = new Map(files.map((f) => [relative(src, f), importsOf(f)]));
  assert.ok(graph.size > 30 && graph.get('state.ts')!.length > 0, 'the walk sees the sandbox and its imports');
  assert.deepEqual(circlesIn(graph), []);
});
