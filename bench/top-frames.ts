/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`), by self time and by total
 * time, with idle and GC shown as their own lines, so a closing note can say where
 * a path's time goes. With a window of the monotonic clock in microseconds (bench/lean-job.ts prints
 * its job's and its idle time's), only the samples inside it count; each profile is named by the
 * service whose main.ts it ran, and its time is also summed by package or source folder.
 *
 *   node bench/top-frames.ts <file.cpuprofile|dir> [count] [fromMicros toMicros]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a package (with its version) or a folder of ours. */
const placeOf = (url: string) =>
  url
    .replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1')
    .replace(/.*?\/(services|packages|bench)\//, '$1/')
    .replace(/\/[^/]*$/, '');

export function topFrames(profile: Profile, count = 15, window?: [number, number]) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window[0] || at > window[1])) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = window
    ? Math.min(window[1], profile.endTime) - Math.max(window[0], profile.startTime)
    : profile.endTime - profile.startTime;
  const service =
    profile.nodes.map((n) => /services\/([^/]+)\/src\/main\.ts/.exec(n.callFrame.url)?.[1]).find(Boolean) ?? null;
  const label = (n: Node) => {
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|packages|services)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const place = placeOf(n.callFrame.url) || n.callFrame.functionName;
    places.set(place, (places.get(place) ?? 0) + us);
    // Each label counts once per sample path, so recursion does not double it.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([frame, us]) => ({ frame: frame.slice(0, 110), ms: Math.round(us / 1000), share: pct(us) }));
  const skip = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);
  return {
    service,
    seconds: +(total / 1e6).toFixed(2),
    busySeconds: +([...self].filter(([k]) => k !== '(idle)').reduce((a, [, us]) => a + us, 0) / 1e6).toFixed(3),
    idle: pct(self.get('(idle)') ?? 0),
    gc: pct(self.get('(garbage collector)') ?? 0),
    bySelf: top(new Map([...self].filter(([k]) => k !== '(idle)'))),
    byTotal: top(new Map([...inclusive].filter(([k]) => !skip.has(k)))),
    byPlace: top(new Map([...places].filter(([k]) => k !== '(idle)'))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) throw new Error('usage: node bench/top-frames.ts <file.cpuprofile|dir> [count] [fromMicros toMicros]');
  const [from, to] = [process.argv[4], process.argv[5]].map(Number);
  const window: [number, number] | undefined = from && to ? [from, to] : undefined;
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  for (const f of files) {
    const r = topFrames(JSON.parse(readFileSync(f, 'utf8')) as Profile, Number(process.argv[3] ?? 15), window);
    console.log(
      `\n${r.service ?? basename(f)}: ${r.seconds} s sampled, ${r.busySeconds} s busy, idle ${r.idle}, GC ${r.gc}`,
    );
    console.log('by package or folder');
    console.table(r.byPlace);
    console.log('by self time');
    console.table(r.bySelf);
    console.log('by total time');
    console.table(r.byTotal);
  }
}
