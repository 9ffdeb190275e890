import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillsFor, daysIn, grid, stateOf } from '../web/src/completeness.ts';

test('the grid: a row per owner and report type with a gap, each day loaded unless the gaps name it', () => {
  const rows = grid(
    [
      { profileId: 'p1', reportType: 'spCampaigns', day: '2026-11-02', kind: 'never_requested', reason: 'no report' },
      { profileId: 'p1', reportType: 'spCampaigns', day: '2026-11-03', kind: 'in_progress', reason: 'report PENDING' },
      {
        profileId: '',
        dspAccountId: 'a9',
        reportType: 'dspCampaign',
        day: '2026-11-01',
        kind: 'advertiser_inaccessible',
        reason: 'Not authorized',
      },
      // A mismatch beside a missing day: the state a backfill mends wins.
      {
        profileId: 'p1',
        reportType: 'spCampaigns',
        day: '2026-11-03',
        kind: 'stream_mismatch',
        reason: 'hours differ',
      },
    ],
    '2026-11-01',
    '2026-11-03',
  );
  assert.deepEqual(
    rows.map((r) => [r.owner, r.reportType, r.cells.map((c) => c.state)]),
    [
      ['dsp:a9', 'dspCampaign', ['refused', 'loaded', 'loaded']],
      ['p1', 'spCampaigns', ['loaded', 'missing', 'mismatch']],
    ],
  );
  assert.equal(rows[1]!.cells[2]!.reason, 'hours differ');
  assert.deepEqual(daysIn('2026-02-27', '2026-03-01'), ['2026-02-27', '2026-02-28', '2026-03-01']);
  assert.equal(stateOf('failed'), 'failed');
  assert.equal(stateOf('empty'), 'missing');
});

test('a selection becomes one backfill per owner, type and run of consecutive days: never a day not chosen', () => {
  assert.deepEqual(
    backfillsFor([
      { profileId: 'p1', dspAccountId: '', reportType: 'spCampaigns', day: '2026-11-05' },
      { profileId: 'p1', dspAccountId: '', reportType: 'spCampaigns', day: '2026-11-02' },
      { profileId: 'p1', dspAccountId: '', reportType: 'spCampaigns', day: '2026-11-01' },
      { profileId: '', dspAccountId: 'a9', reportType: 'dspGeo', day: '2026-11-03' },
    ]),
    [
      { profileId: 'p1', reportTypes: ['spCampaigns'], from: '2026-11-01', to: '2026-11-02' },
      { profileId: 'p1', reportTypes: ['spCampaigns'], from: '2026-11-05', to: '2026-11-05' },
      { dspAccountId: 'a9', reportTypes: ['dspGeo'], from: '2026-11-03', to: '2026-11-03' },
    ],
  );
});
