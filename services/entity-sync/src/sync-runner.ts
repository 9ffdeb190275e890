/**
 * Executes one sync batch: a run per entity type of one profile, planned and leased in
 * sync-runs.ts. One entity type failing never stops the others.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import { budgetRuleCampaigns, listEntities } from '@adsync/shared/amazon/entities';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import * as n from './entity-normalise.ts';
import { exportEntities, requestExport, type RequestedExport } from '@adsync/shared/amazon/exports';
import { AmazonApiError, LwaError } from '@adsync/shared/amazon/errors';
import { bulkUpsert, type FirstLoad } from '@adsync/shared/db/bulk-upsert';
import { markInaccessible } from '@adsync/shared/accounts/profiles';
import {
  backfillCampaignIds,
  budgetRulesOf,
  campaignsOfAdGroups,
  replaceBudgetRuleLinks,
} from '@adsync/shared/entities/entity-store';
import { markFailed, markRunning, markSucceeded, watermarkOf, type PlannedRun, type SyncMode } from './sync-runs.ts';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { ENTITY_TABLES } from './entity-tables.ts';
import type { EntityType } from '@adsync/shared/entities/entity-store';
import { incrementalSince, inWindow, nextWatermark } from './sync-window.ts';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { CONTEXT_TYPES, writeEntityContext } from './entity-context.ts';
import { writeSlots, writeWindow } from '@adsync/shared/runtime/write-window';
import { InterruptedError } from '@adsync/shared/runtime/errors';

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
  /** Stops the work between pages (shutdown): the run is not failed, its batch goes back to the queue. */
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
  const watermark = await watermarkOf(db, profileId, run.entityType);
  const since = incrementalSince(mode, watermark, now);
  await markRunning(db, run.id, since);
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
                ? writeEntityContext(deps.ch, run.entityType, rows, now)
                : Promise.resolve(),
            ]).then(() => undefined),
        );
      };
      try {
        for await (const rows of source) {
          if (deps.signal?.aborted)
            throw new InterruptedError('interrupted: the service is shutting down; the next sync takes it up');
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
    await backfillCampaignIds(db, profileId, run.entityType);
    // Budget rules link to campaigns many-to-many: read each rule's campaigns, then replace its links.
    if (run.entityType === 'budget_rules') fetched += await syncBudgetRuleLinks(db, client, profileId, onPage);
    await markSucceeded(
      db,
      { id: run.id, profileId, entityType: run.entityType, watermark: nextWatermark(watermark, newest) },
      { fetched, upserted, requestIds },
    );
    log.info({ fetched, upserted, since: since?.toISOString() ?? null }, 'entity sync succeeded');
    return { id: run.id, entityType: run.entityType, status: 'succeeded', fetched, upserted };
  } catch (err) {
    // A shutdown is not the run's failure: the sync loop hands the batch back to the queue.
    if (deps.signal?.aborted) throw err;
    const error = describeError(err);
    // Only Login with Amazon refusing the credentials is the account's login state; an Ads API 401
    // after a granted token is about the call (or the profile), not the login.
    if (err instanceof LwaError && err.kind === 'auth' && accountId)
      await deps.clients.recordAuthError(accountId, err.message);
    if (err instanceof AmazonApiError && err.kind === 'forbidden') await markInaccessible(db, profileId, err.message);
    if (err instanceof AmazonApiError && err.requestId && requestIds.length < 50) requestIds.push(err.requestId);
    await markFailed(db, run.id, error, { fetched, upserted, requestIds });
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
  const rules = await budgetRulesOf(db, profileId);
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
  await replaceBudgetRuleLinks(db, profileId, links);
  return fetched;
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
