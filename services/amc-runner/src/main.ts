// amc-runner: AMC executions of saved workflows (HTTP), carried to completion by a background tick.
import { runService } from '@adsync/shared/runtime/service';
import { amcConfigShape } from './config.ts';
import { registerAmcApi } from './api.ts';
import { amcTick, STATUS_QUEUE } from './executions.ts';

await runService({
  name: 'amc-runner',
  config: amcConfigShape,
  needs: { clickhouse: true, amazon: true },
  queues: { amc_executions: STATUS_QUEUE },
  listen: (cfg) => ({ host: cfg.AMC_RUNNER_HOST, port: cfg.AMC_RUNNER_PORT }),
  start: (rt, app) => {
    const deps = {
      db: rt.db,
      ch: rt.ch,
      clients: rt.clients,
      log: rt.log,
      defaultWindowDays: rt.cfg.AMC_DEFAULT_WINDOW_DAYS,
      executionTimeoutMs: rt.cfg.AMC_EXECUTION_TIMEOUT_MS,
    };
    registerAmcApi(app, deps);
    rt.loop({
      name: 'executions',
      intervalMs: rt.cfg.AMC_POLL_INTERVAL_MS,
      tick: () => amcTick(deps, { maxPolls: 50, minSpacingMs: rt.cfg.AMC_POLL_MIN_SPACING_MS }),
    });
  },
});
