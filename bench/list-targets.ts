/**
 * Lists up to 200,000 SP targets (keywords + product targets) of one sandbox
 * profile through the Amazon Ads client, and reports entities/s and peak heap at
 * 50k, 100k and 200k. In the same run, the raw limit: the same pages fetched with
 * bare undici + JSON.parse (no auth, pacing, retries or iterators), so the ratio
 * is meaningful on a noisy machine. The sandbox runs in its own process so its
 * memory is not counted.
 *
 *   node --expose-gc bench/list-targets.ts
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { listEntities, type EntityKind } from '@adsync/shared/amazon/entities';
import { createLogger } from '@adsync/shared/logger';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';

const PORT = 18990;
const scale = {
  profiles: 1,
  campaignsPerProfile: 100,
  adGroupsPerCampaign: 20,
  keywordsPerAdGroup: 80,
  productTargetsPerAdGroup: 20,
  adsPerAdGroup: 1,
};
const child = spawn(process.execPath, ['packages/sandbox/src/main.ts'], {
  env: { ...process.env, SANDBOX_PORT: String(PORT), SANDBOX_SCALE: JSON.stringify(scale) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('listening') && resolve()));
const base = `http://127.0.0.1:${PORT}`;
const profileId = '1000000000000';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
/** Heap still live after a full GC, sampled every 25k entities: what the listing actually retains. */
let retainedPeak = 0;
const checkpoint = (n: number) => {
  if (n % 25_000 !== 0) return;
  gc();
  retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
};

async function measure(label: string, limit: number, run: (limit: number) => Promise<number>) {
  gc();
  const before = process.memoryUsage().heapUsed;
  retainedPeak = before;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  const t0 = performance.now();
  const n = await run(limit);
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return {
    label,
    n,
    ms: Math.round(ms),
    perSec: Math.round(n / (ms / 1000)),
    peakHeapGrowthMb: mb(peak - before),
    retainedGrowthMb: mb(retainedPeak - before),
  };
}

const client = new AmazonAdsClient({
  region: 'NA',
  baseUrl: base,
  credentials: {
    clientId: SANDBOX_CLIENT_ID,
    clientSecret: SANDBOX_CLIENT_SECRET,
    refreshToken: SANDBOX_REFRESH_TOKEN,
  },
  log: createLogger({ name: 'bench', level: 'error', pretty: false }),
  rateLimit: { ratePerSec: 1000, burst: 1000, concurrency: 4 },
});

async function viaClient(limit: number): Promise<number> {
  let n = 0;
  for (const kind of ['spKeywords', 'spProductTargets'] as EntityKind[]) {
    for await (const e of listEntities(client, profileId, kind)) {
      void e;
      checkpoint(++n);
      if (n >= limit) return n;
    }
  }
  return n;
}

async function raw(limit: number): Promise<number> {
  const tok = (await (
    await fetch(`${base}/auth/o2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: SANDBOX_REFRESH_TOKEN,
        client_id: SANDBOX_CLIENT_ID,
        client_secret: SANDBOX_CLIENT_SECRET,
      }),
    })
  ).json()) as { access_token: string };
  let n = 0;
  for (const [path, mt, key] of [
    ['/sp/keywords/list', 'application/vnd.spKeyword.v3+json', 'keywords'],
    ['/sp/targets/list', 'application/vnd.spTargetingClause.v3+json', 'targetingClauses'],
  ] as const) {
    let next: string | undefined;
    do {
      const res = await request(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tok.access_token}`,
          'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
          'amazon-advertising-api-scope': profileId,
          'content-type': mt,
        },
        body: JSON.stringify({ maxResults: 5000, includeExtendedDataFields: true, nextToken: next }),
      });
      const body = (await res.body.json()) as Record<string, unknown>;
      const before = n;
      n += (body[key] as unknown[]).length;
      if (Math.floor(n / 25_000) > Math.floor(before / 25_000)) checkpoint(25_000);
      if (n >= limit) return limit;
      next = body.nextToken as string | undefined;
    } while (next);
  }
  return n;
}

const results = [];
await raw(10_000); // warm both paths
await viaClient(10_000);
for (const limit of [50_000, 100_000, 200_000]) {
  results.push(await measure(`raw undici ${limit}`, limit, raw));
  results.push(await measure(`client ${limit}`, limit, viaClient));
}
console.table(results);
const c200 = results.find((r) => r.label === 'client 200000')!;
const r200 = results.find((r) => r.label === 'raw undici 200000')!;
const c50 = results.find((r) => r.label === 'client 50000')!;
console.log(
  `client throughput at 200k: ${c200.perSec} entities/s = ${(c200.perSec / r200.perSec).toFixed(2)}× the raw limit`,
);
console.log(
  `client heap retained after GC: ${c50.retainedGrowthMb} MB at 50k → ${c200.retainedGrowthMb} MB at 200k (flat means streamed; peak incl. garbage ${c50.peakHeapGrowthMb} → ${c200.peakHeapGrowthMb} MB)`,
);
await client.close();
child.kill('SIGTERM');
