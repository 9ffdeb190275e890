import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialState } from './account-clients.ts';

test('credentialState: none stored is not connected', () => {
  assert.deepEqual(credentialState(undefined), { state: 'not_connected', reason: null, since: null });
});

test('credentialState: stored without a refusal is connected since it was stored', () => {
  assert.deepEqual(
    credentialState({ updated_at: '2026-12-01T10:00:00Z', last_auth_error: null, last_auth_error_at: null }),
    { state: 'connected', reason: null, since: '2026-12-01T10:00:00.000Z' },
  );
});

test("credentialState: invalid_grant is an expired consent (LWA's error table), with Amazon's words", () => {
  const msg =
    'Login with Amazon refused the refresh token (400 invalid_grant: The request has an invalid grant parameter)';
  assert.deepEqual(
    credentialState({
      updated_at: '2026-12-01T10:00:00Z',
      last_auth_error: msg,
      last_auth_error_at: '2026-12-02T08:00:00Z',
    }),
    { state: 'expired', reason: msg, since: '2026-12-02T08:00:00.000Z' },
  );
});

test('credentialState: any other refusal (a wrong client secret) is refused', () => {
  const msg = 'Login with Amazon refused the refresh token (401 invalid_client: Client authentication failed)';
  const s = credentialState({ updated_at: '2026-12-01T10:00:00Z', last_auth_error: msg, last_auth_error_at: null });
  assert.equal(s.state, 'refused');
  assert.equal(s.reason, msg);
  assert.equal(s.since, '2026-12-01T10:00:00.000Z');
});
