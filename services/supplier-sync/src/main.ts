// supplier-sync: the jobs API, the workers that job.created wakes, deliveries and maintenance.
import { outboundTrustedOrigins } from '@adsync/shared/config/base-config';
import { runService } from '@adsync/shared/runtime/service';
import { supplierConfigShape, realBaseUrl } from './config.ts';
import { newWorkerId, supplierWorkDueIn, workerTick } from './worker.ts';
import { registerSupplierApi } from './api.ts';
import { DEFAULT_HTTP_POLICY } from './connectors/http.ts';
import { JOB_QUEUE } from './job-queue.ts';
import { DELIVERY_QUEUES, destinationPolicies } from './deliveries.ts';

await runService({
  name: 'supplier-sync',
  config: supplierConfigShape,
  needs: { clickhouse: true, kafka: true, secrets: true },
  queues: { supplier_jobs: JOB_QUEUE, ...DELIVERY_QUEUES },
  listen: (cfg) => ({ host: cfg.SUPPLIER_SYNC_HOST, port: cfg.SUPPLIER_SYNC_PORT }),
  start: async (rt, app) => {
    const cfg = rt.cfg;
    const base = (kind: string) => realBaseUrl(kind, kind === 'bigbuy' ? cfg.BIGBUY_BASE_URL : cfg.ALIEXPRESS_BASE_URL);
    const work = {
      db: rt.db,
      ch: rt.ch,
      box: rt.box,
      log: rt.log,
      bus: rt.bus,
      supplierBaseUrl: base,
      policy: DEFAULT_HTTP_POLICY,
      leaseMs: cfg.SUPPLIER_LEASE_MS,
      retryBackoff: { baseMs: 5_000, maxMs: 600_000 },
      destinations: destinationPolicies(outboundTrustedOrigins(cfg)),
    };
    // Woken by a job or delivery committed to Postgres (NOTIFY) or job.created, or when the next retry is due.
    const workers = Array.from({ length: cfg.SUPPLIER_WORKERS }, () => newWorkerId()).map((id) =>
      rt.loop({
        name: `worker ${id}`,
        tick: (signal, beat) => workerTick(work, id, signal, beat),
        wakeOn: ['import_jobs', 'webhook_deliveries', 'marketplace_outbound'],
        due: () => supplierWorkDueIn(rt.db),
      }),
    );
    await rt.consume({
      topic: 'job.created',
      groupId: 'adsync.supplier-sync.workers',
      fromBeginning: false,
      handle: async () => workers.forEach((w) => w.wake()),
    });
    registerSupplierApi(app, { ...work, relay: rt.relay, maxAttempts: cfg.SUPPLIER_JOB_MAX_ATTEMPTS });
  },
});
