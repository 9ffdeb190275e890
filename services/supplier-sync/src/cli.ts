// CronJob entry (hourly): queue a cycle for every active supplier, run the queue to empty, deliver, maintain, exit.
// Exits 1 when a job of this cycle failed for good.
//   node services/supplier-sync/src/cli.ts [--account ID] [--maintenance-only]
import { parseArgs } from 'node:util';
import { createLogger } from '@adsync/shared/logger';
import { createPostgres } from '@adsync/shared/db/postgres';
import { createClickHouse } from '@adsync/shared/db/clickhouse';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { secretBoxFromEnv } from '@adsync/shared/crypto/secret-box';
import { loadSupplierConfig, realBaseUrl } from './config.ts';
import { startWorker } from './worker.ts';
import { createCycle } from './api.ts';
import { PRIORITY } from './job-queue.ts';
import { maintenance } from './maintenance.ts';
import { DEFAULT_HTTP_POLICY } from './connectors/http.ts';

const { values } = parseArgs({ options: { account: { type: 'string' }, 'maintenance-only': { type: 'boolean', default: false } } });
const cfg = loadSupplierConfig();
const log = createLogger({ name: 'supplier-sync-cli', level: cfg.LOG_LEVEL });
const db = createPostgres({ url: cfg.DATABASE_URL, applicationName: 'adsync-supplier-sync-cli' });
const ch = await createClickHouse({ url: cfg.CLICKHOUSE_URL, database: cfg.CLICKHOUSE_DATABASE, application: 'adsync-supplier-sync-cli', username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD });
let code: number;
try {
  await migratePostgres(db);
  await migrateClickHouse(ch);
  let jobIds: string[] = [];
  if (!values['maintenance-only']) {
    jobIds = (await createCycle(db, { accountId: values.account, priority: PRIORITY.scheduled, trigger: 'cron' })).map((j) => j.id);
    const base = (kind: string) => realBaseUrl(kind, kind === 'bigbuy' ? cfg.BIGBUY_BASE_URL : cfg.ALIEXPRESS_BASE_URL);
    const worker = await startWorker({ db, ch, box: secretBoxFromEnv(cfg), log, bus: null, supplierBaseUrl: base, policy: DEFAULT_HTTP_POLICY, leaseMs: cfg.SUPPLIER_LEASE_MS, tickMs: 3_600_000, retryBackoff: { baseMs: 1_000, maxMs: 30_000 } });
    // Run until this cycle's jobs are finished (retries included).
    for (;;) {
      await worker.drain();
      const open = await db('import_jobs').whereIn('id', jobIds).whereIn('status', ['pending', 'running']).count<{ c: string }[]>('* as c');
      if (Number(open[0]!.c) === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await worker.stop();
  }
  const m = await maintenance(db, ch);
  const failed = await db('import_jobs').whereIn('id', jobIds).where({ status: 'failed' }).select('id', 'job_type', 'error');
  console.log(JSON.stringify({ jobs: jobIds.length, failed, maintenance: m }, null, 2));
  code = failed.length ? 1 : 0;
} catch (err) {
  log.error({ err }, 'supplier cycle failed');
  console.error(`supplier cycle failed: ${(err as Error).message}`);
  code = 2;
} finally {
  await db.destroy();
  await ch.close();
}
process.exit(code);
