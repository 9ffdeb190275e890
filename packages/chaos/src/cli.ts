#!/usr/bin/env node
// The fault suite: `pnpm chaos` (the full matrix, ~40 min) or `pnpm chaos --subset ci`
// (the cells CI runs). Needs the stack (`deploy/local/stack chaos` brings it up).
// Prints a table; exits 1 if any cell is not exact or a control passed.
//   node packages/chaos/src/cli.ts [--subset ci|full] [--only SUBSTRING]
import { parseArgs } from 'node:util';
import { matrix, runCell, table, type CellResult } from './matrix.ts';

const { values } = parseArgs({
  options: {
    subset: { type: 'string', default: 'full' },
    only: { type: 'string' },
  },
});
if (values.subset !== 'ci' && values.subset !== 'full') {
  console.error(`--subset must be ci or full (got ${values.subset})`);
  process.exit(2);
}
process.env.LOG_LEVEL ??= 'warn';

const cells = matrix(values.subset).filter((c) => !values.only || c.name.includes(values.only));
console.log(`chaos: ${cells.length} cells (${values.subset})`);
const results: CellResult[] = [];
for (const [i, cell] of cells.entries()) {
  console.log(`[${i + 1}/${cells.length}] ${cell.name}`);
  const started = Date.now();
  let r: CellResult;
  try {
    r = await runCell(cell, (line) => console.log(line));
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
process.exit(bad.length ? 1 : 0);
