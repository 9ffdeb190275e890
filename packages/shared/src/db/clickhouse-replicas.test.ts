// Cluster mode (CLICKHOUSE_CLUSTER) on a real two-replica ClickHouse 18.16 sharing Debian's
// ZooKeeper (testing/clickhouse-cluster.ts): the migrations apply ON CLUSTER with Replicated
// engines, a second start through the other replica applies nothing, what one replica loads the
// other serves, the restatement delete reaches both, and with a replica killed the client's
// other URL carries on; the killed replica catches up when it returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createClient } from '@clickhouse/client';
import { startClickHouseCluster, type ClickHouseCluster } from '../testing/clickhouse-cluster.ts';
import { createClickHouse, type ClickHouse } from './clickhouse.ts';
import { migrateClickHouse } from './migrations.ts';
import { eventually, uniqueName } from '../testing/test-stack.ts';
import { insertFacts, removeRestatedRows } from '../reports/ads-metrics.ts';

let cluster: ClickHouseCluster;
let ch: ClickHouse;
const database = uniqueName('adsync_cluster').replace(/[^A-Za-z0-9_]/g, '_');

before(async () => {
  cluster = await startClickHouseCluster();
  ch = await createClickHouse({
    url: cluster.urls.join(','),
    cluster: cluster.cluster,
    database,
    application: 'cluster-test',
  });
});

after(async () => {
  await ch?.close();
  await cluster?.stop();
});

/** One replica alone, to see what it holds. */
async function onReplica<T>(n: number, query: string): Promise<T[]> {
  const c = createClient({ url: cluster.urls[n - 1], database });
  try {
    const rs = await c.query({ query, format: 'JSONEachRow' });
    return await rs.json<T>();
  } finally {
    await c.close();
  }
}

const sums = (n: number, final: boolean) =>
  onReplica<{ rows: string; impressions: string }>(
    n,
    `SELECT count() AS rows, sum(impressions) AS impressions FROM ads_metrics_daily ${final ? 'FINAL' : ''} WHERE profile_id = 'p1'`,
  ).then(([r]) => ({ rows: Number(r!.rows), impressions: Number(r!.impressions) }));

/** spCampaigns rows of profile p1 on 2026-11-01, one per campaign id, at a pull version. */
function rows(version: number, campaigns: string[], impressions: number) {
  const columns = [
    'profile_id',
    'report_type',
    'entity_level',
    'entity_id',
    'search_term',
    'date',
    'campaign_id',
    'impressions',
    'version',
  ];
  const text = campaigns
    .map((c) => ['p1', 'spCampaigns', 'campaign', c, '', '2026-11-01', c, impressions, version].join('\t') + '\n')
    .join('');
  return { columns, text };
}

test('the migrations apply ON CLUSTER: every table on both replicas, replicated, recorded once', async () => {
  const report = await migrateClickHouse(ch);
  assert.ok(report.applied.length >= 13, report.applied.join(' '));
  const tables = (n: number) =>
    onReplica<{ name: string; engine: string }>(
      n,
      `SELECT name, engine FROM system.tables WHERE database = '${database}' ORDER BY name`,
    );
  const one = await tables(1);
  assert.deepEqual(await tables(2), one, 'the same tables on both replicas');
  for (const t of one)
    assert.ok(t.engine === 'View' || /^Replicated\w*MergeTree$/.test(t.engine), `${t.name} is ${t.engine}`);
  assert.ok(one.some((t) => t.name === 'ads_metrics_daily' && t.engine === 'ReplicatedReplacingMergeTree'));
  // Columns added by later migrations (0006, 0011, 0013) reached the other replica through ZooKeeper.
  const columns = (n: number) =>
    onReplica<{ n: string }>(
      n,
      `SELECT count() AS n FROM system.columns WHERE database = '${database}' AND table = 'dsp_metrics_daily'`,
    );
  assert.deepEqual(await columns(2), await columns(1));
  const recorded = await eventually(
    async () => {
      const r = await onReplica<{ n: string }>(2, 'SELECT count() AS n FROM schema_migrations');
      return Number(r[0]!.n) === report.applied.length ? r : undefined;
    },
    { what: 'the record of migrations on replica 2' },
  );
  assert.ok(recorded);
  // A service starting against the other replica finds everything applied.
  const other = await createClickHouse({
    url: cluster.urls[1]!,
    cluster: cluster.cluster,
    database,
    application: 'cluster-test',
  });
  try {
    assert.deepEqual((await migrateClickHouse(other)).applied, []);
  } finally {
    await other.close();
  }
});

test('what one replica loads the other serves, and a restated slice is the latest pull on both, with FINAL and without', async () => {
  const first = rows(1000, ['c1', 'c2', 'c3'], 10);
  await insertFacts(ch, 'ads_metrics_daily', Readable.from([first.text]), first.columns, ch.queryId('t'));
  await eventually(async () => ((await sums(2, true)).rows === 3 ? true : undefined), {
    what: 'replica 2 has the first pull',
  });
  // The re-pull no longer has c3.
  const second = rows(2000, ['c1', 'c2'], 20);
  await insertFacts(ch, 'ads_metrics_daily', Readable.from([second.text]), second.columns, ch.queryId('t'));
  const removed = await removeRestatedRows(ch, [
    {
      table: 'ads_metrics_daily',
      owner: { profileId: 'p1' },
      reportType: 'spCampaigns',
      startDate: '2026-11-01',
      endDate: '2026-11-01',
      version: 2000,
    },
  ]);
  assert.deepEqual(
    removed.map((r) => r.rows),
    [1],
    'one row the re-pull no longer has',
  );
  for (const n of [1, 2])
    for (const final of [true, false])
      assert.deepEqual(
        await eventually(
          async () => {
            const s = await sums(n, final);
            return s.rows === 2 ? s : undefined;
          },
          { what: `replica ${n} ${final ? 'with' : 'without'} FINAL` },
        ),
        { rows: 2, impressions: 40 },
      );
});

test('with a replica killed, the other URL carries reads and writes; the killed one catches up when it returns', async () => {
  cluster.kill(1);
  // The negative control: a client that knows replica 1 alone cannot even start.
  await assert.rejects(
    createClickHouse({ url: cluster.urls[0]!, cluster: cluster.cluster, database, application: 'cluster-test' }),
    (err: Error) => /ECONNREFUSED|ECONNRESET|socket hang up/i.test(`${err.message} ${(err as { code?: string }).code}`),
  );
  // A service starting now (both URLs, nothing to migrate) starts: nothing waits on the dead replica.
  const started = Date.now();
  const late = await createClickHouse({
    url: cluster.urls.join(','),
    cluster: cluster.cluster,
    database,
    application: 'cluster-test',
  });
  try {
    assert.deepEqual((await migrateClickHouse(late)).applied, []);
  } finally {
    await late.close();
  }
  assert.ok(Date.now() - started < 20_000, `started in ${Date.now() - started} ms with a replica down`);
  const third = rows(3000, ['c1', 'c2', 'c4'], 30);
  // The first call finds replica 1 gone and fails as an outage (callers retry those); the next goes to replica 2.
  await eventually(
    async () => {
      try {
        await insertFacts(ch, 'ads_metrics_daily', Readable.from([third.text]), third.columns, ch.queryId('t'));
        return true;
      } catch (err) {
        assert.equal(
          (err as { retriable?: boolean }).retriable,
          true,
          `an outage, not a refusal: ${(err as Error).message}`,
        );
        return undefined;
      }
    },
    { what: 'an insert with replica 1 dead', timeoutMs: 30_000 },
  );
  const rs = await ch.client.query({
    query: "SELECT count() AS n FROM ads_metrics_daily FINAL WHERE profile_id = 'p1'",
    format: 'JSONEachRow',
  });
  assert.deepEqual(await rs.json(), [{ n: '3' }]);
  await cluster.start(1);
  assert.deepEqual(
    await eventually(
      async () => {
        const s = await sums(1, true);
        return s.rows === 3 ? s : undefined;
      },
      { what: 'replica 1 caught up', timeoutMs: 60_000 },
    ),
    { rows: 3, impressions: 90 },
  );
});
