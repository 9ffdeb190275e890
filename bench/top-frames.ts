/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`), by self time and by total
 * time, with idle and GC shown as their own lines, so a closing note can say where
 * a path's time goes.
 *
 *   node bench/top-frames.ts <file.cpuprofile|dir> [count]
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

export function topFrames(profile: Profile, count = 15) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = profile.endTime - profile.startTime;
  const label = (n: Node) => {
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|packages|services)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
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
    seconds: +(total / 1e6).toFixed(2),
    idle: pct(self.get('(idle)') ?? 0),
    gc: pct(self.get('(garbage collector)') ?? 0),
    bySelf: top(new Map([...self].filter(([k]) => k !== '(idle)'))),
    byTotal: top(new Map([...inclusive].filter(([k]) => !skip.has(k)))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) throw new Error('usage: node bench/top-frames.ts <file.cpuprofile|dir> [count]');
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  for (const f of files) {
    const r = topFrames(JSON.parse(readFileSync(f, 'utf8')) as Profile, Number(process.argv[3] ?? 15));
    console.log(`\n${basename(f)}: ${r.seconds} s sampled, idle ${r.idle}, GC ${r.gc}`);
    console.log('by self time');
    console.table(r.bySelf);
    console.log('by total time');
    console.table(r.byTotal);
  }
}
