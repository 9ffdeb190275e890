/** Syncs one or every active profile to completion (the CronJob and the ingestion trigger use this). */
import { forEachConcurrently } from '@adsync/shared/runtime/concurrently';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { executeSync, planSync, SyncAlreadyRunningError, type PlanMode, type RunOutcome } from './sync-runner.ts';
import { ENTITY_TYPES, type EntityType } from './entity-normalise.ts';

export class InputError extends Error {}

export interface SyncSummary {
  profiles: number;
  succeeded: number;
  failed: number;
  skipped: number;
  fetched: number;
  upserted: number;
  runs: (RunOutcome & { profileId: string })[];
  skippedProfiles: { profileId: string; reason: string }[];
}

export async function syncProfiles(
  deps: {
    db: Knex;
    ch?: ClickHouse;
    clients: AmazonClients;
    log: Logger;
    batchSize: number;
    concurrency: number;
    exportPollMs?: number;
    leaseMs?: number;
    signal?: AbortSignal;
  },
  opts: { profileId?: string; accountId?: string; entity: string; mode: string; trigger: string },
): Promise<SyncSummary> {
  if (opts.entity !== 'all' && !ENTITY_TYPES.includes(opts.entity as EntityType))
    throw new InputError(`entity must be one of all, ${ENTITY_TYPES.join(', ')} (got ${opts.entity})`);
  if (opts.mode !== 'full' && opts.mode !== 'incremental' && opts.mode !== 'auto')
    throw new InputError(`mode must be full, incremental or auto (got ${opts.mode})`);
  const entityTypes = opts.entity === 'all' ? ENTITY_TYPES : [opts.entity as EntityType];
  let q = deps.db('profiles').select('profile_id').orderBy('profile_id');
  if (opts.profileId) q = q.where({ profile_id: opts.profileId });
  else q = q.where({ status: 'active' });
  if (opts.accountId) q = q.where({ account_id: opts.accountId });
  const profiles: string[] = await q.pluck('profile_id');
  if (opts.profileId && profiles.length === 0) throw new InputError(`unknown profile ${opts.profileId}`);
  if (opts.profileId) {
    const p = await deps.db('profiles').where({ profile_id: opts.profileId }).first('status');
    if (p?.status === 'excluded')
      throw new InputError(`profile ${opts.profileId} is excluded by its account's profile selection`);
  }
  const summary: SyncSummary = {
    profiles: profiles.length,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    fetched: 0,
    upserted: 0,
    runs: [],
    skippedProfiles: [],
  };
  await forEachConcurrently(profiles, deps.concurrency, async (p) => {
    if (deps.signal?.aborted) {
      summary.skipped++;
      summary.skippedProfiles.push({ profileId: p, reason: 'the service is shutting down' });
      return;
    }
    let plan;
    try {
      plan = await planSync(deps.db, p, entityTypes, opts.mode as PlanMode, opts.trigger, deps.leaseMs);
    } catch (err) {
      if (!(err instanceof SyncAlreadyRunningError)) throw err;
      summary.skipped++;
      summary.skippedProfiles.push({ profileId: p, reason: err.message });
      return;
    }
    for (const r of await executeSync(deps, p, plan.runs)) {
      summary.runs.push({ ...r, profileId: p });
      summary[r.status === 'succeeded' ? 'succeeded' : 'failed']++;
      summary.fetched += r.fetched;
      summary.upserted += r.upserted;
    }
  });
  return summary;
}
