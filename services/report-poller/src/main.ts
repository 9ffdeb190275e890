// report-poller: polls pending reports in bounded ticks (when one is requested or due), reconciles
// each loaded report against its ad product's others, and serves the reports API.
import { runService } from '@adsync/shared/runtime/service';
import { pollerConfigShape } from './config.ts';
import { pollTick } from './poll-tick.ts';
import { registerReportsApi } from './api.ts';
import { reconcile } from './reconciliation.ts';
import { POLL_QUEUE } from '@adsync/shared/reports/pending-reports';
import { nextDueIn } from '@adsync/shared/runtime/work-queue';

await runService({
  name: 'report-poller',
  config: pollerConfigShape,
  needs: { kafka: true, amazon: true, clickhouse: true },
  queues: { reports_in_flight: POLL_QUEUE },
  listen: (cfg) => ({ host: cfg.REPORT_POLLER_HOST, port: cfg.REPORT_POLLER_PORT }),
  start: async (rt, app) => {
    const { POLL_MAX_REPORTS: maxReports, POLL_MIN_SPACING_MS: minSpacingMs, POLL_MAX_ATTEMPTS: maxPolls } = rt.cfg;
    const poll = { maxReports, minSpacingMs, maxPolls };
    // Ticks when a report is requested (NOTIFY on pending_amazon_reports) and when the next one is due.
    const poller = rt.loop({
      name: 'poll',
      tick: async () => {
        const r = await pollTick({ db: rt.db, clients: rt.clients, log: rt.log }, poll);
        if (r.completed) await rt.relay();
        if (r.claimed) rt.log.info(r, 'poll tick');
        return r;
      },
      wakeOn: ['pending_amazon_reports'],
      due: () => nextDueIn(rt.db, POLL_QUEUE),
    });
    // report.requested wakes it too (the event a request announces; NOTIFY needs Postgres's LISTEN).
    await rt.consume({
      topic: 'report.requested',
      groupId: 'adsync.report-poller.wakeup',
      fromBeginning: false,
      handle: async () => poller.wake(),
    });
    // Each loaded report is checked against its ad product's other reports for campaigns Amazon left out.
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.report-poller.reconcile',
      handle: async (e) => void (await reconcile({ db: rt.db, ch: rt.ch }, e.value)),
    });
    registerReportsApi(app, { db: rt.db, poller });
  },
});
