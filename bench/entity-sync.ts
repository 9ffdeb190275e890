/**
 * Full entity sync of one sandbox profile with 1,000 campaigns, 20,000 ad groups,
 * 40,000 ads and 200,000 targets, against the practical limit: COPY of the very
 * same rows into the same tables, in the same run. The sandbox runs in its own
 * process; Postgres is the stack's (deploy/local/stack up).
 *
 *   node --expose-gc bench/entity-sync.ts
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { createLogger } from '@adsync/shared/logger';
import { freshPostgres } from '@adsync/shared/testing/test-stack';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from '@adsync/sandbox';
import { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { syncProfiles } from '@adsync/entity-sync/sync-profiles';
import { storeCredentials } from '@adsync/shared/amazon/account-clients';
import { cpuMeter, processesNamed, startProfile } from './proc-cpu.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PORT = 18991;
const scale = {
  profiles: 1,
  campaignsPerProfile: 1000,
  adGroupsPerCampaign: 20,
  adsPerAdGroup: 2,
  keywordsPerAdGroup: 8,
  productTargetsPerAdGroup: 2,
  sbCampaignsPerProfile: 0,
  sdCampaignsPerProfile: 0,
};
// BENCH_PROFILE_DIR=dir writes the sandbox's CPU profile there, and the sync window's (bench/top-frames.ts reads them).
const profileArgs = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  : [];
const child = spawn(process.execPath, [...profileArgs, 'packages/sandbox/src/main.ts'], {
  env: {
    ...process.env,
    SANDBOX_PORT: String(PORT),
    SANDBOX_SCALE: JSON.stringify(scale),
    SANDBOX_REPORT_GENERATION_MS: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('listening') && resolve()));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** A fresh database with the sandbox's account and profile, and a client for it. */
async function freshTarget() {
  const pg = await freshPostgres();
  const db = pg.db;
  await migratePostgres(db);
  const box = createSecretBox(randomBytes(32));
  const [{ id: accountId }] = await db('accounts').insert({ company_name: 'bench' }).returning('id');
  await storeCredentials(db, box, accountId, {
    region: 'NA',
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    refresh_token: SANDBOX_REFRESH_TOKEN,
  });
  await db('profiles').insert({
    profile_id: '1000000000000',
    account_id: accountId,
    country_code: 'US',
    currency_code: 'USD',
    timezone: 'America/Los_Angeles',
  });
  return { pg, db, clients: new AmazonClients({ db, box, log, baseUrl: `http://127.0.0.1:${PORT}` }) };
}
const log = createLogger({ name: 'bench', level: 'error', pretty: false });

/** One full sync into a fresh database, timed, with every process's CPU over its window. */
async function timedSync(label: string, profileWindow: boolean, into?: Awaited<ReturnType<typeof freshTarget>>) {
  const target = into ?? (await freshTarget());
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }, 25);
  const sandboxCpu = cpuMeter(() => [child.pid!]);
  const postgresCpu = cpuMeter(() => processesNamed('postgres'));
  const cpu0 = process.cpuUsage();
  const profiling = profileWindow && process.env.BENCH_PROFILE_DIR ? await startProfile() : null;
  const t0 = performance.now();
  const summary = await syncProfiles(
    { db: target.db, clients: target.clients, log, batchSize: 2000, concurrency: 1, exportPollMs: 100 },
    { entity: 'all', mode: 'full', trigger: 'bench' },
  );
  const ms = performance.now() - t0;
  if (profiling)
    writeFileSync(join(process.env.BENCH_PROFILE_DIR!, 'entity-sync-window.cpuprofile'), await profiling());
  const used = process.cpuUsage(cpu0);
  const cpu = { ours: +((used.user + used.system) / 1e6).toFixed(2), sandbox: sandboxCpu(), postgres: postgresCpu() };
  clearInterval(sampler);
  if (summary.failed)
    throw new Error(`sync failed: ${JSON.stringify(summary.runs.filter((r) => r.status === 'failed'))}`);
  return { label, target, summary, ms, cpu, heapGrowthMb: Math.round((heapPeak - heapBefore) / 1048576) };
}

// First with the sandbox building every export file (what a first run against it costs the
// machine), then again with those files already built: Amazon builds exports on its own
// machines, so the second is the fairer measure of our side against COPY. Both are reported.
const cold = await timedSync('sandbox building every export', false);
await cold.target.clients.close();
await cold.target.pg.drop();
const warm = await timedSync('export files already built', true);
// Then twice more into the same database: every row is stored already, so every batch is merged
// (the path a scheduled full resync takes), where the first load COPYs straight in. The second
// resync is the steady state: the first leaves the dead row versions a page can reuse.
const resync1 = await timedSync('first resync, every row already stored', false, warm.target);
const resync = await timedSync('second resync', false, warm.target);
const { pg, db } = warm.target;

// The raw limit: the same rows, exported as COPY text and loaded back with COPY into emptied
// tables; every entity table the sync wrote, so both sides of the ratio hold the same rows.
const tables = (
  await db('pg_tables').where({ schemaname: 'public' }).whereLike('tablename', 'entity\\_%').orderBy('tablename')
).map((t: { tablename: string }) => t.tablename);
const dumps: Record<string, Buffer> = {};
const conn = await db.client.acquireConnection();
let copyMs: number;
try {
  for (const t of tables) {
    const chunks: Buffer[] = [];
    for await (const c of conn.query(copyStreams.to(`COPY ${t} TO STDOUT`)) as AsyncIterable<Buffer>) chunks.push(c);
    dumps[t] = Buffer.concat(chunks);
  }
  await conn.query(`TRUNCATE ${tables.join(', ')}`);
  const c0 = performance.now();
  for (const t of tables)
    await pipeline(Readable.from([dumps[t]!]), conn.query(copyStreams.from(`COPY ${t} FROM STDIN`)));
  copyMs = performance.now() - c0;
} finally {
  await db.client.releaseConnection(conn);
}
const counts: Record<string, number> = Object.fromEntries(
  await Promise.all(tables.map(async (t) => [t, Number((await db(t).count<{ c: string }[]>('* as c'))[0]!.c)])),
);
const total = Object.values(counts).reduce((a, b) => a + b, 0);
const copyRate = Math.round(total / (copyMs / 1000));
// Rows stored, not rows the sync reports writing, on both sides.
const rate = (r: typeof warm) => Math.round(total / (r.ms / 1000));
console.table([
  ...[cold, warm, resync1, resync].map((r) => ({
    path: `entity-sync full, ${r.label}`,
    rows: total,
    upserted: r.summary.upserted,
    seconds: +(r.ms / 1000).toFixed(2),
    rowsPerSec: rate(r),
    'CPU s ours / sandbox / Postgres': `${r.cpu.ours} / ${r.cpu.sandbox} / ${r.cpu.postgres}`,
    'ratio to COPY': +(rate(r) / copyRate).toFixed(2),
  })),
  { path: 'COPY FROM STDIN of the same rows', rows: total, seconds: +(copyMs / 1000).toFixed(2), rowsPerSec: copyRate },
]);
console.log(`entity counts: ${JSON.stringify(counts)}`);
console.log(
  `entity-sync / COPY = ${(rate(warm) / copyRate).toFixed(2)} (export files built), ${(rate(cold) / copyRate).toFixed(2)} (sandbox building them), ${(rate(resync1) / copyRate).toFixed(2)} / ${(rate(resync) / copyRate).toFixed(2)} (first / second resync, every row already stored); peak heap growth during sync ${warm.heapGrowthMb} MB`,
);
await warm.target.clients.close();
await pg.drop();
child.kill('SIGTERM');
