/**
 * Today's ClickHouse engine, in-process through chDB (PyPI chdb-core, installed into
 * the stack's venv), so tests prove our SQL on the versions users run as well as on
 * the 18.16 server this machine can install. A missing chDB is a failure, not a skip.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StackMissingError } from './test-stack.ts';

const RUNNER = fileURLToPath(new URL('../../../../deploy/local/python/chdb_run.py', import.meta.url));

export interface ChdbJob {
  database?: string;
  /** Statements that must all succeed, in order (migrations). */
  setup: string[];
  /** Data to load, one JSONEachRow document per table. */
  inserts?: { table: string; rows: string }[];
  queries: { id: string; sql: string }[];
}

export interface ChdbAnswer {
  engine: string;
  setup: { sql: string; error: string | null }[];
  results: Record<string, { rows: Record<string, unknown>[] } | { error: string }>;
}

export async function runOnChdb(job: ChdbJob): Promise<ChdbAnswer> {
  const python = process.env.ADSYNC_PYTHON;
  if (!python)
    throw new StackMissingError(
      'chDB (Python venv)',
      'ADSYNC_PYTHON (unset)',
      new Error('run `deploy/local/stack up` and the tests through `deploy/local/stack test`'),
    );
  const child = spawn(python, [RUNNER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  child.stdin.end(JSON.stringify(job));
  const code = await done;
  if (code !== 0)
    throw new StackMissingError(
      'chDB',
      python,
      new Error(`chdb_run.py exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`),
    );
  return JSON.parse(Buffer.concat(out).toString()) as ChdbAnswer;
}
