import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from './retry-after.ts';

test('Retry-After in seconds', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('0'), 0);
  assert.equal(parseRetryAfter('1.5'), 1500);
});

test('Retry-After as an HTTP date is relative to now, never negative', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');
  assert.equal(parseRetryAfter('Mon, 23 Nov 2026 10:00:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:59:00 GMT', now), 0);
});

test('absent or garbage Retry-After is null', () => {
  assert.equal(parseRetryAfter(undefined), null);
  assert.equal(parseRetryAfter(''), null);
  assert.equal(parseRetryAfter('soon'), null);
});
