import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaleRow, steadyPlan } from './scale-model.ts';
import { DEFAULT_TIERS } from './report-plan.ts';

test('a steady day asks each type for the days its tiers are due: more than the daily tier alone, less than every tier every day', () => {
  const one = steadyPlan(['spCampaigns'], DEFAULT_TIERS);
  assert.ok(one.reports >= 1, `${one.reports} reports a day`);
  const everyTierDaily = DEFAULT_TIERS.reduce((n, t) => n + t.fromDaysAgo - t.toDaysAgo + 1, 0);
  assert.ok(one.reportDays > 1 && one.reportDays < everyTierDaily, `${one.reportDays} report-days a day`);
  const two = steadyPlan(['spCampaigns', 'sbCampaigns'], DEFAULT_TIERS);
  assert.equal(two.reports, one.reports * 2, 'types plan alike');
});

test('the model scales linearly in profiles and says what each part costs', () => {
  const inputs = {
    reportsPerProfileDay: 10,
    reportDaysPerProfileDay: 20,
    rowsPerReportDay: 100,
    pollsPerReport: 3,
    otherCallsPerProfileDay: 12,
    cpuSecPer1000Rows: { services: 0.05, stack: 0.05 },
    windowHours: 1,
    utilisation: 0.5,
  };
  const r = scaleRow(100, inputs);
  assert.deepEqual(r, {
    profiles: 100,
    reportsPerDay: 1000,
    amazonCallsPerDay: 1000 * 5 + 1200,
    reportCreatesPerSecond: 1000 / 3600,
    amazonCallsPerSecond: 6200 / 3600,
    rowsPerDay: 200_000,
    serviceCores: (200 * 0.05) / 3600 / 0.5,
    stackCores: (200 * 0.05) / 3600 / 0.5,
  });
  assert.equal(scaleRow(1000, inputs).rowsPerDay, 10 * r.rowsPerDay);
});
