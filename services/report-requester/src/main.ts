// report-requester: plans and requests reports (HTTP trigger); its outbox carries report.requested to the poller.
import { runService } from '@adsync/shared/runtime/service';
import { requesterConfigShape } from './config.ts';
import { registerRequesterApi } from './api.ts';

await runService({
  name: 'report-requester',
  config: requesterConfigShape,
  needs: { kafka: true, amazon: true },
  listen: (cfg) => ({ host: cfg.REPORT_REQUESTER_HOST, port: cfg.REPORT_REQUESTER_PORT }),
  start: (rt, app) => {
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
