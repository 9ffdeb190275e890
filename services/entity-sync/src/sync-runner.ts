/**
 * One sync batch: a run per entity type of one profile. Runs are recorded before
 * any work starts (the HTTP trigger answers with their ids), a partial unique
 * index makes a second concurrent run of the same profile and entity type
 * impossible, and one entity type failing never stops the others.
 *
 * Runs are leased: the process executing a batch renews `lease_until` while it
 * works. A run whose lease lapsed belongs to a process that died; it is failed as
 * abandoned (by the next sync of its profile, or the service's reclaim loop), so it
 * never stays "running" and never blocks the next sync.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import { budgetRuleCampaigns, listEntities } from '@adsync/shared/amazon/entities';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import * as n from './entity-normalise.ts';
import { exportEntities, requestExport, type RequestedExport } from '@adsync/shared/amazon/exports';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { bulkUpsert, type FirstLoad } from '@adsync/shared/db/bulk-upsert';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { ENTITY_TABLES } from './entity-tables.ts';
import type { EntityType } from './entity-normalise.ts';
import { incrementalSince, inWindow, nextWatermark } from './sync-window.ts';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { chDateTime } from '@adsync/shared/db/clickhouse';
import { CONTEXT_TYPES, entityContextRow } from './entity-context.ts';
import { holdLease } from '@adsync/shared/runtime/work-queue';
import { writeSlots, writeWindow } from '@adsync/shared/runtime/write-window';

export type SyncMode = 'full' | 'incremental';
/** `auto`: full for an entity type the profile never synced successfully, incremental for the rest. */
export type PlanMode = SyncMode | 'auto';

export interface PlannedRun {
  id: string;
  entityType: EntityType;
  mode: SyncMode;
}

export class SyncAlreadyRunningError extends Error {
  readonly runs: { id: string; entity_type: string; status: string }[];
  constructor(profileId: string, runs: { id: string; entity_type: string; status: string }[]) {
    super(`a sync of profile ${profileId} is already running for ${runs.map((r) => r.entity_type).join(', ')}`);
    this.name = 'SyncAlreadyRunningError';
    this.runs = runs;
  }
}

/** Records queued runs; refuses when any of the entity types already has one queued or running. */
export async function planSync(
  db: Knex,
  profileId: string,
  entityTypes: EntityType[],
  mode: PlanMode,
  trigger: string,
  leaseMs: number = DEFAULT_LEASE_MS,
): Promise<{ batchId: string; runs: PlannedRun[] }> {
  const batchId = randomUUID();
  await reclaimAbandonedSyncRuns(db, profileId);
  // An incremental read of a type never synced would only look back 30 days: everything older would be missing.
  const synced = new Set<string>(
    mode === 'auto' ? await db('sync_state').where({ profile_id: profileId }).pluck('entity_type') : [],
  );
  const modeOf = (t: EntityType): SyncMode => (mode === 'auto' ? (synced.has(t) ? 'incremental' : 'full') : mode);
  try {
    const rows = await db('sync_runs')
      .insert(
        entityTypes.map((entity_type) => ({
          batch_id: batchId,
          profile_id: profileId,
          entity_type,
          mode: modeOf(entity_type),
          trigger,
          status: 'queued',
          lease_until: db.raw(`now() + (? * interval '1 millisecond')`, [leaseMs]),
        })),
      )
      .returning(['id', 'entity_type', 'mode']);
    return {
      batchId,
      runs: rows.map((r) => ({
        id: r.id as string,
        entityType: r.entity_type as EntityType,
        mode: r.mode as SyncMode,
      })),
    };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      const running = await db('sync_runs')
        .where({ profile_id: profileId })
        .whereIn('status', ['queued', 'running'])
        .whereIn('entity_type', entityTypes)
        .select('id', 'entity_type', 'status');
      throw new SyncAlreadyRunningError(profileId, running);
    }
    throw err;
  }
}

export interface RunOutcome {
  id: string;
  entityType: EntityType;
  status: 'succeeded' | 'failed';
  fetched: number;
  upserted: number;
  error?: Record<string, unknown>;
}

function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof AmazonApiError) {
    return {
      message: err.message,
      kind: err.kind,
      status: err.status,
      code: err.code,
      amazonCode: err.amazonCode,
      requestId: err.requestId,
      hint: err.hint,
    };
  }
  return { message: (err as Error)?.message ?? String(err) };
}

export const DEFAULT_LEASE_MS = 60_000;

export interface ExecuteDeps {
  db: Knex;
  /** When given, entity context (names, states, keyword text, ASIN) is mirrored to ClickHouse for dashboards. */
  ch?: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  batchSize: number;
  now?: () => Date;
  /** Full syncs use the Exports API (default on). */
  useExports?: boolean;
  /** How often an export's status is checked while it is generated. */
  exportPollMs?: number;
  /** How long the batch's runs stay claimed without a renewal (default DEFAULT_LEASE_MS). */
  leaseMs?: number;
  /** Stops the work between pages (shutdown); the run ends failed as interrupted. */
  signal?: AbortSignal;
}

/**
 * Entity types that read nothing the others write and write nothing the others read. Their
 * runs are mostly Amazon calls paced by the profile's rate limit (a budget rule's campaigns
 * come 30 to a page), so they go alongside the chain of the rest, whose large types are bound
 * by parsing and Postgres: in bench/entity-sync.ts they were a fifth of a resync, one after
 * another.
 */
const ALONGSIDE: readonly EntityType[] = ['portfolios', 'budget_rules'];

/**
 * Executes planned runs: the chain one entity type after another, in ENTITY_TYPES order (ad
 * groups before the ads and targets that name them), and the ALONGSIDE types at the same time.
 * Both share the profile's rate limit. Outcomes come back in the planned order.
 */
export async function executeSync(deps: ExecuteDeps, profileId: string, runs: PlannedRun[]): Promise<RunOutcome[]> {
  const outcomes = new Map<string, RunOutcome>();
  const lease = holdLease(deps.db, {
    table: 'sync_runs',
    ids: runs.map((r) => r.id),
    leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
  });
  try {
    await lease.renew();
    // Amazon builds exports in the background, minutes each for a large account: ask for every
    // export of the batch now, so later ones are ready by the time the earlier ones are read.
    const requested = new Map<string, Promise<RequestedExport>>();
    for (const run of runs) {
      const ex = ENTITY_TABLES[run.entityType].fullExport;
      if (run.mode !== 'full' || !ex || deps.useExports === false) continue;
      const p = deps.clients
        .forProfile(profileId)
        .then(({ client }) => requestExport(client, profileId, ex.kind, ex.request));
      p.catch(() => undefined); // read (and reported) by its run
      requested.set(run.id, p);
    }
    // One client for both lanes, made before they start: two first lookups at once could each
    // make their own, and with it their own rate limiter for the same profile. A failure here is
    // reported by each run, which asks again.
    await deps.clients.forProfile(profileId).catch(() => undefined);
    const lane = async (lanesRuns: PlannedRun[]) => {
      for (const run of lanesRuns)
        outcomes.set(run.id, await executeRun(deps, profileId, run, run.mode, requested.get(run.id)));
    };
    // executeRun reports Amazon's and the writes' failures as outcomes. Whatever it throws
    // (Postgres gone) is reported only once both lanes have stopped: nothing runs on after the
    // lease is let go.
    const settled = await Promise.allSettled([
      lane(runs.filter((r) => !ALONGSIDE.includes(r.entityType))),
      lane(runs.filter((r) => ALONGSIDE.includes(r.entityType))),
    ]);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  } finally {
    lease.release();
  }
  return runs.map((r) => outcomes.get(r.id)!);
}

async function executeRun(
  deps: ExecuteDeps,
  profileId: string,
  run: PlannedRun,
  mode: SyncMode,
  requested?: Promise<RequestedExport>,
): Promise<RunOutcome> {
  const { db } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const log = deps.log.child({ profileId, runId: run.id, entityType: run.entityType, mode });
  const state = await db('sync_state').where({ profile_id: profileId, entity_type: run.entityType }).first();
  const watermark = state?.high_watermark ? new Date(state.high_watermark) : null;
  const since = incrementalSince(mode, watermark, now);
  await db('sync_runs').where({ id: run.id }).update({ status: 'running', started_at: db.fn.now(), since });
  const requestIds: string[] = [];
  let fetched = 0;
  let upserted = 0;
  let newest: number | null = null;
  let accountId: string | null = null;
  try {
    const { client, accountId: acct } = await deps.clients.forProfile(profileId);
    accountId = acct;
    const table = ENTITY_TABLES[run.entityType];
    const onPage = (p: { requestId: string | null }) => {
      if (p.requestId && requestIds.length < 50) requestIds.push(p.requestId);
    };
    // Full syncs read one export per entity type (when the deployment allows it); the rest is listed.
    const useExport = mode === 'full' && table.fullExport && deps.useExports !== false;
    const streams: EntityStream[] = [];
    if (useExport) {
      const campaignOf = await campaignsOfAdGroups(db, profileId);
      const ex = table.fullExport!;
      streams.push(
        mapPages(
          exportEntities(client, profileId, ex.kind, { ...ex.request, onPage, pollMs: deps.exportPollMs, requested }),
          (e) => ex.normalise(profileId, e, campaignOf),
        ),
      );
    }
    for (const source of table.sources) {
      if (useExport && table.fullExport!.replaces.includes(source.kind)) continue;
      streams.push(oneByOne(source.rows(profileId, (kind) => listEntities(client, profileId, kind, { onPage }))));
    }
    // A full sync is COPYed straight in until a batch finds a row already stored (bulk-upsert.ts,
    // FirstLoad): a profile's first sync writes only new rows, and a resync pays at most one
    // refused COPY per write in flight before it merges.
    const firstLoad: FirstLoad = { likelyNew: mode === 'full' };
    for (const source of streams) {
      let batch: { amazon_updated_at: string | null }[] = [];
      // Two writes in flight while the next pages are fetched: Amazon, Postgres (on two
      // connections) and our parsing work at the same time; with one, Postgres merging a batch
      // was most of the wall time and this process sat idle. Memory stays bounded to three
      // batches, and a batch naming an entity a running one also names waits for it.
      const window = writeWindow(WRITES_IN_FLIGHT, WRITE_SLOTS);
      const keyOf = (r: Record<string, unknown>) => table.upsert.key.map((k) => String(r[k])).join('\u0000');
      const flush = async () => {
        const rows = batch;
        batch = [];
        if (!rows.length) return;
        await window.submit(
          rows.map((r) => keyOf(r as unknown as Record<string, unknown>)),
          () =>
            Promise.all([
              bulkUpsert(db, table.upsert, rows, firstLoad).then((n) => {
                upserted += n;
              }),
              deps.ch && CONTEXT_TYPES.includes(run.entityType)
                ? deps.ch.client.insert({
                    table: 'entity_context',
                    format: 'JSONEachRow',
                    values: rows.map((r) =>
                      entityContextRow(run.entityType, r as never, chDateTime(now), now.getTime()),
                    ),
                  })
                : Promise.resolve(),
            ]).then(() => undefined),
        );
      };
      try {
        for await (const rows of source) {
          if (deps.signal?.aborted)
            throw new Error('interrupted: the service is shutting down; the next sync takes it up');
          for (const row of rows) {
            fetched++;
            if (row.amazon_updated_at) {
              const t = Date.parse(row.amazon_updated_at);
              if (!Number.isNaN(t) && (newest === null || t > newest)) newest = t;
            }
            if (!inWindow(row.amazon_updated_at, since)) continue;
            batch.push(row);
            if (batch.length >= deps.batchSize) await flush();
          }
        }
        await flush();
      } catch (err) {
        // Nothing of a failed run keeps writing after it is reported.
        await window.drain();
        throw err;
      }
      await window.settle();
    }
    // Exported ads and targets name only their ad group: fill in campaigns of ad groups that arrived since.
    for (const t of CAMPAIGN_BACKFILL[run.entityType]) await backfillCampaignIds(db, profileId, t);
    // Budget rules link to campaigns many-to-many: read each rule's campaigns, then replace its links.
    if (run.entityType === 'budget_rules') fetched += await syncBudgetRuleLinks(db, client, profileId, onPage);
    const wm = nextWatermark(watermark, newest);
    await db.transaction(async (tx) => {
      await tx('sync_state')
        .insert({
          profile_id: profileId,
          entity_type: run.entityType,
          high_watermark: wm,
          last_success_at: tx.fn.now(),
          last_run_id: run.id,
        })
        .onConflict(['profile_id', 'entity_type'])
        .merge();
      await tx('sync_runs')
        .where({ id: run.id })
        .update({ status: 'succeeded', finished_at: tx.fn.now(), fetched, upserted, amazon_request_ids: requestIds });
    });
    log.info({ fetched, upserted, since: since?.toISOString() ?? null }, 'entity sync succeeded');
    return { id: run.id, entityType: run.entityType, status: 'succeeded', fetched, upserted };
  } catch (err) {
    const error = describeError(err);
    if (err instanceof AmazonApiError && err.kind === 'auth' && accountId)
      await deps.clients.recordAuthError(accountId, err.message);
    if (err instanceof AmazonApiError && err.kind === 'forbidden') {
      await db('profiles')
        .where({ profile_id: profileId })
        .update({ status: 'inaccessible', status_reason: err.message, updated_at: db.fn.now() });
    }
    if (err instanceof AmazonApiError && err.requestId && requestIds.length < 50) requestIds.push(err.requestId);
    await db('sync_runs')
      .where({ id: run.id })
      .update({ status: 'failed', finished_at: db.fn.now(), fetched, upserted, error, amazon_request_ids: requestIds });
    log.error({ error, fetched, upserted }, 'entity sync failed');
    return { id: run.id, entityType: run.entityType, status: 'failed', fetched, upserted, error };
  }
}

/** Batches being written at once per entity type, each on its own connection. */
const WRITES_IN_FLIGHT = 2;
/**
 * Connections the whole process lends to those writes, whatever number of profiles sync at
 * once (ENTITY_SYNC_PROFILE_CONCURRENCY): the pool's other six stay free for leases, run
 * records and the API.
 */
const WRITE_SLOTS = writeSlots(4);

const CAMPAIGN_BACKFILL: Record<EntityType, string[]> = {
  portfolios: [],
  campaigns: [],
  ad_groups: ['entity_ads', 'entity_targets', 'entity_negative_targets'],
  ads: ['entity_ads'],
  targets: ['entity_targets'],
  negative_targets: ['entity_negative_targets'],
  creatives: [],
  budget_rules: [],
};

/**
 * The campaigns of every budget rule of a profile, read rule by rule (outside any
 * transaction), then each rule's links replaced in one short transaction.
 */
async function syncBudgetRuleLinks(
  db: Knex,
  client: AmazonAdsClient,
  profileId: string,
  onPage: (p: { requestId: string | null }) => void,
): Promise<number> {
  const rules: { rule_id: string; ad_product: string }[] = await db('entity_budget_rules')
    .where({ profile_id: profileId })
    .select('rule_id', 'ad_product');
  const product = { SPONSORED_PRODUCTS: 'sp', SPONSORED_BRANDS: 'sb', SPONSORED_DISPLAY: 'sd' } as const;
  const links = new Map<string, n.BudgetRuleCampaignRow[]>();
  let fetched = 0;
  for (const r of rules) {
    const rows: n.BudgetRuleCampaignRow[] = [];
    const p = product[r.ad_product as keyof typeof product];
    if (!p) continue;
    for await (const c of budgetRuleCampaigns(client, profileId, p, r.rule_id, onPage)) {
      rows.push(n.budgetRuleCampaign(profileId, r.rule_id, r.ad_product, c));
      fetched++;
    }
    links.set(r.rule_id, rows);
  }
  await db.transaction(async (tx) => {
    for (const [ruleId, rows] of links) {
      await tx('entity_budget_rule_campaigns').where({ profile_id: profileId, rule_id: ruleId }).delete();
      if (rows.length)
        await tx('entity_budget_rule_campaigns').insert(rows.map((x) => ({ ...x, synced_at: tx.fn.now() })));
    }
  });
  return fetched;
}

/** The campaign of each of a profile's ad groups, as stored (ad groups sync before ads and targets). */
async function campaignsOfAdGroups(db: Knex, profileId: string): Promise<(adGroupId: string) => string | null> {
  const rows: { ad_group_id: string; campaign_id: string }[] = await db('entity_ad_groups')
    .where({ profile_id: profileId })
    .select('ad_group_id', 'campaign_id');
  const map = new Map(rows.map((r) => [r.ad_group_id, r.campaign_id]));
  return (adGroupId) => map.get(adGroupId) ?? null;
}

async function backfillCampaignIds(db: Knex, profileId: string, table: string): Promise<void> {
  await db.raw(
    `update ?? e set campaign_id = g.campaign_id from entity_ad_groups g
      where e.profile_id = ? and e.campaign_id is null and g.profile_id = e.profile_id and g.ad_group_id = e.ad_group_id`,
    [table, profileId],
  );
}

/**
 * Fails runs whose lease lapsed (their process stopped renewing it: it died), for one
 * profile or all, so they never stay "running" and never block the next sync.
 */
export async function reclaimAbandonedSyncRuns(db: Knex, profileId?: string): Promise<number> {
  let q = db('sync_runs')
    .whereIn('status', ['queued', 'running'])
    .where((w) => w.whereNull('lease_until').orWhere('lease_until', '<', db.fn.now()));
  if (profileId) q = q.where({ profile_id: profileId });
  return q.update({
    status: 'failed',
    finished_at: db.fn.now(),
    error: db.raw(
      `jsonb_build_object('message', 'abandoned: the process running it stopped renewing its lease' ||
         coalesce(' (it lapsed at ' || to_char(lease_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')', ''))`,
    ),
  });
}

/**
 * Active profiles whose entity sync failed in the last day with no success since: what
 * the "profile failing for a day" alert watches (a count, so no profile id is a label).
 */
export async function profilesFailingForADay(db: Knex): Promise<number> {
  const r = await db.raw(
    `select count(*)::int as n from profiles p
     where p.status = 'active'
       and exists (select 1 from sync_runs f where f.profile_id = p.profile_id and f.status = 'failed'
                   and f.finished_at > now() - interval '1 day')
       and not exists (select 1 from sync_runs s where s.profile_id = p.profile_id and s.status = 'succeeded'
                       and s.finished_at > now() - interval '1 day')`,
  );
  return (r.rows[0] as { n: number }).n;
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

/** Entities to write and how to normalise them (items in runs: an export's as its file is read; a list's one at a time). */
/** Normalised rows, a page at a time (a list's or an export's). */
type EntityStream = AsyncIterable<{ amazon_updated_at: string | null }[]>;

async function* mapPages<T, R>(pages: AsyncIterable<T[]>, f: (e: T) => R): AsyncGenerator<R[]> {
  for await (const page of pages) yield page.map(f);
}
