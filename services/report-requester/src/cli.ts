// CronJob entry: plan and request reports for every active profile (or one), relay the events, exit.
//   node services/report-requester/src/cli.ts [--profile ID] [--backfill-days N] [--report-types a,b]
// Exits 1 when any report could not be requested.
import { parseArgs } from 'node:util';
import { runTask } from '@adsync/shared/runtime/service';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { loadRequesterConfig, requesterConfigShape } from './config.ts';

const { values } = parseArgs({
  options: { profile: { type: 'string' }, 'backfill-days': { type: 'string' }, 'report-types': { type: 'string' } },
});
if (values['report-types']) process.env.REPORT_TYPES = values['report-types'];
loadRequesterConfig(); // fail fast on a bad --report-types, before connecting anywhere

await runTask({
  name: 'report-requester-cli',
  config: requesterConfigShape,
  needs: { kafka: true, amazon: true },
  run: async (rt) => {
    const summary = await requestReports(
      { db: rt.db, clients: rt.clients, log: rt.log },
      {
        profileIds: values.profile ? [values.profile] : undefined,
        reportTypes: rt.cfg.REPORT_TYPES,
        tiers: rt.cfg.REPORT_TIERS,
        backfillDays: values['backfill-days'] ? Number(values['backfill-days']) : undefined,
        concurrency: rt.cfg.REPORT_PROFILE_CONCURRENCY,
        dspFormat: rt.cfg.DSP_REPORT_FORMAT,
      },
    );
    await rt.relay();
    console.log(JSON.stringify(summary, null, 2));
    return summary.failed.length > 0 ? 1 : 0;
  },
});
