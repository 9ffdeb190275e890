import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshClickHouse, freshPostgres } from '../testing/test-stack.ts';
import {
  migrateClickHouse,
  migratePostgres,
  readMigrations,
  rollbackPostgres,
  migrationLabel,
  MIGRATIONS_DIR,
} from './migrations.ts';
import { join } from 'node:path';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createPostgres } from './postgres.ts';
import { measureColumnsOf } from '../amazon/report-catalog.ts';

test('Postgres migrations run from an empty database, re-run as a no-op, and roll back', async () => {
  const pg = await freshPostgres();
  try {
    const files = readMigrations(join(MIGRATIONS_DIR, 'postgres'));
    const first = await migratePostgres(pg.db);
    assert.deepEqual(first.applied, files.map(migrationLabel));
    const second = await migratePostgres(pg.db);
    assert.deepEqual(second.applied, [], 're-run applies nothing');
    // Two runners racing (two replicas starting) apply each migration once.
    const pg2 = await freshPostgres();
    try {
      const [a, b] = await Promise.all([migratePostgres(pg2.db), migratePostgres(pg2.db)]);
      assert.equal(a.applied.length + b.applied.length, files.length);
    } finally {
      await pg2.drop();
    }
    const last = migrationLabel(files.at(-1)!);
    assert.deepEqual(await rollbackPostgres(pg.db, 1), [last]);
    assert.deepEqual((await migratePostgres(pg.db)).applied, [last], 'a rolled-back migration applies again');
    const tables = await pg.db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
    assert.ok(tables.includes('accounts') && tables.includes('api_keys'), `tables: ${tables}`);
  } finally {
    await pg.drop();
  }
});

test('ClickHouse migrations run from an empty database and re-run as a no-op', async () => {
  const ch = await freshClickHouse();
  try {
    const files = readMigrations(join(MIGRATIONS_DIR, 'clickhouse'));
    assert.deepEqual((await migrateClickHouse(ch.ch)).applied, files.map(migrationLabel));
    assert.deepEqual((await migrateClickHouse(ch.ch)).applied, []);
    const rs = await ch.ch.client.query({
      query: `SELECT name FROM system.tables WHERE database = '${ch.ch.database}'`,
      format: 'JSONEachRow',
    });
    const names = (await rs.json<{ name: string }>()).map((r) => r.name);
    assert.ok(names.includes('dead_letters'), `tables: ${names}`);
    // Every measure of the report catalogue has its column in the table its report type loads into.
    for (const table of [
      'ads_metrics_daily',
      'ads_purchased_products',
      'ads_traffic_quality',
      'dsp_metrics_daily',
    ] as const) {
      const cols = await ch.ch.client.query({
        query: `SELECT name, type FROM system.columns WHERE database = '${ch.ch.database}' AND table = '${table}'`,
        format: 'JSONEachRow',
      });
      const have = new Map((await cols.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
      const wanted = measureColumnsOf(table);
      assert.ok(wanted.length > 0, `${table} has measures`);
      const missing = wanted.filter((c) => !have.has(c));
      assert.deepEqual(missing, [], `${table} lacks catalogue columns`);
      for (const c of wanted) assert.match(have.get(c)!, /^U?Int64$/, `${table}.${c} holds whole numbers`);
    }
  } finally {
    await ch.drop();
  }
});

test('two processes migrating ClickHouse at once apply each migration once (a Postgres lock serialises them)', async () => {
  const ch = await freshClickHouse();
  const pg = await freshPostgres();
  // A second pool, as a second service starting at the same moment would have.
  const second = createPostgres({ url: pg.url, applicationName: 'adsync-test-second' });
  try {
    const files = readMigrations(join(MIGRATIONS_DIR, 'clickhouse'));
    const [a, b] = await Promise.all([
      migrateClickHouse(ch.ch, undefined, pg.db),
      migrateClickHouse(ch.ch, undefined, second),
    ]);
    assert.deepEqual(
      [...a.applied, ...b.applied].sort(),
      files.map(migrationLabel),
      'every migration applied exactly once between them',
    );
    const rs = await ch.ch.client.query({
      query: 'SELECT version, count() AS n FROM schema_migrations GROUP BY version HAVING n > 1',
      format: 'JSONEachRow',
    });
    assert.deepEqual(await rs.json(), [], 'no migration recorded twice');
  } finally {
    await second.destroy();
    await pg.drop();
    await ch.drop();
  }
});

test('0012 keys the creative rows stored before it with their line item, and leaves other types alone', async () => {
  // A creative can serve several line items, and Amazon reports a row for each (dspCampaign, audio and video).
  const ch = await freshClickHouse();
  const dir = join(MIGRATIONS_DIR, 'clickhouse');
  // The migrations released before a number, as a directory of their own.
  const upTo = (n: number) => {
    const d = mkdtempSync(join(tmpdir(), `adsync-ch-${n}-`));
    for (const f of readdirSync(dir)) if (Number(f.slice(0, 4)) < n) copyFileSync(join(dir, f), join(d, f));
    return d;
  };
  const [before, through12] = [upTo(12), upTo(13)];
  try {
    await migrateClickHouse(ch.ch, before);
    const row = (report_type: string, row_key: string, line_item_id: string, impressions: number) => ({
      profile_id: 'p1',
      advertiser_id: 'a1',
      report_type,
      entity_level: 'creative',
      row_key,
      date: '2026-11-20',
      line_item_id,
      impressions,
      pulled_at: '2026-11-21 00:00:00',
      version: 1,
    });
    await ch.ch.client.insert({
      table: 'dsp_metrics_daily',
      format: 'JSONEachRow',
      values: [
        row('dspCampaign', 'c1', 'l1', 5),
        row('dspCampaign', 'c2', 'l2', 7),
        row('dspAudioAndVideo', 'c1|s1|Title|VIDEO', 'l1', 3),
        row('dspReachFrequency', 'a1', '', 11),
        row('dspGeo', 'l1|US', 'l1', 13),
      ],
    });
    assert.deepEqual((await migrateClickHouse(ch.ch, through12)).applied, ['0012_dsp_creative_keys']);
    const keys = async () => {
      const rs = await ch.ch.client.query({
        query: `SELECT report_type, row_key, impressions FROM dsp_metrics_daily FINAL ORDER BY report_type, row_key`,
        format: 'JSONEachRow',
      });
      return (await rs.json<{ report_type: string; row_key: string; impressions: string }>()).map(
        (r) => `${r.report_type} ${r.row_key} ${r.impressions}`,
      );
    };
    const want = [
      'dspAudioAndVideo c1|s1|Title|VIDEO|l1 3',
      'dspCampaign c1|l1 5',
      'dspCampaign c2|l2 7',
      'dspGeo l1|US 13',
      'dspReachFrequency a1 11',
    ];
    // The old keys go by a mutation, which ClickHouse applies in the background.
    const deadline = Date.now() + 30_000;
    let got = await keys();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      got = await keys();
    }
    assert.deepEqual(got, want);
  } finally {
    for (const d of [before, through12]) rmSync(d, { recursive: true, force: true });
    await ch.drop();
  }
});
