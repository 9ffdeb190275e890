import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runErrors, withChoice } from '../web/src/account.ts';

test('withChoice: unticking leaves the id out, ticking brings it back, other fields stay', () => {
  const base = { accessLevel: 'view', excludeProfileIds: ['1'] };
  assert.deepEqual(withChoice(base, 'dspAdvertiser', '9', false), {
    accessLevel: 'view',
    excludeProfileIds: ['1'],
    excludeDspAdvertiserIds: ['9'],
  });
  assert.deepEqual(withChoice(base, 'profile', '2', false), { accessLevel: 'view', excludeProfileIds: ['1', '2'] });
  // The last one brought back drops the field (an empty list is not sent).
  assert.deepEqual(withChoice(base, 'profile', '1', true), { accessLevel: 'view' });
  assert.deepEqual(withChoice(undefined, 'profile', '1', false), { excludeProfileIds: ['1'] });
});

test('withChoice: with an include list, ticking an id it lacks adds it there (the list syncs only what it names)', () => {
  const base = { includeDspAdvertiserIds: ['7'] };
  assert.deepEqual(withChoice(base, 'dspAdvertiser', '8', true), { includeDspAdvertiserIds: ['7', '8'] });
  assert.deepEqual(withChoice(base, 'dspAdvertiser', '7', true), base);
  // Unticking keeps the include list and excludes the id.
  assert.deepEqual(withChoice(base, 'dspAdvertiser', '7', false), {
    includeDspAdvertiserIds: ['7'],
    excludeDspAdvertiserIds: ['7'],
  });
});

test("runErrors: the run's error, then each stage's failures and skips with their reason", () => {
  assert.equal(
    runErrors({
      error: 'reports: 1 failed',
      stages: {
        profiles: {
          status: 'done',
          failed: [{ accountId: 'a', reason: 'Login with Amazon refused the refresh token' }],
        },
        entities: {
          status: 'done',
          failed: 0,
          skipped: [{ accountId: 'a', reason: "Amazon refused the account's login" }],
        },
        reports: { status: 'done', failed: [] },
      },
    }),
    "reports: 1 failed; profiles: Login with Amazon refused the refresh token; entities: Amazon refused the account's login",
  );
  assert.equal(runErrors({ error: null, stages: { profiles: { status: 'done' } } }), '');
});
