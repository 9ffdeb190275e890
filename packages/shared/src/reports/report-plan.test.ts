import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIERS, localToday, parseTiers, planBackfill, planReports, splitWindow } from './report-plan.ts';

const now = new Date('2026-11-23T12:00:00Z');
const today = '2026-11-23';

test('first run: the 42-day lookback covers the 3-day tier; day 7 too; windows stay within 31 days', () => {
  const plan = planReports({
    today,
    now,
    reportTypes: ['spCampaigns'],
    tiers: DEFAULT_TIERS,
    lastRequested: () => null,
  });
  assert.deepEqual(plan, [
    { reportTypeId: 'spCampaigns', startDate: '2026-10-12', endDate: '2026-11-11', tier: 'lookback' },
    { reportTypeId: 'spCampaigns', startDate: '2026-11-12', endDate: '2026-11-22', tier: 'lookback' },
  ]);
});

test('a normal day: the last 3 days and day 7 are re-pulled; the weekly lookback waits', () => {
  const yesterday = new Date(now.getTime() - 86_400_000);
  const plan = planReports({
    today,
    now,
    reportTypes: ['spCampaigns'],
    tiers: DEFAULT_TIERS,
    lastRequested: (_t, tier) => (tier === 'lookback' ? new Date(now.getTime() - 3 * 86_400_000) : yesterday),
  });
  assert.deepEqual(plan, [
    { reportTypeId: 'spCampaigns', startDate: '2026-11-20', endDate: '2026-11-22', tier: 'recent' },
    { reportTypeId: 'spCampaigns', startDate: '2026-11-16', endDate: '2026-11-16', tier: 'day7' },
  ]);
});

test('nothing is due twice on the same day', () => {
  const plan = planReports({
    today,
    now,
    reportTypes: ['spCampaigns'],
    tiers: DEFAULT_TIERS,
    lastRequested: () => new Date(now.getTime() - 3_600_000),
  });
  assert.deepEqual(plan, []);
});

test('a run early in the local day after one late the day before asks for the day in between, and only that', () => {
  // The last run was 8 hours ago, late on the 22nd (local): it asked up to the 21st.
  const plan = planReports({
    today,
    now,
    reportTypes: ['spCampaigns'],
    tiers: DEFAULT_TIERS,
    lastRequested: () => new Date(now.getTime() - 8 * 3_600_000),
    lastEnd: (_t, tier) => (tier === 'day7' ? '2026-11-15' : '2026-11-21'),
  });
  assert.deepEqual(plan, [
    { reportTypeId: 'spCampaigns', startDate: '2026-11-22', endDate: '2026-11-22', tier: 'recent' },
    { reportTypeId: 'spCampaigns', startDate: '2026-11-16', endDate: '2026-11-16', tier: 'day7' },
  ]);
  // And once those are asked for, nothing again the same day.
  const again = planReports({
    today,
    now,
    reportTypes: ['spCampaigns'],
    tiers: DEFAULT_TIERS,
    lastRequested: () => new Date(now.getTime() - 60_000),
    lastEnd: (_t, tier) => (tier === 'day7' ? '2026-11-16' : '2026-11-22'),
  });
  assert.deepEqual(again, []);
});

test("windows are clamped to the ad product's retention", () => {
  const plan = planBackfill(today, 120, ['sbCampaigns'], now);
  assert.equal(plan[0]!.startDate, '2026-09-25'); // 60 days of SB retention
  assert.ok(plan.every((p) => p.endDate <= '2026-11-22'));
});

test("retention counts from Amazon's (UTC) today when it is ahead of the profile's", () => {
  // 20:00 in Los Angeles on the 23rd is already the 24th in UTC: Amazon has dropped the 25 September.
  const lateEvening = new Date('2026-11-24T04:00:00Z');
  assert.equal(localToday('America/Los_Angeles', lateEvening), '2026-11-23');
  const plan = planBackfill('2026-11-23', 120, ['sbCampaigns'], lateEvening);
  assert.equal(plan[0]!.startDate, '2026-09-26');
  assert.equal(plan.at(-1)!.endDate, '2026-11-22', "the newest day is still the profile's yesterday");
});

test('split into 31-day windows exactly', () => {
  const w = splitWindow('2026-01-01', '2026-03-05');
  assert.deepEqual(
    w.map((x) => [x.startDate, x.endDate]),
    [
      ['2026-01-01', '2026-01-31'],
      ['2026-02-01', '2026-03-03'],
      ['2026-03-04', '2026-03-05'],
    ],
  );
});

test('tiers parse from configuration, with clear errors', () => {
  assert.deepEqual(
    parseTiers('recent:3-1:1,lookback:42-1:7').map((t) => t.name),
    ['recent', 'lookback'],
  );
  assert.throws(() => parseTiers('recent:1-3:1'), /fromDaysAgo must be >= toDaysAgo/);
  assert.throws(() => parseTiers('nonsense'), /is not name:fromDaysAgo/);
});

test("today is the profile's local date", () => {
  const late = new Date('2026-11-23T02:00:00Z');
  assert.equal(localToday('America/Los_Angeles', late), '2026-11-22');
  assert.equal(localToday('Asia/Tokyo', late), '2026-11-23');
});
