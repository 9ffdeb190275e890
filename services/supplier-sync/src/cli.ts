// CronJob entry (hourly): queue a cycle for every active supplier, run the queue to empty, deliver, maintain, exit.
// Exits 1 when a job of this cycle failed for good.
//   node services/supplier-sync/src/cli.ts [--account ID] [--maintenance-only]
import { outboundTrustedOrigins } from '@adsync/shared/config/base-config';
import { destinationPolicies } from './deliveries.ts';
import { parseArgs } from 'node:util';
import { runTask } from '@adsync/shared/runtime/service';
import { supplierConfigShape, realBaseUrl } from './config.ts';
import { newWorkerId, workerTick } from './worker.ts';
import { createCycle } from './api.ts';
import { countUnfinishedJobs, findFailedJobs, PRIORITY } from './job-queue.ts';
import { maintenance } from './maintenance.ts';
import { DEFAULT_HTTP_POLICY } from './connectors/http.ts';

const { values } = parseArgs({
  options: { account: { type: 'string' }, 'maintenance-only': { type: 'boolean', default: false } },
});

await runTask({
  name: 'supplier-sync-cli',
  config: supplierConfigShape,
  needs: { clickhouse: true, kafka: true, secrets: true },
  run: async (rt) => {
    const cfg = rt.cfg;
    let jobIds: string[] = [];
    if (!values['maintenance-only']) {
      jobIds = (
        await createCycle(rt.db, { accountId: values.account, priority: PRIORITY.scheduled, trigger: 'cron' })
      ).map((j) => j.id);
      const base = (kind: string) =>
        realBaseUrl(kind, kind === 'bigbuy' ? cfg.BIGBUY_BASE_URL : cfg.ALIEXPRESS_BASE_URL);
      const work = {
        db: rt.db,
        ch: rt.ch,
        box: rt.box,
        log: rt.log,
        bus: rt.bus,
        supplierBaseUrl: base,
        policy: DEFAULT_HTTP_POLICY,
        leaseMs: cfg.SUPPLIER_LEASE_MS,
        retryBackoff: { baseMs: 1_000, maxMs: 30_000 },
        destinations: destinationPolicies(outboundTrustedOrigins(cfg)),
      };
      const id = newWorkerId();
      const never = new AbortController().signal;
      // Run until this cycle's jobs are finished (retries included).
      for (;;) {
        await workerTick(work, id, never);
        if ((await countUnfinishedJobs(rt.db, jobIds)) === 0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const m = await maintenance(rt.db, rt.ch);
    const failed = await findFailedJobs(rt.db, jobIds);
    console.log(JSON.stringify({ jobs: jobIds.length, failed, maintenance: m }, null, 2));
    return failed.length ? 1 : 0;
  },
});
