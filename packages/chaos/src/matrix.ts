/**
 * The fault matrix: each fault at 10, 50 and 90 % of the main job's load, a clean
 * baseline, and negative controls the judge must fail. Each cell is a fresh world;
 * the table says what happened, how long the system took to settle, and why a cell
 * failed.
 */
import { FINAL_GENERATION } from '@adsync/sandbox';
import { IN_FLIGHT_STATUSES } from '@adsync/shared/reports/pending-reports';
import {
  ALL_FAULTS,
  killService,
  killBroker,
  poison,
  amazonStorm,
  killReplica,
  killAskingEntitySync,
  killClusterBroker,
  killClickHouseReplica,
  restateAway,
  type Fault,
  type Injected,
} from './faults.ts';
import { SERVICE_NAMES } from '@adsync/shared/testing/service-process';
import { consumerLag, judge, plannedWindows, quiescent, type Verdict } from './judge.ts';
import { addDays } from '@adsync/shared/calendar';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { expectedDayTotals } from './expected.ts';
import { DEFAULT_WORLD, World, type Fleet } from './world.ts';

export interface Cell {
  name: string;
  fault: Fault | null;
  /** Share of the load (report rows loaded) at which the fault strikes. */
  at: number;
  /** A control: the judge must fail it. */
  negative?: 'not-restarted' | 'stale-pull' | 'restated-row-back';
  settleTimeoutMs?: number;
}

export interface CellResult {
  cell: Cell;
  verdict: Verdict;
  /** When the fault struck, as a share of the load. */
  struckAt: number | null;
  jobSeconds: number;
  settleSeconds: number | null;
  /** For controls: the judge failed, as it must. */
  passed: boolean;
}

const POINTS = [0.1, 0.5, 0.9];

export type Subset = 'ci' | 'full' | 'fleet' | 'fleet-ci';
export const SUBSETS: Subset[] = ['ci', 'full', 'fleet', 'fleet-ci'];
/** The subsets that run on the fleet: two processes of every service, three Kafka nodes, two ClickHouse replicas. */
export const isFleet = (subset: Subset): boolean => subset.startsWith('fleet');

/**
 * The fleet's cells: one replica of each service killed at 10, 50 and 90 % of the load, a Kafka
 * node and a ClickHouse replica killed, rows restated away; a baseline and the controls. CI runs
 * a cut of it (fleet-ci).
 */
function fleetMatrix(subset: 'fleet' | 'fleet-ci'): Cell[] {
  const baseline: Cell = { name: 'fleet baseline (no fault)', fault: null, at: 0 };
  const controls: Cell[] = [
    {
      name: 'control: both etl-loader replicas killed, never restarted',
      fault: {
        name: 'kill -9 every etl-loader (stays down)',
        what: 'SIGKILL both etl-loader processes and leave them down',
        inject: async (w) => {
          await Promise.all(w.replicas['etl-loader'].map((r) => r.kill9()));
          return { expectedDeadLetters: [] };
        },
      },
      at: 0.5,
      negative: 'not-restarted',
      settleTimeoutMs: 30_000,
    },
    { name: 'control: a row restated away written back', fault: restateAway, at: 0.5, negative: 'restated-row-back' },
  ];
  if (subset === 'fleet-ci')
    return [
      baseline,
      // While the ingestion asks Amazon for reports: what it held lapses and is asked again.
      { name: killAskingEntitySync.name, fault: killAskingEntitySync, at: 0 },
      { name: 'kill -9 one etl-loader replica @50%', fault: killReplica('etl-loader'), at: 0.5 },
      { name: `${killClusterBroker.name} @50%`, fault: killClusterBroker, at: 0.5 },
      { name: `${killClickHouseReplica.name} @50%`, fault: killClickHouseReplica, at: 0.5 },
      { name: 'restate rows away @50%', fault: restateAway, at: 0.5 },
      ...controls,
    ];
  const faults = [...SERVICE_NAMES.map(killReplica), killClusterBroker, killClickHouseReplica, restateAway];
  return [
    baseline,
    ...faults.flatMap((fault) => POINTS.map((at) => ({ name: `${fault.name} @${at * 100}%`, fault, at }))),
    { name: killAskingEntitySync.name, fault: killAskingEntitySync, at: 0 },
    ...controls,
  ];
}

export function matrix(subset: Subset): Cell[] {
  if (subset === 'fleet' || subset === 'fleet-ci') return fleetMatrix(subset);
  const baseline: Cell = { name: 'baseline (no fault)', fault: null, at: 0 };
  const controls: Cell[] = [
    {
      name: 'control: etl-loader killed, never restarted',
      fault: {
        name: 'kill -9 etl-loader (stays down)',
        what: 'SIGKILL etl-loader and leave it down',
        inject: async (w) => {
          await w.services['etl-loader'].kill9();
          return { expectedDeadLetters: [] };
        },
      },
      at: 0.5,
      negative: 'not-restarted',
      settleTimeoutMs: 30_000,
    },
    { name: 'control: a stale pull written as the newest', fault: null, at: 0, negative: 'stale-pull' },
  ];
  if (subset === 'ci')
    return [
      baseline,
      { name: 'kill -9 entity-sync @10%', fault: killService('entity-sync'), at: 0.1 },
      { name: 'kill -9 etl-loader @50%', fault: killService('etl-loader'), at: 0.5 },
      { name: 'kill -9 kafka @50%', fault: killBroker, at: 0.5 },
      { name: 'amazon storm @50%', fault: amazonStorm, at: 0.5 },
      { name: 'poison @50%', fault: poison, at: 0.5 },
      ...controls,
    ];
  return [
    baseline,
    ...ALL_FAULTS.flatMap((fault) => POINTS.map((at) => ({ name: `${fault.name} @${at * 100}%`, fault, at }))),
    ...controls,
  ];
}

/**
 * Share of the load done so far: metric rows written to ClickHouse over the rows the
 * planned reports carry (overlapping windows write their days twice, and count twice).
 * Rows stream in batch by batch, so the fault can strike mid-report.
 */
class LoadMeter {
  private total = 0;
  private readonly world: World;
  constructor(world: World) {
    this.world = world;
  }

  async prepare(): Promise<void> {
    const rowsOf = new Map<string, number>();
    const rows = (owner: string, reportType: string, day: string) => {
      const key = `${owner}|${reportType}|${day}`;
      if (!rowsOf.has(key))
        rowsOf.set(key, expectedDayTotals(this.world.sandbox, owner, reportType, day, FINAL_GENERATION).rows);
      return rowsOf.get(key)!;
    };
    this.total = 0;
    for (const w of await plannedWindows(this.world))
      for (let day = w.startDate; day <= w.endDate; day = addDays(day, 1))
        this.total += rows(w.owner, w.reportType, day);
  }

  async progress(): Promise<number> {
    if (this.total === 0) return 0;
    // Every table the planned reports write (DSP's too: its share of the job grows with its advertisers).
    const tables = [...new Set(Object.values(REPORT_TYPES).map((t) => t.table))];
    const rs = await this.world.ch.ch.client.query({
      query: `SELECT ${tables.map((t) => `(SELECT count() FROM ${t})`).join(' + ')} AS c`,
      format: 'JSONEachRow',
    });
    return Math.min(1, Number((await rs.json<{ c: string }>())[0]!.c) / this.total);
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      /* a server may be down mid-fault; ask again */
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function runCell(cell: Cell, log: (line: string) => void, fleet?: Fleet): Promise<CellResult> {
  const world = await World.create({ ...DEFAULT_WORLD, name: cell.name, ...(fleet ? { fleet, replicas: 2 } : {}) });
  const result = await playCell(world, cell, log);
  // Amazon's side is played to Amazon's models, shutdown included: an answer off them makes any
  // cell fail, a control too (its judge failing would otherwise hide it).
  const violations = world.sandbox.state.violations;
  if (violations.length === 0) return result;
  result.verdict.problems.unshift(
    ...violations
      .slice(0, 3)
      .map((v) => `the sandbox answered ${v.operation} ${v.status} outside Amazon's model: ${v.problems[0]}`),
  );
  return { ...result, verdict: { ...result.verdict, ok: false }, passed: false };
}

async function playCell(world: World, cell: Cell, log: (line: string) => void): Promise<CellResult> {
  try {
    const started = Date.now();
    await world.startJob();
    const backfill = world.requestBackfill();
    let struckAt: number | null = null;
    let injected: Injected = { expectedDeadLetters: [] };
    let faultStartedAt = Date.now();
    if (cell.fault) {
      // Profiles are known once the ingestion has discovered them; the meter needs them.
      await until(async () => (await world.pg.db('profiles').first('profile_id')) !== undefined, 120_000);
      const meter = new LoadMeter(world);
      await until(async () => {
        await meter.prepare();
        return true;
      }, 30_000);
      await until(async () => (await meter.progress()) >= cell.at, 300_000, 100);
      struckAt = await meter.progress().catch(() => cell.at);
      log(`  ${cell.fault.name} at ${(struckAt * 100).toFixed(0)} % of the load`);
      // The groups and what each reads, known before the fault: a group a broker kill hides from
      // every list afterwards is still asked for its lag.
      await consumerLag(world).catch(() => []);
      faultStartedAt = Date.now();
      injected = await cell.fault.inject(world);
    }
    await backfill;
    // Settled when two looks a second apart saw the same stillness (no event written between
    // them): one look can fall between a consumer finishing an event and the event it sends on.
    let last: string | null = null;
    const settled = await until(
      async () => {
        const seen = await quiescent(world);
        const still = seen !== null && seen === last;
        last = seen;
        return still;
      },
      cell.settleTimeoutMs ?? 300_000,
      1_000,
    );
    // From the moment the fault struck to the moment everything was done again.
    const settleSeconds = settled ? (Date.now() - faultStartedAt) / 1000 : null;
    const jobSeconds = (Date.now() - started) / 1000;
    if (cell.negative === 'stale-pull')
      // What a loader without a trustworthy version column leaves behind: an older pull of one day,
      // written so that it wins over the newer one.
      await writeBack(world, { clicks: 'clicks + 1', version: 'version + 1' }, 5);
    if (cell.negative === 'restated-row-back')
      // What a loader that only replaces by key leaves behind: a row the latest pull does not have
      // (here one row of a day, under a key no later pull wrote).
      await writeBack(world, { entity_id: "concat(entity_id, '-restated-away')", version: 'version - 1' }, 1);
    const verdict = await judge(world, injected);
    if (!settled) verdict.problems.unshift(`did not settle within ${(cell.settleTimeoutMs ?? 300_000) / 1000} s`);
    verdict.ok = verdict.ok && settled;
    const passed = cell.negative ? !verdict.ok : verdict.ok;
    if (!passed) {
      const stuck = await world.pg
        .db('pending_amazon_reports')
        .whereIn('status', IN_FLIGHT_STATUSES)
        .count<{ c: string }[]>('* as c')
        .catch(() => [{ c: '?' }]);
      log(`  logs: ${world.logDir} (reports in flight: ${stuck[0]!.c})`);
      if (world.options.fleet) log(`  clickhouse replicas: ${await replicaState(world).catch((e) => String(e))}`);
    }
    return { cell, verdict, struckAt, jobSeconds, settleSeconds, passed };
  } finally {
    await world.close();
  }
}

/**
 * Writes the newest spCampaigns rows again with some columns changed (the rest as they are, read
 * from the table so new measure columns come along): what the negative controls plant.
 */
async function writeBack(world: World, changed: Record<string, string>, limit: number): Promise<void> {
  const cols = await world.ch.ch.client
    .query({
      query: `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'ads_metrics_daily'`,
      format: 'JSONEachRow',
    })
    .then((r) => r.json<{ name: string }>())
    .then((r) => r.map((c) => c.name));
  await world.ch.ch.client.command({
    query: `INSERT INTO ads_metrics_daily (${cols.join(', ')})
            SELECT ${cols.map((c) => changed[c] ?? c).join(', ')}
            FROM ads_metrics_daily FINAL WHERE report_type = 'spCampaigns' ORDER BY date DESC LIMIT ${limit}`,
  });
}

/** What each ClickHouse replica of the fleet holds, for a failed cell's log. */
async function replicaState(world: World): Promise<string> {
  const db = world.ch.ch.database;
  const out: string[] = [];
  for (const url of world.options.fleet!.clickhouse.urls) {
    const q = async (sql: string) => {
      const res = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(5_000) });
      return (await res.text()).trim().replace(/\n/g, '; ');
    };
    out.push(
      `${url}: rows ${await q(`SELECT count() FROM ${db}.ads_metrics_daily`)}, replicas ${await q(
        `SELECT table, is_readonly, queue_size, inserts_in_queue, active_replicas, log_pointer, last_queue_update FROM system.replicas WHERE database = '${db}' AND table IN ('ads_metrics_daily', 'ads_metrics_recent')`,
      )}`,
    );
  }
  return out.join(' | ');
}

export function table(results: CellResult[]): string {
  const rows = results.map((r) => [
    r.cell.name,
    r.struckAt === null ? '-' : `${(r.struckAt * 100).toFixed(0)} %`,
    r.cell.negative
      ? r.passed
        ? 'judge failed it (as it must)'
        : 'JUDGE PASSED A BROKEN RUN'
      : r.passed
        ? 'exact'
        : 'FAILED',
    r.settleSeconds === null ? '-' : `${r.settleSeconds.toFixed(1)} s`,
    `${r.jobSeconds.toFixed(1)} s`,
    r.cell.negative
      ? (r.verdict.problems[0] ?? '')
      : r.passed
        ? `${r.verdict.facts.cells} cells, ${r.verdict.facts.rows} rows, ${r.verdict.facts.entities} entities`
        : (r.verdict.problems[0] ?? ''),
  ]);
  const head = ['cell', 'struck at', 'verdict', 'settled in', 'job', 'detail'];
  const widths = head.map((h, i) => Math.min(90, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
