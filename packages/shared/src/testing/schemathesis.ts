/**
 * Runs schemathesis (PyPI, installed by the stack script into .stack/venv) against an
 * HTTP API from its OpenAPI document and reports what it found. Tests decide which
 * checks must pass; the default is the one every API here owes: no 5xx.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FuzzOptions {
  /** URL of the OpenAPI document. */
  schemaUrl: string;
  /** Base URL requests go to. */
  baseUrl: string;
  headers?: Record<string, string>;
  checks?: string[];
  maxExamples?: number;
  /** Operation paths to leave out (regular expression). */
  excludePathRegex?: string;
  seed?: number;
}

export interface FuzzResult {
  code: number;
  output: string;
  /** Failures by check name, from the JUnit report. */
  failures: { operation: string; message: string }[];
  operations: number;
}

export function schemathesisBinary(): string {
  const python = process.env.ADSYNC_PYTHON;
  if (!python)
    throw new Error(
      'ADSYNC_PYTHON is not set: run the tests with `deploy/local/stack test`, which installs schemathesis into .stack/venv',
    );
  return join(python, '..', 'schemathesis');
}

export async function fuzz(o: FuzzOptions): Promise<FuzzResult> {
  const dir = mkdtempSync(join(tmpdir(), 'adsync-fuzz-'));
  const junit = join(dir, 'junit.xml');
  const args = [
    'run',
    o.schemaUrl,
    '--url',
    o.baseUrl,
    '--checks',
    (o.checks ?? ['not_a_server_error']).join(','),
    '--max-examples',
    String(o.maxExamples ?? 25),
    '--seed',
    String(o.seed ?? 1),
    '--phases',
    'examples,coverage,fuzzing',
    '--workers',
    '1',
    '--no-shrink',
    '--generation-database',
    'none',
    '--suppress-health-check',
    'all',
    '--report',
    'junit',
    '--report-junit-path',
    junit,
    '--no-color',
    ...(o.excludePathRegex ? ['--exclude-path-regex', o.excludePathRegex] : []),
    ...Object.entries(o.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
  ];
  try {
    const child = spawn(schemathesisBinary(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    let xml = '';
    try {
      xml = readFileSync(junit, 'utf8');
    } catch {
      /* no report: the run did not start; the output says why */
    }
    const operations = [...xml.matchAll(/<testcase /g)].length;
    const failures = [
      ...xml.matchAll(/<testcase name="([^"]*)"[^>]*>\s*<(?:failure|error)[^>]*message="([^"]*)"/g),
    ].map((m) => ({ operation: m[1]!, message: m[2]! }));
    return { code, output, failures, operations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
