// amc-runner: saved AMC workflows and their schedules, and every execution (on demand, a schedule's own runs,
// re-runs over data gaps) carried to completion and loaded by a background tick.
import { runService } from '@adsync/shared/runtime/service';
import { amcConfigShape } from './config.ts';
import { registerAmcRoutes } from './routes.ts';
import { driftTick } from './dashboard-api.ts';
import { amcTick, STATUS_QUEUE } from './executions.ts';
import { amcWorkDueIn } from './work-due.ts';

await runService({
  name: 'amc-runner',
  config: amcConfigShape,
  needs: { clickhouse: true, amazon: true },
  queues: { amc_executions: STATUS_QUEUE },
  listen: (cfg) => ({ host: cfg.AMC_RUNNER_HOST, port: cfg.AMC_RUNNER_PORT }),
  start: (rt, app) => {
    const { cfg, db, ch, clients, log } = rt;
    const dashboard = { db, ch, clients, log, file: cfg.AMC_DASHBOARD_FILE };
    const deps = {
      db,
      ch,
      clients,
      log,
      defaultWindowDays: cfg.AMC_DEFAULT_WINDOW_DAYS,
      executionTimeoutMs: cfg.AMC_EXECUTION_TIMEOUT_MS,
      gapRecheckMs: cfg.AMC_GAP_RECHECK_MS,
      gapMaxWaitMs: cfg.AMC_GAP_MAX_WAIT_MS,
      onCompleted: () => driftTick(dashboard, { driftCheck: false }),
      submitRetryMs: cfg.AMC_POLL_MIN_SPACING_MS,
    };
    registerAmcRoutes(app, { ...deps, dashboardFile: cfg.AMC_DASHBOARD_FILE });
    // Woken by an execution or schedule recorded on any replica (NOTIFY); otherwise it sleeps until an
    // execution's next status check, or AMC's next look for schedule-started runs while schedules exist.
    rt.loop({
      name: 'executions',
      tick: () => amcTick(deps, { maxPolls: 50, minSpacingMs: cfg.AMC_POLL_MIN_SPACING_MS }),
      wakeOn: ['amc_executions', 'amc_schedules'],
      due: () => amcWorkDueIn(db, cfg.AMC_POLL_INTERVAL_MS),
    });
    rt.loop({ name: 'drift', intervalMs: cfg.AMC_DRIFT_CHECK_INTERVAL_MS, tick: () => driftTick(dashboard) });
  },
});
