import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctRefreshes } from './recent-metrics.ts';

test('a week of loaded reports refreshes each profile, level and report type once', () => {
  const loaded = (profileId: string, reportType: string, entityLevel: string, day: number) => ({
    profileId,
    reportType,
    entityLevel,
    startDate: `2026-11-0${day}`,
  });
  const week = [1, 2, 3, 4, 5, 6, 7].flatMap((d) => [
    loaded('1', 'spCampaigns', 'campaign', d),
    loaded('1', 'spTargeting', 'target', d),
    loaded('2', 'spCampaigns', 'campaign', d),
  ]);
  assert.deepEqual(
    distinctRefreshes(week).map((e) => `${e.profileId} ${e.reportType} ${e.entityLevel}`),
    ['1 spCampaigns campaign', '1 spTargeting target', '2 spCampaigns campaign'],
  );
  assert.deepEqual(distinctRefreshes([]), []);
});
