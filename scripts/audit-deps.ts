#!/usr/bin/env node
/**
 * Dependency audit: the npm lockfile against the npm registry's advisories (`pnpm audit`),
 * failing on high and critical ones. Exit 0: none found; 1: found (listed); 2: the advisory
 * service could not be asked, which is never reported as a pass.
 *
 *   pnpm audit:deps
 *
 * It needs the npm advisory endpoints (registry.npmjs.org/-/npm/v1/security/…). The build
 * machines of this project answer those with 405, so `.ci/run` cannot run it there; run it
 * where the registry's audit service is reachable (a developer machine, a CI with internet).
 */
import { spawnSync } from 'node:child_process';

const LEVELS = ['high', 'critical'];

interface Advisory {
  severity: string;
  module_name: string;
  title: string;
  url: string;
  findings: { version: string; paths: string[] }[];
}

const run = spawnSync('pnpm', ['audit', '--json', '--audit-level', 'high'], { encoding: 'utf8' });
let report: { advisories?: Record<string, Advisory>; error?: { message?: string } } = {};
try {
  report = JSON.parse(run.stdout);
} catch {
  // Not JSON: judged below as an audit that did not happen.
}
// Only an answer that lists advisories (an empty list included) is an audit; pnpm reports a
// refused endpoint as JSON too, with an error instead.
if (!report.advisories) {
  const why = report.error?.message ?? `${run.stderr}${run.stdout}`.trim().split('\n').slice(-3).join(' ');
  console.error(`audit: the npm advisory service could not be asked, so nothing is known either way: ${why}`);
  process.exit(2);
}
const serious = Object.values(report.advisories).filter((a) => LEVELS.includes(a.severity));
for (const a of serious)
  console.log(
    `${a.severity.toUpperCase()} ${a.module_name} ${a.findings.map((f) => f.version).join(', ')}: ${a.title} (${a.url})\n  via ${a.findings
      .flatMap((f) => f.paths)
      .slice(0, 3)
      .join('; ')}`,
  );
console.log(
  serious.length
    ? `audit: ${serious.length} high or critical advisories affect the installed dependencies`
    : 'audit: no high or critical advisory affects the installed dependencies',
);
process.exit(serious.length ? 1 : 0);
