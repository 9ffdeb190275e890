#!/usr/bin/env node
// The fault suite: `pnpm chaos` (the full matrix, ~40 min) or `pnpm chaos --subset ci`
// (the cells CI runs); `--subset fleet` (or fleet-ci, CI's cut) runs two processes of every
// service on three Kafka nodes and two ClickHouse replicas. Needs the stack (`deploy/local/stack chaos` brings it up).
// Prints a table; exits 1 if any cell is not exact or a control passed.
//   node packages/chaos/src/cli.ts [--subset ci|full] [--only SUBSTRING]
import { parseArgs } from 'node:util';
import { isFleet, matrix, runCell, SUBSETS, table, type CellResult, type Subset } from './matrix.ts';
import { startKafkaCluster } from '@adsync/shared/testing/kafka-cluster';
import { startClickHouseCluster } from '@adsync/shared/testing/clickhouse-cluster';
import type { Fleet } from './world.ts';

const { values } = parseArgs({
  options: {
    subset: { type: 'string', default: 'full' },
    only: { type: 'string' },
  },
});
const subset = values.subset as Subset;
if (!SUBSETS.includes(subset)) {
  console.error(`--subset must be one of ${SUBSETS.join(', ')} (got ${values.subset})`);
  process.exit(2);
}
process.env.LOG_LEVEL ??= 'warn';

const cells = matrix(subset).filter((c) => !values.only || c.name.includes(values.only));
console.log(`chaos: ${cells.length} cells (${subset})`);
// The fleet's servers, once for every cell (each cell has its own topics and databases on them);
// the services and the suite's own clients find them through the environment.
let fleet: Fleet | undefined;
if (isFleet(subset)) {
  const [kafka, clickhouse] = await Promise.all([startKafkaCluster(), startClickHouseCluster()]);
  fleet = { kafka, clickhouse };
  process.env.KAFKA_BROKERS = kafka.brokers.join(',');
  process.env.CLICKHOUSE_URL = clickhouse.urls.join(',');
  process.env.CLICKHOUSE_CLUSTER = clickhouse.cluster;
  console.log(
    `fleet: Kafka ${process.env.KAFKA_BROKERS}; ClickHouse ${process.env.CLICKHOUSE_URL} (cluster ${clickhouse.cluster})`,
  );
}
const results: CellResult[] = [];
for (const [i, cell] of cells.entries()) {
  console.log(`[${i + 1}/${cells.length}] ${cell.name}`);
  const started = Date.now();
  let r: CellResult;
  try {
    r = await runCell(cell, (line) => console.log(line), fleet);
  } catch (err) {
    r = {
      cell,
      verdict: { ok: false, problems: [`the cell could not run: ${(err as Error).stack ?? err}`], facts: {} },
      struckAt: null,
      jobSeconds: (Date.now() - started) / 1000,
      settleSeconds: null,
      passed: false,
    };
  }
  results.push(r);
  console.log(
    `  ${r.passed ? 'ok' : 'NOT OK'}${r.verdict.problems.length ? `: ${r.verdict.problems.slice(0, 5).join('\n    ')}` : ''}`,
  );
}
console.log(`\n${table(results)}\n`);
const bad = results.filter((r) => !r.passed);
console.log(
  bad.length
    ? `${bad.length} of ${results.length} cells not as they must be`
    : `all ${results.length} cells as they must be`,
);
if (fleet) await Promise.all([fleet.kafka.stop(), fleet.clickhouse.stop()]);
process.exit(bad.length ? 1 : 0);
