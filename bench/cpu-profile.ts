/**
 * Reads the V8 CPU profiles of a bench run (NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR") and prints, per
 * service, where its busy time went inside one window of the monotonic clock (what bench/lean-job.ts
 * prints as "monotonic windows"): by package or source folder, and the top functions by self time.
 *
 *   node bench/cpu-profile.ts DIR [fromMicros toMicros] [topN]
 */
import { readdirSync, readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [dir, fromArg, toArg, topArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/cpu-profile.ts DIR [fromMicros toMicros] [topN]');
const from = fromArg ? Number(fromArg) : -Infinity;
const to = toArg ? Number(toArg) : Infinity;
const top = Number(topArg ?? 20);

/** Where a frame's code lives: a package (with its version) or a folder of ours. */
const placeOf = (url: string) =>
  url.replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*?\/(services|packages|bench)\//, '$1/');

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const owner =
    p.nodes.map((n) => /services\/([^/]+)\/src\/main\.ts/.exec(n.callFrame.url)?.[1]).find(Boolean) ?? 'other';
  const self = new Map<string, number>();
  const places = new Map<string, number>();
  let t = p.startTime;
  let busy = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) return;
    const f = frames.get(id)!;
    if (f.functionName === '(idle)') return;
    busy += dt;
    const place = placeOf(f.url);
    add(self, `${f.functionName || '(anonymous)'} ${place}:${f.lineNumber + 1}`, dt);
    add(places, place.replace(/\/[^/]*$/, '') || f.functionName, dt);
  });
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`\n=== ${owner} (${file}): busy ${(busy / 1e6).toFixed(3)} s in the window`);
  for (const [k, v] of [...places].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${ms(v)}  ${k}`);
  console.log('  -- self time');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)}  ${k}`);
}
