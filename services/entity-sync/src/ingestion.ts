/**
 * The module that owns `ingestion_runs`, behind the ingestion triggers (POST
 * /v1/ingestion/sync-all, /sync-account/:id): for every account with credentials,
 * discover profiles, sync entities (full for each entity type a profile never
 * synced, incremental otherwise) and request the scheduled reports. The report.requested events wait in
 * the outbox; the poller relays them on its next tick. Progress is written per
 * stage as it happens.
 *
 * A trigger only records a queued run. The service's ingestion loop claims it with a
 * lease (the work-queue primitive) and renews the lease while it works, so a run
 * whose process was killed is taken up again — by a restarted replica or another
 * one — once the lease lapses, up to MAX_INGESTION_ATTEMPTS times. Every step is
 * safe to repeat: discovery upserts, syncs upsert, report requests skip what is in
 * flight. A profile left unsynced (failed, or held by another sync) makes the run
 * `partial`, never `succeeded`.
 */
import { forEachConcurrently } from '@adsync/shared/runtime/concurrently';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { DEFAULT_REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { DEFAULT_TIERS, type Tier } from '@adsync/shared/reports/report-plan';
import { claim, holdLease, runQueue } from '@adsync/shared/runtime/work-queue';
import { errorMessage, InterruptedError, isDependencyOutage } from '@adsync/shared/runtime/errors';
import { activeAccountIds } from '@adsync/shared/accounts/accounts';
import { activeProfiles, sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { credentialedAccountIds } from '@adsync/shared/amazon/account-clients';
import { LwaError } from '@adsync/shared/amazon/errors';
import { discoverProfiles } from './profiles.ts';
import { discoverDspAdvertisers } from './dsp-advertisers.ts';
import { syncDspEntities } from './dsp-entities.ts';
import { syncProfiles } from './sync-profiles.ts';
import { syncAttribution, type AttributionOptions } from './attribution.ts';

export interface IngestionDeps {
  db: Knex;
  ch?: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  batchSize: number;
  exportPollMs?: number;
  reportTypes?: string[];
  tiers?: Tier[];
  /** How long a claimed run stays claimed without a renewal. */
  leaseMs?: number;
  /** Profiles synced at once (ENTITY_SYNC_PROFILE_CONCURRENCY): an agency's hundred profiles are not one queue. */
  concurrency?: number;
  /** Who claims ingestion runs and their sync batches (one name per process). */
  owner?: string;
  signal?: AbortSignal;
  /** Amazon Attribution: how far a first pull reaches and how much each later one restates; null: not pulled. */
  attribution?: AttributionOptions | null;
}

export const MAX_INGESTION_ATTEMPTS = 3;

export const INGESTION_QUEUE = runQueue('ingestion_runs');

type Stage = { status: 'pending' | 'running' | 'done' | 'failed'; [k: string]: unknown };

/** Records a queued run; the ingestion loop takes it up (wake it to start at once). */
export async function startIngestion(db: Knex, scope: 'all' | 'account', accountId?: string): Promise<string> {
  const [row] = await db('ingestion_runs')
    .insert({
      scope,
      status: 'queued',
      account_id: accountId ?? null,
      stages: JSON.stringify({
        profiles: { status: 'pending' },
        entities: { status: 'pending' },
        reports: { status: 'pending' },
      }),
    })
    .returning('id');
  return row.id;
}

/** The ingestion loop's tick for one process (its owner name fixed for its life). */
export const ingestionTick =
  (deps: IngestionDeps & { owner: string }) =>
  (signal: AbortSignal, beat: () => void): ReturnType<typeof runDueIngestions> =>
    runDueIngestions(deps, signal, beat);

/**
 * The ingestion loop's tick: claims due runs one at a time (queued, or abandoned by
 * a process that stopped renewing its lease) and runs each to its end. Returns how many ran.
 */
export async function runDueIngestions(
  deps: IngestionDeps & { owner: string },
  signal: AbortSignal,
  beat: () => void = () => undefined,
): Promise<number> {
  const leaseMs = deps.leaseMs ?? 60_000;
  let ran = 0;
  while (!signal.aborted) {
    const [run] = await claim<{ id: string; attempt: number }>(deps.db, INGESTION_QUEUE, {
      limit: 1,
      leaseMs,
      owner: deps.owner,
    });
    if (!run) break;
    const log = deps.log.child({ ingestionRunId: run.id, attempt: run.attempt });
    if (run.attempt > MAX_INGESTION_ATTEMPTS) {
      await deps
        .db('ingestion_runs')
        .where({ id: run.id })
        .update({
          status: 'failed',
          error: `abandoned: the processes running it stopped ${run.attempt - 1} times before it finished`,
          finished_at: deps.db.fn.now(),
          lease_until: null,
        });
      log.error('ingestion run given up: its processes kept stopping');
      continue;
    }
    // Its sync batches that attempt queued are seen through again (syncProfiles adopts them).
    if (run.attempt > 1) log.warn('taking up an ingestion run its previous process left unfinished');
    const lease = holdLease(deps.db, {
      table: 'ingestion_runs',
      ids: [run.id],
      leaseMs,
      owner: { column: 'owner', value: deps.owner },
      onLost: () => log.warn('the ingestion run was taken over by another process'),
    });
    const beating = setInterval(beat, 1_000);
    try {
      await runIngestion({ ...deps, signal }, run.id);
    } finally {
      clearInterval(beating);
      lease.release();
    }
    ran++;
  }
  return ran;
}

export async function runIngestion(deps: IngestionDeps, runId: string): Promise<void> {
  const { db } = deps;
  const run = await findIngestionRun(db, runId);
  const log = deps.log.child({ ingestionRunId: runId });
  const checkpoint = () => {
    if (deps.signal?.aborted) throw new InterruptedError('the service is shutting down');
  };
  const stages: Record<string, Stage> = run.stages;
  const save = async (extra: Record<string, unknown> = {}) =>
    db('ingestion_runs')
      .where({ id: runId })
      .update({ stages: JSON.stringify(stages), ...extra });
  let problems = 0;
  // Accounts whose login Amazon refused in this run: every later call for them would be refused too.
  const refusedLogins = new Map<string, string>();
  try {
    const accounts = await activeAccountIds(db, { accountId: run.account_id, among: credentialedAccountIds(db) });

    stages.profiles = {
      status: 'running',
      accounts: accounts.length,
      discovered: 0,
      dspAdvertisers: 0,
      failed: [] as unknown[],
    };
    await save();
    for (const id of accounts) {
      checkpoint();
      let client: Awaited<ReturnType<typeof deps.clients.forAccount>>;
      try {
        client = await deps.clients.forAccount(id);
        const { profiles } = await discoverProfiles(db, client, id);
        stages.profiles.discovered = Number(stages.profiles.discovered) + profiles.length;
      } catch (err) {
        problems++;
        // Login with Amazon refused the credentials: the account's state says so, and nothing
        // more is asked for it in this run. Any other failure leaves its login state alone.
        if (err instanceof LwaError && err.kind === 'auth') {
          await deps.clients.recordAuthError(id, err.message);
          refusedLogins.set(id, `Amazon refused the account's login: ${err.message}`);
        }
        (stages.profiles.failed as unknown[]).push({ accountId: id, reason: (err as Error).message });
        await save();
        continue;
      }
      await deps.clients.recordAuthOk(id);
      try {
        const dsp = await discoverDspAdvertisers(db, client, id);
        stages.profiles.dspAdvertisers = Number(stages.profiles.dspAdvertisers) + dsp.advertisers.length;
        // A DSP route Amazon refused is the run's to show, beside the advertisers still found.
        for (const u of dsp.unreachable) {
          problems++;
          (stages.profiles.failed as unknown[]).push({ accountId: id, route: u.route, reason: u.reason });
        }
      } catch (err) {
        problems++;
        (stages.profiles.failed as unknown[]).push({ accountId: id, route: 'dsp', reason: (err as Error).message });
      }
      await save();
    }
    stages.profiles.status = 'done';

    stages.entities = {
      status: 'running',
      succeeded: 0,
      failed: 0,
      skipped: [] as unknown[],
      upserted: 0,
      // DSP advertisers whose entities synced, the entities stored, and the advertisers (or accounts) that failed.
      dspAdvertisersSynced: 0,
      dspEntities: 0,
      dspFailed: [] as unknown[],
    };
    await save();
    for (const id of accounts) {
      const refused = refusedLogins.get(id);
      if (refused) {
        (stages.entities.skipped as unknown[]).push({ accountId: id, reason: refused });
        continue;
      }
      // Per profile and entity type: a full backfill for what never synced (a first run, or one a crash
      // cut short), an incremental run for the rest.
      // Sponsored-ads profiles: a DSP (agency) profile's entities are its advertisers', synced below.
      const profiles = (await activeProfiles(db, { accountId: id }))
        .filter(sponsoredAdsProfile)
        .map((p) => p.profile_id);
      // Profiles are independent (each sync holds its own lease): a few at once, each worker checking
      // the run's lease before it takes the next, so a lost lease or a shutdown stops them all.
      const entitiesStage = stages.entities!;
      await forEachConcurrently(profiles, deps.concurrency ?? 1, async (profileId) => {
        checkpoint();
        const s = await syncProfiles(
          {
            db,
            ch: deps.ch,
            clients: deps.clients,
            log,
            batchSize: deps.batchSize,
            concurrency: 1,
            exportPollMs: deps.exportPollMs,
            leaseMs: deps.leaseMs,
            owner: deps.owner,
            signal: deps.signal,
          },
          { profileId, entity: 'all', mode: 'auto', trigger: `ingestion:${runId}`, adopt: true },
        );
        entitiesStage.succeeded = Number(entitiesStage.succeeded) + s.succeeded;
        entitiesStage.failed = Number(entitiesStage.failed) + s.failed;
        entitiesStage.upserted = Number(entitiesStage.upserted) + s.upserted;
        // A profile held by another sync was not synced by this run: a problem to report, not a success.
        (entitiesStage.skipped as unknown[]).push(...s.skippedProfiles);
        problems += s.failed + s.skipped;
        await save();
      });
      // The account's DSP advertisers' entities (Ads API v1), after its profiles'.
      checkpoint();
      try {
        const dsp = await syncDspEntities(db, await deps.clients.forAccount(id), id);
        entitiesStage.dspAdvertisersSynced =
          Number(entitiesStage.dspAdvertisersSynced) + dsp.advertisers - dsp.failed.length;
        entitiesStage.dspEntities = Number(entitiesStage.dspEntities) + dsp.synced.reduce((n, x) => n + x.stored, 0);
        problems += dsp.failed.length;
        (entitiesStage.dspFailed as unknown[]).push(...dsp.failed.map((f) => ({ accountId: id, ...f })));
      } catch (err) {
        // Our own database down: the run's outer handler lets the lease lapse. Amazon refusing the token: recorded.
        if (isDependencyOutage(err)) throw err;
        problems++;
        (entitiesStage.dspFailed as unknown[]).push({ accountId: id, reason: errorMessage(err) });
      }
      await save();
    }
    stages.entities.status = 'done';

    stages.reports = { status: 'running', requested: 0, alreadyInFlight: 0, failed: 0, skipped: [] as unknown[] };
    await save();
    for (const id of accounts) {
      checkpoint();
      const refused = refusedLogins.get(id);
      if (refused) {
        (stages.reports.skipped as unknown[]).push({ accountId: id, reason: refused });
        continue;
      }
      const r = await requestReports(
        { db, clients: deps.clients, log },
        {
          accountId: id,
          reportTypes: deps.reportTypes ?? DEFAULT_REPORT_TYPE_IDS,
          tiers: deps.tiers ?? DEFAULT_TIERS,
          runId,
        },
      );
      stages.reports.requested = Number(stages.reports.requested) + r.requested;
      stages.reports.alreadyInFlight = Number(stages.reports.alreadyInFlight) + r.alreadyInFlight;
      stages.reports.failed = Number(stages.reports.failed) + r.failed.length;
      problems += r.failed.length;
      await save();
    }
    stages.reports.status = 'done';

    // Amazon Attribution, per sponsored-ads profile: advertisers, tags and its reports into ClickHouse.
    if (deps.ch && deps.attribution !== null) {
      stages.attribution = {
        status: 'running',
        profiles: 0,
        notEligible: 0,
        rows: 0,
        tags: 0,
        failed: [] as unknown[],
        skipped: [] as unknown[],
      };
      const att = stages.attribution;
      await save();
      for (const id of accounts) {
        checkpoint();
        const refused = refusedLogins.get(id);
        if (refused) {
          (att.skipped as unknown[]).push({ accountId: id, reason: refused });
          continue;
        }
        let client: Awaited<ReturnType<typeof deps.clients.forAccount>>;
        let profiles: Awaited<ReturnType<typeof activeProfiles>>;
        try {
          client = await deps.clients.forAccount(id);
          profiles = (await activeProfiles(db, { accountId: id })).filter(sponsoredAdsProfile);
        } catch (err) {
          // An account disconnected mid-run: its attribution waits for the next run, the others go on.
          if (isDependencyOutage(err)) throw err;
          problems++;
          (att.failed as unknown[]).push({ accountId: id, reason: errorMessage(err) });
          continue;
        }
        for (const profile of profiles) {
          checkpoint();
          try {
            const r = await syncAttribution({ db, ch: deps.ch, log, options: deps.attribution }, client, profile);
            att.profiles = Number(att.profiles) + 1;
            if (r.state === 'not_eligible') att.notEligible = Number(att.notEligible) + 1;
            att.rows = Number(att.rows) + r.rows;
            att.tags = Number(att.tags) + r.tags;
            for (const f of r.failed)
              (att.failed as unknown[]).push({ accountId: id, profileId: profile.profile_id, ...f });
            for (const b of r.badRows)
              (att.failed as unknown[]).push({ accountId: id, profileId: profile.profile_id, badRow: true, ...b });
            problems += r.failed.length + (r.badRows.length ? 1 : 0);
          } catch (err) {
            if (isDependencyOutage(err)) throw err;
            problems++;
            (att.failed as unknown[]).push({ accountId: id, profileId: profile.profile_id, reason: errorMessage(err) });
          }
          await save();
        }
      }
      att.status = 'done';
    }
    await save({ status: problems ? 'partial' : 'succeeded', finished_at: db.fn.now(), lease_until: null });
    log.info({ stages, problems }, 'ingestion run finished');
  } catch (err) {
    if (err instanceof InterruptedError || deps.signal?.aborted) {
      // Back in the queue, this attempt not counted: the next process starts it at once.
      await db('ingestion_runs')
        .where({ id: runId })
        .update({ status: 'queued', owner: null, lease_until: null, attempt: db.raw('greatest(attempt - 1, 0)') });
      log.info('ingestion run handed back to the queue: the service is shutting down');
      return;
    }
    // Our own database or ClickHouse is down: nothing to record it in. The lease lapses and the run is taken up again.
    if (isDependencyOutage(err)) throw err;
    for (const s of Object.values(stages)) if (s.status === 'running') s.status = 'failed';
    await save({ status: 'failed', error: errorMessage(err), finished_at: db.fn.now(), lease_until: null });
    log.error({ err }, 'ingestion run failed');
  }
}

export const INGESTION_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed'] as const;

/** Runs newest first: one account's (never the every-account runs, which hold others'), or all. */
export function ingestionRunsQuery(db: Knex, f: { accountId?: string; status?: string }) {
  const q = db('ingestion_runs').orderBy([
    { column: 'created_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ]);
  if (f.accountId) q.where({ account_id: f.accountId });
  if (f.status) q.where({ status: f.status });
  return q;
}

/** An ingestion run as stored, or undefined. */
export function findIngestionRun(db: Knex, runId: string) {
  return db('ingestion_runs').where({ id: runId }).first();
}

/** Each account's newest ingestion run (accounts without one are absent), with ISO times. */
export async function lastIngestions(
  db: Knex,
  accountIds: string[],
): Promise<Map<string, { status: string; started_at: string; finished_at: string | null }>> {
  const rows: { account_id: string; status: string; started_at: Date; finished_at: Date | null }[] = await db(
    'ingestion_runs',
  )
    .whereIn('account_id', accountIds)
    .distinctOn('account_id')
    .orderBy([{ column: 'account_id' }, { column: 'started_at', order: 'desc' }])
    .select('account_id', 'status', 'started_at', 'finished_at');
  return new Map(
    rows.map((r) => [
      r.account_id,
      // As strings: a Date inside a nullable object is not serialised by the response schema.
      {
        status: r.status,
        started_at: new Date(r.started_at).toISOString(),
        finished_at: r.finished_at ? new Date(r.finished_at).toISOString() : null,
      },
    ]),
  );
}
