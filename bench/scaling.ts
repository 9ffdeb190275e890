/**
 * How adsync's cost grows with accounts: the whole main job (profiles → entities → reports →
 * ClickHouse) at 1, 10 and 100 profiles of the same shape, against the sandbox with no simulated
 * delay, the six services as their own processes (chaos's World). Per size: wall time of each
 * step, rows/s, every service's peak RSS (VmHWM), Postgres and ClickHouse sizes, and the
 * exponent of growth (time ∝ profiles^k: k≈1 is linear). The sandbox runs inside this process;
 * its CPU is reported separately, since it shares the machine.
 *
 *   node bench/scaling.ts [1,10,100]      (needs `deploy/local/stack up`)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { World } from '@adsync/chaos/world';

const SIZES = (process.argv[2] ?? '1,10,100').split(',').map(Number);
const SHAPE = { campaignsPerProfile: 4, adGroupsPerCampaign: 2, keywordsPerAdGroup: 6, searchTermsPerKeyword: 2 };

const peakRssMB = (pid: number | null) => {
  if (!pid) return null;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
};

interface Result {
  profiles: number;
  profilesSec: number;
  entitiesSec: number;
  reportsSec: number;
  totalSec: number;
  entities: number;
  reports: number;
  metricRows: number;
  rowsPerSec: number;
  pgMB: number;
  chMB: number;
  sandboxCpuSec: number;
  rssMB: Record<string, number | null>;
}

async function run(profiles: number): Promise<Result> {
  const world = await World.create({
    name: `scale${profiles}`,
    seed: 99,
    scale: { profiles, ...SHAPE },
    reportGenerationMs: 0,
    latencyMs: 0,
    supplierProducts: 1,
    // The job's own pace, not the demo's: wide poll batches, every report polled as soon as it may be.
    env: {
      POLL_MIN_SPACING_MS: '200',
      POLL_MAX_REPORTS: '500',
      ENTITY_SYNC_EXPORT_POLL_MS: '50',
    },
  });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const accountId = await world.connectedAccount('Scale');
    const { runId } = await world.api<{ runId: string }>(
      'entity-sync',
      'POST',
      `/v1/ingestion/sync-account/${accountId}`,
    );
    const at: Record<string, number> = {};
    for (;;) {
      const r = await world.api<{ status: string; stages: Record<string, { status: string }> }>(
        'entity-sync',
        'GET',
        `/v1/ingestion/runs/${runId}`,
      );
      for (const s of ['profiles', 'entities', 'reports'])
        if (r.stages[s]?.status === 'done' && !at[s]) at[s] = Date.now();
      if (['succeeded', 'partial', 'failed'].includes(r.status)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const db = world.pg.db;
    for (;;) {
      const open = await db('pending_amazon_reports')
        .whereNotIn('status', ['loaded', 'failed'])
        .count<{ c: string }[]>('* as c');
      if (Number(open[0]!.c) === 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const done = Date.now();
    const cpu = process.cpuUsage(cpu0);
    const reports = Number((await db('pending_amazon_reports').count<{ c: string }[]>('* as c'))[0]!.c);
    const entities = (
      await Promise.all(
        ['entity_campaigns', 'entity_ad_groups', 'entity_ads', 'entity_targets'].map(async (t) =>
          Number((await db(t).count<{ c: string }[]>('* as c'))[0]!.c),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    const ch = world.ch.ch;
    const q = async (query: string) =>
      (await (await ch.client.query({ query, format: 'JSONEachRow' })).json<Record<string, string>>())[0]!;
    const metricRows = Number((await q('SELECT count() AS n FROM ads_metrics_daily FINAL')).n);
    const chBytes = Number(
      (await q(`SELECT sum(bytes) AS b FROM system.parts WHERE database = '${ch.database}' AND active`)).b,
    );
    const pgBytes = Number((await db.raw('select pg_database_size(current_database()) as b')).rows[0].b);
    const rssMB = Object.fromEntries(Object.entries(world.services).map(([n, s]) => [n, peakRssMB(s.pid)]));
    return {
      profiles,
      profilesSec: +((at.profiles! - t0) / 1000).toFixed(1),
      entitiesSec: +((at.entities! - at.profiles!) / 1000).toFixed(1),
      reportsSec: +((done - at.entities!) / 1000).toFixed(1),
      totalSec: +((done - t0) / 1000).toFixed(1),
      entities,
      reports,
      metricRows,
      rowsPerSec: Math.round(metricRows / ((done - at.entities!) / 1000)),
      pgMB: Math.round(pgBytes / 1e6),
      chMB: Math.round(chBytes / 1e6),
      sandboxCpuSec: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      rssMB,
    };
  } finally {
    await world.close();
  }
}

const results: Result[] = [];
for (const n of SIZES) {
  console.error(`running the main job at ${n} profile(s)…`);
  results.push(await run(n));
}
console.table(
  results.map(({ rssMB, ...r }) => ({
    ...r,
    peakRssMB: Object.values(rssMB)
      .map((v) => v ?? '-')
      .join('/'),
  })),
);
console.log(`peak RSS per service, in order: ${Object.keys(results[0]!.rssMB).join(', ')}`);
const first = results[0]!;
for (const r of results.slice(1)) {
  const k = (a: number, b: number) => +(Math.log(b / a) / Math.log(r.profiles / first.profiles)).toFixed(2);
  console.log(
    `${first.profiles} → ${r.profiles} profiles: time ∝ profiles^${k(first.totalSec, r.totalSec)}, rows ∝ profiles^${k(first.metricRows, r.metricRows)}, ` +
      `largest service RSS ∝ profiles^${k(Math.max(...Object.values(first.rssMB).map(Number)), Math.max(...Object.values(r.rssMB).map(Number)))}`,
  );
}
writeFileSync(join(tmpdir(), 'adsync-bench-scaling.json'), JSON.stringify(results, null, 2));
process.exit(0);
