/** The generated AMC dashboard over HTTP, and the slow loop that checks drift and rewrites the dashboard file. */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import { principalOf } from '@adsync/shared/http/server';
import { amcDashboard, workflowOutputs, writeAmcDashboard } from './amc-dashboard.ts';
import { checkDrift, instanceIdsWithWorkflows } from './workflows.ts';
import { instancesAmong } from './instances.ts';

export interface DashboardDeps {
  db: Knex;
  ch: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  /** Grafana provisioning file to keep current ('' for none). */
  file: string;
}

/** Checks every instance's workflows against AMC (unless told not to) and rewrites the dashboard file. */
export async function driftTick(deps: DashboardDeps, opts: { driftCheck?: boolean } = {}) {
  let drifted = 0;
  if (opts.driftCheck !== false) {
    for (const instance of await instancesAmong(deps.db, instanceIdsWithWorkflows(deps.db))) {
      try {
        const r = await checkDrift(deps.db, deps.clients, instance);
        drifted += r.drifted.length + r.missingAtAmc.length;
        if (r.drifted.length || r.missingAtAmc.length)
          deps.log.warn(
            {
              instanceId: r.instanceId,
              drifted: r.drifted.map((d) => d.workflowId),
              missingAtAmc: r.missingAtAmc,
            },
            "AMC's workflows differ from adsync's copies",
          );
      } catch (err) {
        deps.log.warn({ instanceId: instance.instance_id, err: (err as Error).message }, 'AMC drift check failed');
      }
    }
  }
  if (deps.file) await writeAmcDashboard(deps.file, deps.db, deps.ch);
  return { drifted };
}

export function registerDashboardApi(app: FastifyInstance, deps: DashboardDeps): void {
  app.get(
    '/v1/amc/dashboard',
    {
      schema: {
        summary: "A Grafana dashboard with a panel per saved workflow's latest results (an account key sees its own)",
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return amcDashboard(await workflowOutputs(deps.db, deps.ch, p.scope === 'account' ? p.accountId : undefined));
    },
  );
}
