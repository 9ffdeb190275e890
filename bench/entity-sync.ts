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
const log = createLogger({ name: 'bench', level: 'error', pretty: false });
const clients = new AmazonClients({ db, box, log, baseUrl: `http://127.0.0.1:${PORT}` });

gc();
const heapBefore = process.memoryUsage().heapUsed;
let heapPeak = heapBefore;
const sampler = setInterval(() => {
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 25);
const sandboxCpu = cpuMeter(() => [child.pid!]);
const postgresCpu = cpuMeter(() => processesNamed('postgres'));
const cpu0 = process.cpuUsage();
const profiling = process.env.BENCH_PROFILE_DIR ? await startProfile() : null;
const t0 = performance.now();
const summary = await syncProfiles(
  { db, clients, log, batchSize: 2000, concurrency: 1, exportPollMs: 100 },
  { entity: 'all', mode: 'full', trigger: 'bench' },
);
const syncMs = performance.now() - t0;
if (profiling) writeFileSync(join(process.env.BENCH_PROFILE_DIR!, 'entity-sync-window.cpuprofile'), await profiling());
const cpu = {
  ours: +((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(2),
  sandbox: sandboxCpu(),
  postgres: postgresCpu(),
};
clearInterval(sampler);
if (summary.failed)
  throw new Error(`sync failed: ${JSON.stringify(summary.runs.filter((r) => r.status === 'failed'))}`);

// The raw limit: the same rows, exported as COPY text and loaded back with COPY into emptied tables.
const tables = ['entity_campaigns', 'entity_ad_groups', 'entity_ads', 'entity_targets'];
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
const syncRate = Math.round(summary.upserted / (syncMs / 1000));
const copyRate = Math.round(total / (copyMs / 1000));
console.table([
  {
    path: 'entity-sync full (sandbox → Amazon client → normalise → COPY + merge)',
    rows: summary.upserted,
    seconds: +(syncMs / 1000).toFixed(2),
    rowsPerSec: syncRate,
  },
  { path: 'COPY FROM STDIN of the same rows', rows: total, seconds: +(copyMs / 1000).toFixed(2), rowsPerSec: copyRate },
]);
console.log(
  `CPU seconds during the sync: ours ${cpu.ours}, sandbox ${cpu.sandbox} (plays Amazon, shares the machine), Postgres ${cpu.postgres}`,
);
console.log(`entity counts: ${JSON.stringify(counts)}`);
console.log(
  `entity-sync / COPY = ${(syncRate / copyRate).toFixed(2)}; peak heap growth during sync ${Math.round((heapPeak - heapBefore) / 1048576)} MB`,
);
await clients.close();
await pg.drop();
child.kill('SIGTERM');
