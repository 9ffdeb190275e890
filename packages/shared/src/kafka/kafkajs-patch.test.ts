// kafkajs 2.2.4 is patched (patches/kafkajs@2.2.4.patch): its request queue re-armed a timer of
// negative delay every millisecond while nothing was pending, for every broker connection, which
// was most of an idle service's CPU (tulios/kafkajs#1556); and its CRC-32C of every record batch
// went a byte at a time (about 4 % of the loader's profile), now eight at a time. These hold the
// patch in place. Its third part (a send retried after a leader dies reaches the new leader) needs
// a cluster: kafka-cluster.test.ts holds it.
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

/** CRC-32C bit by bit (reflected polynomial 0x82F63B78): the definition the fast one must match. */
function crc32cReference(b: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of b) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test("kafkajs's CRC-32C of a record batch is the standard one, at every length and alignment", async () => {
  const { randomBytes } = await import('node:crypto');
  const crc32C = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (
    b: Buffer,
  ) => number;
  // RFC 3720 (iSCSI) B.4's check value, and the empty buffer.
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32C(Buffer.alloc(0)), 0);
  for (let n = 1; n <= 300; n++) {
    const b = randomBytes(n + 3).subarray(n % 4); // not always at an 8-byte boundary of its memory
    assert.equal(crc32C(b), crc32cReference(b), `${b.length} bytes`);
  }
  const big = randomBytes(1 << 20);
  assert.equal(crc32C(big), crc32cReference(big));
});
