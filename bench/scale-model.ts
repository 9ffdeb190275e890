/**
 * The scale model (packages/shared/src/reports/scale-model.ts) with this build's figures: one
 * profile's first day run for real (the six services as processes, the sandbox playing Amazon)
 * measures the Amazon calls a profile costs outside reports and the rows a report-day carries;
 * the day's report plan comes from the default tiers and types; CPU per row is what
 * bench/lean-job.ts measured. Prints the table the README carries.
 *
 *   node bench/scale-model.ts        (needs `deploy/local/stack up`)
 */
import { World } from '@adsync/chaos/world';
import { DEFAULT_REPORT_TYPE_IDS, REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { DEFAULT_TIERS } from '@adsync/shared/reports/report-plan';
import { scaleRow, steadyPlan, type ScaleInputs } from '@adsync/shared/reports/scale-model';
import { LEAN_ACCOUNT } from './account-shapes.ts';

// bench/lean-job.ts, 100 profiles (1,437,828 rows), at the close of issue 30: CPU-seconds per
// 1,000 rows of the services, and of Kafka, Postgres and ClickHouse on top.
const CPU_PER_1000_ROWS = { services: 0.044, stack: 0.088 - 0.044 };
// Amazon's P99 for a report to be generated (reference/concepts/limits.md), checked every
// POLL_MIN_SPACING_MS (10 s by default; 60 s for a large fleet).
const GENERATION_P99_S = 15 * 60;
const SHAPE = LEAN_ACCOUNT;

const world = await World.create({
  name: 'scalemodel',
  seed: 30,
  scale: { profiles: 1, ...SHAPE },
  reportGenerationMs: 0,
  latencyMs: 0,
  supplierProducts: 1,
  env: { POLL_MIN_SPACING_MS: '200', POLL_MAX_REPORTS: '500' },
});
let inputs: ScaleInputs;
try {
  const db = world.pg.db;
  const accountId = await world.connectedAccount('Scale');
  // The day's work of one profile: profiles, entities, and its scheduled reports.
  const { runId } = await world.api<{ runId: string }>(
    'entity-sync',
    'POST',
    `/v1/ingestion/sync-account/${accountId}`,
  );
  for (;;) {
    const run = await db('ingestion_runs').where({ id: runId }).first('status');
    const open = await db('pending_amazon_reports').whereNotIn('status', ['loaded', 'failed']).first('id');
    if (['succeeded', 'partial', 'failed'].includes(run?.status) && !open) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = world.sandbox.state.requestLog;
  const reportCalls = log.filter((e) => /^\/reporting\/reports|^\/_download\/reports\//.test(e.path)).length;
  const reports: { report_type: string; start_date: string; end_date: string; row_count: number | null }[] = await db(
    'pending_amazon_reports',
  ).select('report_type', 'start_date', 'end_date', 'row_count');
  const sponsored = reports.filter((r) => REPORT_TYPES[r.report_type]!.adProduct !== 'DEMAND_SIDE_PLATFORM');
  const reportDays = sponsored.reduce(
    (n, r) => n + (Date.parse(r.end_date) - Date.parse(r.start_date)) / 86_400_000 + 1,
    0,
  );
  const rows = sponsored.reduce((n, r) => n + Number(r.row_count ?? 0), 0);
  const plan = steadyPlan(
    DEFAULT_REPORT_TYPE_IDS.filter((t) => REPORT_TYPES[t]!.adProduct !== 'DEMAND_SIDE_PLATFORM'),
    DEFAULT_TIERS,
  );
  inputs = {
    reportsPerProfileDay: plan.reports,
    reportDaysPerProfileDay: plan.reportDays,
    rowsPerReportDay: rows / reportDays,
    pollsPerReport: Math.ceil(GENERATION_P99_S / 10),
    otherCallsPerProfileDay: log.length - reportCalls,
    cpuSecPer1000Rows: CPU_PER_1000_ROWS,
    windowHours: 6,
    utilisation: 0.7,
  };
  console.log(
    `measured: ${log.length} Amazon calls for one profile's first day, ${reportCalls} of them for ${reports.length} reports; ${rows} rows over ${reportDays} report-days`,
  );
} finally {
  await world.close();
}
console.log('inputs:', JSON.stringify(inputs, null, 1));
const n = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(
  '\n| profiles | reports a day | report creations /s | Amazon calls /s (10 s polls) | (60 s polls) | rows a day | service cores | Kafka+Postgres+ClickHouse cores |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const profiles of [100, 1_000, 10_000]) {
  const r = scaleRow(profiles, inputs);
  const slow = scaleRow(profiles, { ...inputs, pollsPerReport: Math.ceil(GENERATION_P99_S / 60) });
  console.log(
    `| ${n(profiles)} | ${n(r.reportsPerDay)} | ${n(r.reportCreatesPerSecond, 2)} | ${n(r.amazonCallsPerSecond, 1)} | ${n(slow.amazonCallsPerSecond, 1)} | ${n(r.rowsPerDay)} | ${n(r.serviceCores, 2)} | ${n(r.stackCores, 2)} |`,
  );
}
process.exit(0);
