// kafkajs 2.2.4 is patched (patches/kafkajs@2.2.4.patch): its request queue re-armed a timer of
// negative delay every millisecond while nothing was pending, for every broker connection, which
// was most of an idle service's CPU (tulios/kafkajs#1556). These hold the patch in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (o: {
  maxInFlightRequests: number | null;
  requestTimeout: number;
  clientId: string;
  broker: string;
  logger: unknown;
}) => RequestQueue;

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () =>
  new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, clientId: 't', broker: 'b', logger: silent });

test('an idle kafkajs request queue arms no timer', () => {
  const q = queue();
  q.scheduleCheckPendingRequests();
  assert.equal(q.throttleCheckTimeoutId, null, 'nothing pending and no throttle: nothing to check later');
});

test('a kafkajs request queue still checks again while a request waits or a throttle runs', () => {
  const q = queue();
  q.pending.push({});
  q.scheduleCheckPendingRequests();
  assert.notEqual(q.throttleCheckTimeoutId, null, 'a pending request is checked again');
  clearTimeout(q.throttleCheckTimeoutId!);

  const t = queue();
  t.throttledUntil = Date.now() + 60_000;
  t.scheduleCheckPendingRequests();
  assert.notEqual(t.throttleCheckTimeoutId, null, 'a throttle is waited out');
  clearTimeout(t.throttleCheckTimeoutId!);
});
