/**
 * The ingestion triggers (POST /v1/ingestion/sync-all, /sync-account/:id): for
 * every account with credentials, discover profiles, sync entities (full for a
 * profile never synced, incremental otherwise) and request the scheduled reports.
 * The report.requested events wait in the outbox; the poller relays them on its
 * next tick. Progress is written per stage as it happens.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { DEFAULT_TIERS, type Tier } from '@adsync/shared/reports/report-plan';
import { discoverProfiles } from './profiles.ts';
import { syncProfiles } from './sync-profiles.ts';

export interface IngestionDeps {
  db: Knex;
  ch?: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  batchSize: number;
  exportPollMs?: number;
  reportTypes?: string[];
  tiers?: Tier[];
}

type Stage = { status: 'pending' | 'running' | 'done' | 'failed'; [k: string]: unknown };

export async function startIngestion(db: Knex, scope: 'all' | 'account', accountId?: string): Promise<string> {
  const [row] = await db('ingestion_runs')
    .insert({
      scope,
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

export async function runIngestion(deps: IngestionDeps, runId: string): Promise<void> {
  const { db } = deps;
  const run = await db('ingestion_runs').where({ id: runId }).first();
  const log = deps.log.child({ ingestionRunId: runId });
  const stages: Record<string, Stage> = run.stages;
  const save = async (extra: Record<string, unknown> = {}) =>
    db('ingestion_runs')
      .where({ id: runId })
      .update({ stages: JSON.stringify(stages), ...extra });
  let problems = 0;
  try {
    let q = db('accounts as a')
      .join('amazon_credentials as c', 'c.account_id', 'a.id')
      .where('a.status', 'active')
      .select('a.id');
    if (run.account_id) q = q.where('a.id', run.account_id);
    const accounts: string[] = (await q).map((a: { id: string }) => a.id);

    stages.profiles = { status: 'running', accounts: accounts.length, discovered: 0, failed: [] as unknown[] };
    await save();
    for (const id of accounts) {
      try {
        const { profiles } = await discoverProfiles(db, await deps.clients.forAccount(id), id);
        stages.profiles.discovered = Number(stages.profiles.discovered) + profiles.length;
      } catch (err) {
        problems++;
        (stages.profiles.failed as unknown[]).push({ accountId: id, reason: (err as Error).message });
      }
      await save();
    }
    stages.profiles.status = 'done';

    stages.entities = { status: 'running', succeeded: 0, failed: 0, upserted: 0 };
    await save();
    for (const id of accounts) {
      // A profile never synced gets a full backfill; the rest an incremental run.
      const never = await db('profiles as p')
        .where({ 'p.account_id': id, 'p.status': 'active' })
        .whereNotExists(db('sync_state as s').whereRaw('s.profile_id = p.profile_id'))
        .pluck('p.profile_id');
      const all = await db('profiles').where({ account_id: id, status: 'active' }).pluck('profile_id');
      for (const [mode, list] of [
        ['full', never],
        ['incremental', all.filter((p: string) => !never.includes(p))],
      ] as const) {
        for (const profileId of list) {
          const s = await syncProfiles(
            {
              db,
              ch: deps.ch,
              clients: deps.clients,
              log,
              batchSize: deps.batchSize,
              concurrency: 1,
              exportPollMs: deps.exportPollMs,
            },
            { profileId, entity: 'all', mode, trigger: `ingestion:${runId}` },
          );
          stages.entities.succeeded = Number(stages.entities.succeeded) + s.succeeded;
          stages.entities.failed = Number(stages.entities.failed) + s.failed;
          stages.entities.upserted = Number(stages.entities.upserted) + s.upserted;
          problems += s.failed;
          await save();
        }
      }
    }
    stages.entities.status = 'done';

    stages.reports = { status: 'running', requested: 0, alreadyInFlight: 0, failed: 0 };
    await save();
    for (const id of accounts) {
      const r = await requestReports(
        { db, clients: deps.clients, log },
        { accountId: id, reportTypes: deps.reportTypes ?? REPORT_TYPE_IDS, tiers: deps.tiers ?? DEFAULT_TIERS, runId },
      );
      stages.reports.requested = Number(stages.reports.requested) + r.requested;
      stages.reports.alreadyInFlight = Number(stages.reports.alreadyInFlight) + r.alreadyInFlight;
      stages.reports.failed = Number(stages.reports.failed) + r.failed.length;
      problems += r.failed.length;
      await save();
    }
    stages.reports.status = 'done';
    await save({ status: problems ? 'partial' : 'succeeded', finished_at: db.fn.now() });
    log.info({ stages, problems }, 'ingestion run finished');
  } catch (err) {
    for (const s of Object.values(stages)) if (s.status === 'running') s.status = 'failed';
    await save({ status: 'failed', error: (err as Error).message, finished_at: db.fn.now() });
    log.error({ err }, 'ingestion run failed');
  }
}
