/** Every amc-runner route, registered in one place for the service, its tests and the cross-service suites. */
import type { FastifyInstance } from 'fastify';
import { registerAmcApi } from './api.ts';
import { registerWorkflowApi } from './workflow-api.ts';
import { registerScheduleApi } from './schedule-api.ts';
import { driftTick, registerDashboardApi } from './dashboard-api.ts';
import type { AmcDeps } from './executions.ts';

export function registerAmcRoutes(app: FastifyInstance, deps: AmcDeps & { dashboardFile?: string }): void {
  const dashboard = { ...deps, file: deps.dashboardFile ?? '' };
  registerAmcApi(app, deps);
  registerWorkflowApi(app, { ...deps, onChange: () => driftTick(dashboard, { driftCheck: false }) });
  registerScheduleApi(app, deps);
  registerDashboardApi(app, dashboard);
}
