/**
 * The judgement after a fault, against the sandbox (never against our own output):
 * every owner (profile or DSP advertiser account)/type/day in ClickHouse exact; every entity table exact; the AMC
 * results and the supplier catalogue complete; no run left running or failed; no
 * consumer group behind on any partition; every service ready; and no dead letter
 * but the poison the fault itself sent.
 */
import { isDeepStrictEqual } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { FINAL_GENERATION } from '@adsync/sandbox';
import { amcResultRows } from '@adsync/sandbox/amc-routes';
import { DEFAULT_REPORT_TYPE_IDS, isDspReportType } from '@adsync/shared/amazon/report-catalog';
import { accountAdvertisers, reportableAdvertisersByProfile } from '@adsync/shared/accounts/dsp-advertisers';
import { ownerKey } from '@adsync/shared/reports/report-owner';
import { sponsoredAdsProfile } from '@adsync/shared/accounts/profiles';
import { ALL_TOPICS, deadLetterTopic } from '@adsync/shared/events/contracts';
import { addDays, localToday } from '@adsync/shared/calendar';
import { IN_FLIGHT_STATUSES } from '@adsync/shared/reports/pending-reports';
import { DEFAULT_TIERS, planBackfill, planReports } from '@adsync/shared/reports/report-plan';
import { testConfig } from '@adsync/shared/testing/test-stack';
import { clickhouseDayTotals, ENTITY_TABLES, expectedDayTotals, postgresEntityIds, zeroTotals } from './expected.ts';
import { BACKFILL_DAYS, BACKFILL_TYPES, type World } from './world.ts';

export interface Verdict {
  ok: boolean;
  problems: string[];
  facts: Record<string, number>;
}

/**
 * The report windows the job asks for, planned by the same pure functions the requester uses,
 * per owner (`owner`: a profile id, or `dsp:` and a DSP advertiser reached only through a
 * manager account, as ownerKey writes it).
 */
export async function plannedWindows(
  world: World,
): Promise<{ owner: string; reportType: string; startDate: string; endDate: string }[]> {
  const profiles: { profile_id: string; timezone: string; account_type: string | null }[] = await world.pg
    .db('profiles')
    .select('profile_id', 'timezone', 'account_type');
  const started = new Date(world.job!.startedAt);
  // DSP types are asked only under a DSP profile reaching selected advertisers, as the requester does.
  const dsp = await reportableAdvertisersByProfile(
    world.pg.db,
    profiles.map((p) => p.profile_id),
  );
  const scheduled = (today: string, types: string[]) =>
    planReports({ today, now: started, reportTypes: types, tiers: DEFAULT_TIERS, lastRequested: () => null });
  const ofProfiles = profiles.flatMap((p) => {
    const today = localToday(p.timezone, started);
    const types = DEFAULT_REPORT_TYPE_IDS.filter((t) =>
      isDspReportType(t) ? dsp.has(p.profile_id) : sponsoredAdsProfile(p),
    );
    // The scheduled tiers for every type (a first run: nothing requested before), and the backfill.
    return [...scheduled(today, types), ...planBackfill(today, BACKFILL_DAYS, BACKFILL_TYPES, started)].map((w) => ({
      owner: p.profile_id,
      reportType: w.reportTypeId,
      startDate: w.startDate,
      endDate: w.endDate,
    }));
  });
  // Advertisers reached only through the manager account: their DSP types, asked with Amazon-Ads-AccountId.
  const ofAccounts = (await accountAdvertisers(world.pg.db)).flatMap((a) =>
    scheduled(localToday(a.timezone, started), DEFAULT_REPORT_TYPE_IDS.filter(isDspReportType)).map((w) => ({
      owner: ownerKey({ dspAccountId: a.advertiser_id }),
      reportType: w.reportTypeId,
      startDate: w.startDate,
      endDate: w.endDate,
    })),
  );
  return [...ofProfiles, ...ofAccounts];
}

/** The report days the job asks for, once each (the backfill and the lookback overlap). */
export async function plannedDays(world: World): Promise<{ owner: string; reportType: string; day: string }[]> {
  const out = new Map<string, { owner: string; reportType: string; day: string }>();
  for (const w of await plannedWindows(world))
    for (let day = w.startDate; day <= w.endDate; day = addDays(day, 1))
      out.set(`${w.owner}|${w.reportType}|${day}`, { owner: w.owner, reportType: w.reportType, day });
  return [...out.values()];
}

const WAKE_ONLY_GROUPS = ['adsync.report-poller.wakeup', 'adsync.supplier-sync.workers'];

type Lag = { group: string; topic: string; partition: number; lag: number };

/** Committed offsets behind the end of their partitions, per group of this world. */
export async function consumerLag(world: World): Promise<Lag[]> {
  return (await lagSnapshot(world)).behind;
}

/**
 * The lag, and the partitions' ends it was measured against (the same ends on two looks: nothing
 * was written in between). A group's offsets are asked of its coordinator for every group ever
 * listed, not only those listed now: a broker taking a group's coordinator over (or handing it
 * back, once a restarted broker is preferred leader again) can leave it out of every list while
 * its offsets are still behind, and asking the coordinator then fails instead of answering nothing.
 */
export async function lagSnapshot(world: World): Promise<{ behind: Lag[]; ends: string; moving: boolean }> {
  const cfg = testConfig();
  const admin = new Kafka({ clientId: 'chaos-judge', brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    for (const g of (await admin.listGroups()).groups)
      if (g.groupId.startsWith(world.prefix)) world.groups.add(g.groupId);
    const behind: Lag[] = [];
    let moving = false;
    const topics = ALL_TOPICS.flatMap((t) => [t, deadLetterTopic(t)]).map((t) => `${world.prefix}${t}`);
    const ends = new Map<string, Map<number, bigint>>();
    for (const t of topics)
      ends.set(t, new Map((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, BigInt(p.high)])));
    for (const group of world.groups) {
      const wakeOnly = WAKE_ONLY_GROUPS.some((w) => group.endsWith(w));
      for (const t of await admin.fetchOffsets({ groupId: group, topics })) {
        const committedSome = t.partitions.some((p) => p.offset !== '-1');
        const reader = `${group}|${t.topic}`;
        if (committedSome) world.readers.add(reader);
        else if (world.readers.has(reader)) {
          // Read before, no offsets now: a broker back from a kill is still loading them. Not settled.
          behind.push({ group, topic: t.topic, partition: -1, lag: Number.NaN });
          continue;
        } else continue; // the group does not read this topic
        for (const p of t.partitions) {
          const end = ends.get(t.topic)?.get(p.partition) ?? 0n;
          if (p.offset === '-1' && (wakeOnly || end === 0n)) continue;
          const lag = Number(end - (p.offset === '-1' ? 0n : BigInt(p.offset)));
          if (lag > 0) behind.push({ group, topic: t.topic, partition: p.partition, lag });
          // Committed past the end read a moment ago: written to since. Not behind, but not still.
          if (lag < 0) moving = true;
        }
      }
    }
    const written = [...ends].map(([t, ps]) => `${t}:${[...ps].map(([p, e]) => `${p}=${e}`).join(',')}`);
    return { behind, ends: written.join(';'), moving };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Each ClickHouse replica of the fleet answers with nothing left in its replication queue, and
 * every replica has read the shared log as far as the others (a replica back from a kill reads
 * the log only once its old ZooKeeper session has expired; until then its queue looks empty).
 */
async function replicasCaughtUp(world: World): Promise<boolean> {
  const query = `SELECT table, queue_size + inserts_in_queue + merges_in_queue AS waiting, log_pointer FROM system.replicas WHERE database = '${world.ch.ch.database}' ORDER BY table FORMAT JSONEachRow`;
  const seen: string[] = [];
  for (const url of world.options.fleet!.clickhouse.urls) {
    const res = await fetch(`${url}/?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return false;
    const tables = (await res.text())
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { table: string; waiting: string | number; log_pointer: string | number });
    if (tables.some((t) => Number(t.waiting) > 0)) return false;
    seen.push(tables.map((t) => `${t.table}:${t.log_pointer}`).join(','));
  }
  return seen.every((s) => s === seen[0]);
}

/**
 * Whether the job has finished (everything terminal, nothing waiting on a partition), for
 * settling: null while not, else what it saw (the outbox's last event and every partition's end),
 * so that two looks can be required to see the same (nothing written between them).
 */
export async function quiescent(world: World): Promise<string | null> {
  const db = world.pg.db;
  const job = world.job!;
  const ingestion = await db('ingestion_runs').where({ id: job.ingestionRunId }).first('status');
  if (!ingestion || ['queued', 'running'].includes(ingestion.status)) return null;
  if (!job.backfillRunId) return null;
  if (await db('pending_amazon_reports').whereIn('status', IN_FLIGHT_STATUSES).first('id')) return null;
  if (await db('sync_runs').whereIn('status', ['queued', 'running']).first('id')) return null;
  if (await db('amc_executions').whereNotIn('status', ['completed', 'failed']).first('id')) return null;
  if (await db('import_jobs').whereIn('status', ['pending', 'running']).first('id')) return null;
  // An event still in the outbox (Kafka was away) is yet to reach its consumers.
  if (await db('event_outbox').whereNull('published_at').first('id')) return null;
  // Every ClickHouse replica has fetched every part and applied every delete the others have.
  if (world.options.fleet && !(await replicasCaughtUp(world))) return null;
  const lag = await lagSnapshot(world);
  if (lag.behind.length || lag.moving) return null;
  const last = await db('event_outbox').max<{ m: string | null }[]>('id as m');
  return `${last[0]?.m ?? ''}|${lag.ends}`;
}

export async function judge(world: World, o: { expectedDeadLetters: string[] }): Promise<Verdict> {
  const db = world.pg.db;
  const job = world.job!;
  const problems: string[] = [];
  const facts: Record<string, number> = {};

  const ingestion = await db('ingestion_runs').where({ id: job.ingestionRunId }).first();
  if (ingestion?.status !== 'succeeded')
    problems.push(
      `ingestion run ${ingestion?.status ?? 'missing'}: ${ingestion?.error ?? JSON.stringify(ingestion?.stages?.entities ?? {})}`,
    );
  if (!job.backfillRunId) problems.push('the backfill was never accepted');

  // Nothing left running, nothing given up.
  const inFlight = await db('pending_amazon_reports')
    .whereIn('status', IN_FLIGHT_STATUSES)
    .count<{ c: string }[]>('* as c');
  if (Number(inFlight[0]!.c)) problems.push(`${inFlight[0]!.c} reports still in flight`);
  const failedReports = await db('pending_amazon_reports')
    .where({ status: 'failed' })
    .select('report_type', 'failure_reason');
  for (const f of failedReports.slice(0, 3)) problems.push(`report ${f.report_type} failed: ${f.failure_reason}`);
  if (failedReports.length > 3) problems.push(`… and ${failedReports.length - 3} more failed reports`);
  const running = await db('sync_runs').whereIn('status', ['queued', 'running']).count<{ c: string }[]>('* as c');
  if (Number(running[0]!.c)) problems.push(`${running[0]!.c} sync runs left queued or running`);
  const runningIngestions = await db('ingestion_runs')
    .whereIn('status', ['queued', 'running'])
    .count<{ c: string }[]>('* as c');
  if (Number(runningIngestions[0]!.c))
    problems.push(`${runningIngestions[0]!.c} ingestion runs left queued or running`);

  // Every profile, report type and day: exactly what the sandbox serves.
  const have = await clickhouseDayTotals(world.ch.ch);
  const days = await plannedDays(world);
  let wrongDays = 0;
  let rows = 0;
  for (const d of days) {
    const key = `${d.owner}|${d.reportType}|${d.day}`;
    const want = expectedDayTotals(world.sandbox, d.owner, d.reportType, d.day, FINAL_GENERATION);
    const got = have.get(key) ?? zeroTotals(d.reportType);
    have.delete(key);
    rows += want.rows;
    // Compared as values, not as text: the order ClickHouse returns columns in is not a fact about the data.
    if (!isDeepStrictEqual(got, want)) {
      wrongDays++;
      if (wrongDays <= 3)
        problems.push(`${key}: ClickHouse has ${JSON.stringify(got)}, Amazon served ${JSON.stringify(want)}`);
    }
  }
  if (wrongDays > 3) problems.push(`… ${wrongDays} owner/type/days differ in all`);
  for (const extra of [...have.keys()].slice(0, 3)) problems.push(`${extra}: in ClickHouse but never asked for`);
  facts.cells = days.length;
  facts.rows = rows;

  // Every entity table exact.
  const profiles = await db('profiles').pluck('profile_id');
  let entities = 0;
  for (const profileId of profiles) {
    const p = world.sandbox.state.dataset.profileIndex(profileId);
    if (p === null) continue;
    const want = world.sandbox.state.dataset.expectedEntityIds(p);
    const got = await postgresEntityIds(db, profileId);
    for (const kind of Object.keys(ENTITY_TABLES) as (keyof typeof ENTITY_TABLES)[]) {
      entities += want[kind].length;
      if (JSON.stringify(got[kind]) !== JSON.stringify(want[kind]))
        problems.push(
          `${ENTITY_TABLES[kind][0]} of ${profileId}: ${got[kind].length} rows, the sandbox has ${want[kind].length}`,
        );
    }
  }
  facts.entities = entities;

  // AMC results complete.
  for (const id of job.amcExecutionIds) {
    const e = await db('amc_executions').where({ id }).first();
    if (e?.status !== 'completed') {
      problems.push(`AMC execution ${id} ${e?.status}: ${e?.failure_reason ?? ''}`);
      continue;
    }
    const at = world.sandbox.state.amcExecutions.get(e.amc_execution_id);
    const want = at ? amcResultRows(world.sandbox.state, at).length : -1;
    const rs = await world.ch.ch.client.query({
      query: `SELECT count() AS c FROM amc_results FINAL WHERE execution_id = '${id}'`,
      format: 'JSONEachRow',
    });
    const got = Number((await rs.json<{ c: string }>())[0]!.c);
    if (got !== want || e.row_count !== want)
      problems.push(`AMC execution ${id}: ${got} rows stored, AMC produced ${want}`);
  }

  // The supplier catalogue complete.
  const sj = await db('import_jobs').where({ id: job.supplierJobId }).first();
  if (sj?.status !== 'completed') problems.push(`supplier job ${sj?.status}: ${sj?.error ?? ''}`);
  const products = await db('imported_products')
    .where({ supplier_id: sj?.supplier_id })
    .count<{ c: string }[]>('* as c');
  if (Number(products[0]!.c) !== world.options.supplierProducts)
    problems.push(`${products[0]!.c} supplier products stored, the catalogue has ${world.options.supplierProducts}`);

  // No partition stuck. A group whose offsets its coordinator is still loading (it took the group
  // over a moment ago) is asked again for a few seconds before it counts.
  let lag = await consumerLag(world);
  for (let i = 0; i < 10 && lag.some((l) => l.partition < 0); i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    lag = await consumerLag(world);
  }
  for (const l of lag.slice(0, 3))
    problems.push(
      l.partition < 0
        ? `${l.group} shows no committed offsets on ${l.topic}, which it read before`
        : `${l.group} is ${l.lag} behind on ${l.topic}[${l.partition}]`,
    );

  // Every service ready.
  for (const s of Object.values(world.replicas).flat()) {
    const r = await s.readiness();
    if (r.status !== 200) problems.push(`${s.name} not ready: ${JSON.stringify(r.body).slice(0, 300)}`);
  }

  // Dead letters: exactly the poison the fault sent, every one of it indexed.
  const letters = await (
    await world.ch.ch.client.query({
      query: 'SELECT message_key, topic, reason FROM dead_letters FINAL',
      format: 'JSONEachRow',
    })
  ).json<{ message_key: string; topic: string; reason: string }>();
  const expected = new Set(o.expectedDeadLetters);
  for (const l of letters.filter((x) => !expected.has(x.message_key)).slice(0, 3))
    problems.push(`unexpected dead letter on ${l.topic}: ${l.reason}`);
  const got = new Set(letters.map((l) => l.message_key));
  for (const k of o.expectedDeadLetters.filter((x) => !got.has(x))) problems.push(`poison ${k} was not dead-lettered`);
  facts.deadLetters = letters.length;

  return { ok: problems.length === 0, problems, facts };
}
