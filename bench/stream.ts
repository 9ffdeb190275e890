/**
 * Marketing Stream benchmark, with its reference measured in the same run: messages per second
 * from the SQS queue to rows queryable in ClickHouse (stream-consumer's ingest: receive, parse,
 * normalise, insert, delete), next to receiving and deleting the same messages with the SQS
 * client alone (the practical limit of the queue), with as many receives in flight. Aim: half.
 *
 *   node bench/stream.ts      (needs `deploy/local/stack up`: ElasticMQ, Postgres, ClickHouse)
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { Dataset } from '@adsync/sandbox/dataset';
import { HOUR_MS, STREAM_DATASETS, hourRecords, type SplitCache } from '@adsync/sandbox/stream-data';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { freshClickHouse, freshPostgres, requireSqs, testLogger, uniqueName } from '@adsync/shared/testing/test-stack';
import { openQueue, type StreamQueue } from '@adsync/stream-consumer/queue';
import { ingestTick, ProfileMap } from '@adsync/stream-consumer/ingest';
import { sandboxSnsGate } from '@adsync/stream-consumer/sns-gate';
import { startSandbox } from '@adsync/sandbox';
import { signAsSns } from '@adsync/sandbox/sns-signing';

const RECEIVERS = 4;
const log = testLogger('bench');
const endpoint = await requireSqs();
const pg = await freshPostgres();
const ch = await freshClickHouse();
await migratePostgres(pg.db);
await migrateClickHouse(ch.ch);

// The same SNS-wrapped records the sandbox publishes: one profile, every dataset, hour after hour.
const ds = new Dataset(7, { profiles: 1, campaignsPerProfile: 12 });
const profile = ds.profiles()[0]!;
const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'bench' }).returning('id');
await pg.db('profiles').insert({
  profile_id: profile.profileId,
  account_id: accountId,
  country_code: profile.countryCode,
  currency_code: profile.currencyCode,
  timezone: profile.timezone,
  marketplace_id: profile.accountInfo.marketplaceStringId,
  amazon_account_id: profile.accountInfo.id,
});
// Every message is an SNS notification signed as SNS signs (the sandbox's test key), so verifying it is in what is measured.
const sandbox = await startSandbox({ scale: { profiles: 1 } });
const bodies: string[] = [];
const cache: SplitCache = new Map();
const start = Date.parse('2026-10-01T00:00:00Z');
for (let h = 0; bodies.length < 40_000 && h < 24 * 60; h++)
  for (const d of STREAM_DATASETS) {
    const b = hourRecords(ds, 0, d, start + h * HOUR_MS, true, cache);
    for (const r of [...b.originals, ...b.revisions])
      bodies.push(
        JSON.stringify(
          signAsSns(
            {
              Type: 'Notification',
              MessageId: randomUUID(),
              TopicArn: `arn:aws:sns:us-east-1:906013806264:${d}`,
              Message: JSON.stringify(r),
              Timestamp: new Date().toISOString(),
            },
            sandbox.url,
            '2',
          ),
        ),
      );
  }
const N = bodies.length;

async function filled(): Promise<StreamQueue> {
  const q = await openQueue({
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'local',
    secretAccessKey: 'local',
    name: uniqueName('bench').replace(/[^A-Za-z0-9_-]/g, '-'),
    create: true,
  });
  for (let k = 0; k < N; k += 10 * 20)
    await Promise.all(
      Array.from({ length: 20 }, (_, j) => bodies.slice(k + j * 10, k + j * 10 + 10))
        .filter((b) => b.length)
        .map((batch) =>
          q.client.send(
            new SendMessageBatchCommand({
              QueueUrl: q.url,
              Entries: batch.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
            }),
          ),
        ),
    );
  return q;
}

// The limit: receive and delete only, RECEIVERS receives in flight, as many messages.
const raw = await filled();
let rawDone = 0;
const rawStart = performance.now();
while (rawDone < N) {
  const got = (await Promise.all(Array.from({ length: RECEIVERS }, () => raw.receive(10, 0, 30)))).flat();
  if (got.length) await raw.remove(got);
  rawDone += got.length;
}
const rawSecs = (performance.now() - rawStart) / 1000;
raw.close();

// Ours: until every record is queryable in ClickHouse.
const ours = await filled();
const deps = {
  db: pg.db,
  ch: ch.ch,
  clients: null as never,
  log,
  queue: ours,
  queueName: 'bench',
  sns: sandboxSnsGate(sandbox.url),
};
const profiles = new ProfileMap(pg.db);
const count = async () =>
  Number(
    (
      await (
        await ch.ch.client.query({
          query: `SELECT (SELECT count() FROM stream_traffic_hourly) + (SELECT count() FROM stream_conversion_hourly) + (SELECT count() FROM stream_budget_usage) AS n`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>()
    )[0]!.n,
  );
let rss = process.memoryUsage().rss;
const oursStart = performance.now();
let handled = 0;
while (handled < N) {
  const r = await ingestTick(deps, profiles, { receivers: RECEIVERS, waitSeconds: 0, visibilitySec: 30 });
  handled += r.rows + r.deadLetters;
  rss = Math.max(rss, process.memoryUsage().rss);
}
const queryable = await count();
const oursSecs = (performance.now() - oursStart) / 1000;
ours.close();

const results = [
  {
    benchmark: 'SQS receive + delete (the limit)',
    messages: N,
    seconds: +rawSecs.toFixed(2),
    msgsPerSec: Math.round(N / rawSecs),
  },
  {
    benchmark: 'queue → queryable rows (stream-consumer)',
    messages: N,
    rows: queryable,
    seconds: +oursSecs.toFixed(2),
    msgsPerSec: Math.round(N / oursSecs),
    ratio: +(rawSecs / oursSecs).toFixed(2),
    peakRssMB: Math.round(rss / 1e6),
  },
];
console.table(results);
if (queryable !== N) console.error(`expected ${N} rows, found ${queryable}`);
await ch.drop();
await pg.drop();
await sandbox.close();
writeFileSync(join(tmpdir(), 'adsync-bench-stream.json'), JSON.stringify(results, null, 2));
process.exit(queryable === N ? 0 : 1);
