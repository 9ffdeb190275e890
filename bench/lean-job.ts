/**
 * Issue 30's job, measured as the issue states it: one profile (or more), four report types
 * (spCampaigns, spTargeting, spAdvertisedProduct, sdCampaigns), seven days, the sandbox with no
 * generation delay, the six services as their own processes (chaos's World). One run prints:
 *  - wall time until every row is queryable, and until the tail (report.loaded consumers, outbox) settled;
 *  - CPU-seconds per 1,000 rows of the services, and of Kafka, Postgres and ClickHouse apart, up to the settling;
 *  - both for the first job after the services start and go quiet (V8 still compiling the job's code) and for the
 *    same job over the week before, run next by the same, now warm, services;
 *  - idle CPU per service over IDLE_SECONDS (default 60) once the job is done, as a share of a
 *    core, and what Postgres did meanwhile: table scans (every polling query makes one; target 0)
 *    and transactions (autovacuum's included).
 * The loader against clickhouse-client on the same TabSeparated text is bench/report-pipeline.ts (a).
 *
 *   node bench/lean-job.ts [1,100]      (needs `deploy/local/stack up`)
 */
import { readFileSync } from 'node:fs';
import { World } from '@adsync/chaos/world';
import { consumerLag } from '@adsync/chaos/judge';
import { addDays } from '@adsync/shared/calendar';
import { cpuMeter, processesNamed } from './proc-cpu.ts';
import { LEAN_ACCOUNT } from './account-shapes.ts';

const SIZES = (process.argv[2] ?? '1').split(',').map(Number);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 60);
const REPORT_TYPES = ['spCampaigns', 'spTargeting', 'spAdvertisedProduct', 'sdCampaigns'];
const SHAPE = LEAN_ACCOUNT;

/** Processes whose command line matches (Kafka is one java among several). */
const processesMatching = (re: RegExp): number[] =>
  processesNamed('java').filter((pid) => {
    try {
      return re.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
const STACK: Record<string, () => number[]> = {
  kafka: () => processesMatching(/kafka\.Kafka/),
  postgres: () => processesNamed('postgres'),
  clickhouse: () => [...processesNamed('clickhouse-serv'), ...processesNamed('clickhouse')],
};

async function run(profiles: number) {
  const world = await World.create({
    name: `lean${profiles}`,
    seed: 30,
    scale: { profiles, ...SHAPE },
    reportGenerationMs: 0,
    latencyMs: 0,
    supplierProducts: 1,
    env: { POLL_MIN_SPACING_MS: '200', POLL_MAX_REPORTS: '500' },
  });
  try {
    const db = world.pg.db;
    const accountId = await world.connectedAccount('Lean');
    await world.api('entity-sync', 'POST', `/v1/accounts/${accountId}/profiles/sync`);
    const q = async (query: string) =>
      (await (await world.ch.ch.client.query({ query, format: 'JSONEachRow' })).json<Record<string, string>>())[0]!;

    /** The job over seven days ending `to`, measured until its tail settles. */
    const job = async (to: string) => {
      const services = Object.fromEntries(
        Object.entries(world.services).map(([n, s]) => [n, cpuMeter(() => (s.pid ? [s.pid] : []))]),
      );
      const stack = Object.fromEntries(Object.entries(STACK).map(([n, pids]) => [n, cpuMeter(pids)]));
      const t0 = Date.now();
      const mono0 = process.hrtime.bigint() / 1000n;
      const before = Number((await q('SELECT count() AS n FROM ads_metrics_daily FINAL')).n);
      const { runId } = await world.api<{ runId: string }>('report-requester', 'POST', '/v1/reports/backfill', {
        accountId,
        reportTypes: REPORT_TYPES,
        from: addDays(to, -6),
        to,
      });
      for (;;) {
        const [{ open, all }] = await db('pending_amazon_reports')
          .where({ run_id: runId })
          .select(
            db.raw(`count(*) filter (where status not in ('loaded', 'failed'))::int as open`),
            db.raw('count(*)::int as all'),
          );
        if (all > 0 && open === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const wallSec = (Date.now() - t0) / 1000;
      // The job's tail is its work too: report.loaded read by every consumer (recent metrics,
      // reconciliation), the outbox relayed. CPU is counted until all of it is done.
      for (;;) {
        const unrelayed = await db('event_outbox').whereNull('published_at').first('id');
        if (!unrelayed && (await consumerLag(world)).length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const settledSec = (Date.now() - t0) / 1000;
      const window = [mono0, process.hrtime.bigint() / 1000n];
      const servicesCpu = Object.fromEntries(Object.entries(services).map(([n, m]) => [n, m()]));
      const stackCpu = Object.fromEntries(Object.entries(stack).map(([n, m]) => [n, m()]));
      const rows = Number((await q('SELECT count() AS n FROM ads_metrics_daily FINAL')).n) - before;
      const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);
      const per1k = (cpu: number) => +((cpu / rows) * 1000).toFixed(3);
      return {
        window,
        rows,
        wallSec: +wallSec.toFixed(1),
        settledSec: +settledSec.toFixed(1),
        servicesCpuSec: +sum(servicesCpu).toFixed(2),
        servicesCpuPer1kRows: per1k(sum(servicesCpu)),
        stackCpuPer1kRows: Object.fromEntries(Object.entries(stackCpu).map(([n, c]) => [n, per1k(c)])),
        allCpuPer1kRows: per1k(sum(servicesCpu) + sum(stackCpu)),
        perService: Object.fromEntries(Object.entries(servicesCpu).map(([n, c]) => [n, +c.toFixed(2)])),
      };
    };
    // Started services still finish starting after /ready (consumer groups settle, first fetches,
    // code compiled for start-up): that is not the job's, so the first job waits for them to go quiet.
    const settleFrom = Date.now();
    const startup = Object.fromEntries(
      Object.entries(world.services).map(([n, s]) => [n, cpuMeter(() => (s.pid ? [s.pid] : []))]),
    );
    let quietSeconds = 0;
    while (quietSeconds < 2 && Date.now() - settleFrom < 30_000) {
      const second = Object.values(world.services).map((s) => cpuMeter(() => (s.pid ? [s.pid] : [])));
      await new Promise((r) => setTimeout(r, 1000));
      quietSeconds = second.every((m) => m() <= 0.02) ? quietSeconds + 1 : 0;
    }
    const startupTail = {
      quiet: quietSeconds >= 2,
      seconds: +((Date.now() - settleFrom) / 1000).toFixed(1),
      cpuSec: +Object.values(startup)
        .reduce((sum, m) => sum + m(), 0)
        .toFixed(2),
    };
    // Days that have ended in every time zone the sandbox's profiles use.
    const to = addDays(new Date().toISOString().slice(0, 10), -2);
    // The first job after the services start pays V8 compiling their code as it first runs; a
    // running fleet pays that once, so the week before is loaded too, by the same warm services.
    const first = await job(to);
    const warm = await job(addDays(to, -7));
    const failed = Number(
      (await db('pending_amazon_reports').where({ status: 'failed' }).count<{ c: string }[]>('* as c'))[0]!.c,
    );
    const mono1 = warm.window[1]!;

    // Idle: the job is done; nothing is due. Postgres's backends report their table statistics up
    // to 10 s after their last statement (PGSTAT_IDLE_INTERVAL), so the count starts after that.
    await new Promise((r) => setTimeout(r, 12_000));
    const idle = Object.fromEntries(
      Object.entries(world.services).map(([n, s]) => [n, cpuMeter(() => (s.pid ? [s.pid] : []))]),
    );
    const xacts = async () =>
      Number(
        (
          await db.raw(
            `select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`,
          )
        ).rows[0].n,
      );
    // Every query a loop makes scans a table (sequentially or by an index); autovacuum's and
    // analyze's transactions, which pg_stat_database counts too, scan none.
    const scans = async () =>
      new Map<string, number>(
        (
          await db.raw(`select relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as n from pg_stat_user_tables`)
        ).rows.map((r: { relname: string; n: string }) => [r.relname, Number(r.n)]),
      );
    const s0 = await scans();
    const x0 = await xacts();
    const idleFrom = new Date();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleShare = Object.fromEntries(
      Object.entries(idle).map(([n, m]) => [n, +((m() / IDLE_SECONDS) * 100).toFixed(2)]),
    );
    const idleXacts = (await xacts()) - x0 - 1;
    // Which tables were scanned, and what was written to the outbox meanwhile (a relay woken by a
    // new event is work, not polling): so a non-zero count says where to look.
    const s1 = await scans();
    const scannedTables = Object.fromEntries(
      [...s1].filter(([t, n]) => n !== (s0.get(t) ?? 0)).map(([t, n]) => [t, n - (s0.get(t) ?? 0)]),
    );
    const idleScans = Object.values(scannedTables).reduce((a, b) => a + b, 0);
    const idleEvents = (
      await db('event_outbox').where('created_at', '>=', idleFrom).select('topic', 'created_at').orderBy('id')
    ).map(
      (r: { topic: string; created_at: Date }) => `${r.topic} at +${Math.round((+r.created_at - +idleFrom) / 1000)} s`,
    );
    // With NODE_OPTIONS=--cpu-prof, node bench/top-frames.ts DIR 20 <from> <to> reads each service's profile over one of these windows.
    const windows = {
      firstJob: first.window,
      warmJob: warm.window,
      idle: [mono1 + 12_000_000n, process.hrtime.bigint() / 1000n],
    };
    console.error(
      `monotonic windows (µs): ${JSON.stringify(windows, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`,
    );

    const { window: _first, ...firstJob } = first;
    const { window: _warm, ...warmJob } = warm;
    return {
      profiles,
      failedReports: failed,
      startupTail,
      firstJob,
      warmJob,
      idlePercentOfCore: idleShare,
      idlePostgresTransactions: idleXacts,
      idleTableScans: idleScans,
      idleScansByTable: scannedTables,
      idleEventsWritten: idleEvents,
    };
  } finally {
    await world.close();
  }
}

for (const n of SIZES) {
  console.error(`running issue 30's job at ${n} profile(s)…`);
  const r = await run(n);
  console.log(JSON.stringify(r, null, 2));
  const said = (j: typeof r.firstJob) =>
    `${j.rows} rows queryable in ${j.wallSec} s (tail settled at ${j.settledSec} s); services ${j.servicesCpuPer1kRows} CPU-s per 1,000 rows ` +
    `(target ≤ 0.1), with Kafka/Postgres/ClickHouse ${j.allCpuPer1kRows} (target ≤ 0.2)`;
  console.log(
    `${n} profile(s), first job after start (${r.startupTail.quiet ? 'once the services went quiet' : 'the services never went quiet; started anyway'}, ${r.startupTail.seconds} s and ${r.startupTail.cpuSec} CPU-s after the account was set up): ${said(r.firstJob)}; the next job, on warm services: ${said(r.warmJob)}; idle % of a core per ` +
      `service: ${Object.entries(r.idlePercentOfCore)
        .map(([s, p]) => `${s} ${p}`)
        .join(
          ', ',
        )} (target ≤ 1 each); while idle, table scans in Postgres ${r.idleTableScans} (target 0) and transactions ` +
      `${r.idlePostgresTransactions} (autovacuum's included)`,
  );
}
process.exit(0);
