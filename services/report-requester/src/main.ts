// report-requester: plans and requests reports (HTTP trigger), and asks again for any whose asker died
// mid-request; its outbox carries report.requested to the poller.
import { runService } from '@adsync/shared/runtime/service';
import { nextDueIn } from '@adsync/shared/runtime/work-queue';
import { REQUEST_LEASE_MS, REQUEST_QUEUE } from '@adsync/shared/reports/pending-reports';
import { reaskLapsedRequests } from '@adsync/shared/reports/request-reports';
import { requesterConfigShape } from './config.ts';
import { registerRequesterApi } from './api.ts';

await runService({
  name: 'report-requester',
  config: requesterConfigShape,
  needs: { kafka: true, amazon: true },
  queues: { reports_requesting: REQUEST_QUEUE },
  listen: (cfg) => ({ host: cfg.REPORT_REQUESTER_HOST, port: cfg.REPORT_REQUESTER_PORT }),
  start: (rt, app) => {
    // Sleeps until the next hold lapses; a report recorded meanwhile (by entity-sync) is held for a
    // lease, so looking again once a lease is soon enough.
    rt.loop({
      name: 'reask',
      tick: () =>
        reaskLapsedRequests({ db: rt.db, clients: rt.clients, log: rt.log }, { dspFormat: rt.cfg.DSP_REPORT_FORMAT }),
      due: () => nextDueIn(rt.db, REQUEST_QUEUE),
      intervalMs: REQUEST_LEASE_MS,
    });
    registerRequesterApi(app, {
      db: rt.db,
      clients: rt.clients,
      log: rt.log,
      reportTypes: rt.cfg.REPORT_TYPES,
      tiers: rt.cfg.REPORT_TIERS,
      concurrency: rt.cfg.REPORT_PROFILE_CONCURRENCY,
      dspFormat: rt.cfg.DSP_REPORT_FORMAT,
      background: rt.background,
      relay: rt.relay,
    });
  },
});
