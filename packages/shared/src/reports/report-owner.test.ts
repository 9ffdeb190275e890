import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerColumns, ownerKey, ownerOfRow } from './report-owner.ts';

test('a report owner is a profile or a DSP advertiser account, never both, and its key never mistakes one for the other', () => {
  assert.equal(ownerKey({ profileId: '123' }), '123');
  assert.equal(ownerKey({ dspAccountId: '123' }), 'dsp:123');
  assert.deepEqual(ownerOfRow({ profile_id: '1', dsp_account_id: null }), { profileId: '1' });
  assert.deepEqual(ownerOfRow({ profile_id: null, dsp_account_id: '9' }), { dspAccountId: '9' });
  assert.throws(() => ownerOfRow({ profile_id: null, dsp_account_id: null }), /neither/);
  assert.deepEqual(ownerColumns({ dspAccountId: '9' }), { profile_id: null, dsp_account_id: '9' });
  assert.deepEqual(ownerColumns({ profileId: '1' }), { profile_id: '1', dsp_account_id: null });
});
