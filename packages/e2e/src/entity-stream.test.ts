// Marketing Stream's campaign management datasets on the real stack (datasets/sponsored-ads-
// campaign-management.md): subscribe to campaigns, ad groups, ads and targets; Amazon (the sandbox)
// changes a share of every kind and announces each change; one poll of the queue writes the
// changes into Postgres's entity tables; the next full sync (the Exports API) changes nothing.
// Records arrive at least once and in no order: an older one never overwrites a newer row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { applyStreamedEntities } from '@adsync/shared/entities/entity-store';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireSqs,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { discoverProfiles } from '@adsync/entity-sync/profiles';
import { syncProfiles } from '@adsync/entity-sync/sync-profiles';
import { sandboxSnsGate } from '@adsync/stream-consumer/sns-gate';
import type { StreamQueue } from '@adsync/stream-consumer/queue';
import { freshQueue } from '@adsync/stream-consumer/test-queue';
import { drainQueue, ingestTick, ProfileMap, type IngestDeps } from '@adsync/stream-consumer/ingest';
import { subscribe } from '@adsync/stream-consumer/subscriptions';
import { ENTITY_STREAM_DATASETS } from '@adsync/stream-consumer/entity-records';

let sandbox: Sandbox;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let clients: AmazonClients;
let queue: StreamQueue;
let deps: IngestDeps;
let profiles: ProfileMap;
let profileId: string;
const log = testLogger('entity-stream');

const TABLES = [
  ['entity_campaigns', 'campaign_id'],
  ['entity_ad_groups', 'ad_group_id'],
  ['entity_ads', 'ad_id'],
  ['entity_targets', 'target_id'],
] as const;

/** Every entity row of the profile, without the columns that say when adsync wrote it. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, id] of TABLES)
    out[table] = (await pg.db(table).where({ profile_id: profileId }).orderBy(id)).map(
      ({ synced_at: _s, recent_metrics: _m, recent_metrics_at: _a, ...row }) => row,
    );
  return out;
}

const fullSync = () =>
  syncProfiles(
    { db: pg.db, ch: ch.ch, clients, log, batchSize: 500, concurrency: 2, exportPollMs: 20 },
    { profileId, entity: 'all', mode: 'full', trigger: 'test' },
  );

before(async () => {
  const endpoint = await requireSqs();
  sandbox = await startSandbox({
    seed: 29,
    scale: { profiles: 1, campaignsPerProfile: 4, sbCampaignsPerProfile: 4, sdCampaignsPerProfile: 4 },
    sqsEndpoint: endpoint,
  });
  pg = await freshPostgres();
  ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const box = createSecretBox(randomBytes(32));
  const [{ id: accountId }] = await pg.db('accounts').insert({ company_name: 'entity stream' }).returning('id');
  await storeCredentials(pg.db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
  clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  await discoverProfiles(pg.db, await clients.forAccount(accountId), accountId);
  profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  queue = await freshQueue(endpoint, 'entity-stream');
  deps = { db: pg.db, ch: ch.ch, clients, log, queue, queueName: 'test', sns: sandboxSnsGate(sandbox.url) };
  profiles = new ProfileMap(pg.db);
});

after(async () => {
  await clients?.close();
  queue?.close();
  await closeThenDrop(sandbox, ch, pg);
});

test('a change Amazon announces is in Postgres after one poll of the queue, and the next full sync changes nothing', async () => {
  await fullSync();
  await subscribe(pg.db, clients, profileId, [...ENTITY_STREAM_DATASETS], queue.arn);
  await drainQueue(deps, profiles);
  const active = await pg.db('stream_subscriptions').where({ profile_id: profileId, status: 'ACTIVE' });
  assert.deepEqual(
    active.map((s) => s.dataset_id).sort(),
    [...ENTITY_STREAM_DATASETS].sort(),
    'subscriptions confirmed',
  );
  const synced = await snapshot();

  // Amazon changes a share of every kind (names, budgets, bids, states), each with a new update time.
  const answer = (await (
    await fetch(`${sandbox.url}/_sandbox/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fraction: 0.5, round: 1 }),
    })
  ).json()) as { changed: { kind: string; id: string; patch: Record<string, unknown> }[]; announced: number };
  const kinds = new Set(answer.changed.map((c) => c.kind));
  // SP's every kind, SB's campaigns, ad groups and keywords, SD's targets (this seed changes no SD campaign).
  for (const k of [
    'campaign',
    'ad_group',
    'ad',
    'keyword',
    'product_target',
    'sb_campaign',
    'sb_ad_group',
    'sb_keyword',
    'sd_target',
  ])
    assert.ok(kinds.has(k), `a ${k} changed`);
  assert.equal(answer.announced, answer.changed.length, 'every change announced on its dataset');

  // One poll: receives enough for every message at once.
  const tick = await ingestTick(deps, profiles, { receivers: 10, waitSeconds: 1, visibilitySec: 30 });
  assert.equal(tick.deadLetters, 0);
  assert.equal(tick.entities, answer.announced, 'one poll took every announcement');
  const streamed = await snapshot();
  const row = (table: string, idCol: string, id: string) =>
    streamed[table]!.find((r) => (r as Record<string, unknown>)[idCol] === id) as Record<string, unknown>;
  const micros = (v: unknown) => Math.round(Number(v) * 1e6);
  for (const c of answer.changed) {
    const [table, idCol] = c.kind.includes('campaign')
      ? TABLES[0]
      : c.kind.includes('ad_group')
        ? TABLES[1]
        : c.kind === 'ad'
          ? TABLES[2]
          : TABLES[3];
    const r = row(table, idCol, c.id);
    assert.ok(r, `${c.kind} ${c.id} is stored`);
    if ('name' in c.patch) assert.equal(r.name, c.patch.name, `${c.kind} ${c.id}: name`);
    if ('budget' in c.patch) assert.equal(Number(r.budget_micros), micros(c.patch.budget), `${c.kind} ${c.id}: budget`);
    if ('defaultBid' in c.patch)
      assert.equal(Number(r.default_bid_micros), micros(c.patch.defaultBid), `${c.kind} ${c.id}: default bid`);
    if ('bid' in c.patch) assert.equal(Number(r.bid_micros), micros(c.patch.bid), `${c.kind} ${c.id}: bid`);
    if ('state' in c.patch) assert.equal(r.state, c.patch.state, `${c.kind} ${c.id}: state`);
  }
  assert.notDeepEqual(streamed, synced, 'the stream changed the tables');

  // The next full sync reads the Exports API: it finds every row as the stream left it.
  await fullSync();
  assert.deepEqual(await snapshot(), streamed, 'the full sync changed nothing');
  // Nothing is left on the queue.
  await eventually(
    async () =>
      (await ingestTick(deps, profiles, { receivers: 1, waitSeconds: 0, visibilitySec: 30 })).entities === 0
        ? true
        : undefined,
    {
      what: 'the queue empty',
      timeoutMs: 10_000,
    },
  );
});

test('records come at least once and in no order: the same one twice changes nothing, an older one never overwrites a newer row', async () => {
  const [campaign] = await pg.db('entity_campaigns').where({ profile_id: profileId }).orderBy('campaign_id').limit(1);
  assert.ok(campaign);
  const at = (iso: string) => ({ ...campaign, amazon_updated_at: iso });
  const newer = { ...at('2031-01-02T00:00:00.000Z'), name: 'newer', budget_micros: 42_000_000, bidding: null };
  const older = { ...at('2031-01-01T00:00:00.000Z'), name: 'older', budget_micros: 1_000_000, bidding: null };
  await applyStreamedEntities(pg.db, 'campaigns', [newer]);
  await applyStreamedEntities(pg.db, 'campaigns', [newer]);
  await applyStreamedEntities(pg.db, 'campaigns', [older]);
  // Both in one batch, the older last: the newer is written.
  await applyStreamedEntities(pg.db, 'campaigns', [newer, older]);
  const stored = await pg
    .db('entity_campaigns')
    .where({ profile_id: profileId, campaign_id: campaign.campaign_id })
    .first();
  assert.equal(stored.name, 'newer');
  assert.equal(Number(stored.budget_micros), 42_000_000);
  // What a record does not carry keeps what the full sync stored: the campaign's bidding.
  assert.deepEqual(stored.bidding, campaign.bidding);
  // A campaign's end and portfolio are stated by every record: absent, they are gone.
  await applyStreamedEntities(pg.db, 'campaigns', [
    { ...newer, amazon_updated_at: '2031-01-02T12:00:00.000Z', end_date: '2031-06-30', portfolio_id: '77' },
  ]);
  await applyStreamedEntities(pg.db, 'campaigns', [
    { ...newer, amazon_updated_at: '2031-01-02T13:00:00.000Z', end_date: null, portfolio_id: null },
  ]);
  const ended = await pg
    .db('entity_campaigns')
    .where({ profile_id: profileId, campaign_id: campaign.campaign_id })
    .first();
  assert.deepEqual([ended.end_date, ended.portfolio_id], [null, null]);
  // A full sync whose export was read before the newest change leaves the newer row alone.
  const { ENTITY_UPSERTS } = await import('@adsync/shared/entities/entity-store');
  const { bulkUpsert } = await import('@adsync/shared/db/bulk-upsert');
  await bulkUpsert(pg.db, ENTITY_UPSERTS.campaigns, [{ ...campaign, name: 'from an old export' }]);
  assert.equal(
    (await pg.db('entity_campaigns').where({ profile_id: profileId, campaign_id: campaign.campaign_id }).first()).name,
    'newer',
  );
  // A record that leaves a column out (null) does not erase it.
  await applyStreamedEntities(pg.db, 'campaigns', [
    { ...newer, amazon_updated_at: '2031-01-03T00:00:00.000Z', name: null },
  ]);
  assert.equal(
    (await pg.db('entity_campaigns').where({ profile_id: profileId, campaign_id: campaign.campaign_id }).first()).name,
    'newer',
  );
});
