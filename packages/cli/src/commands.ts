/**
 * The operator's commands, each a function of the HTTP APIs and an output: what the
 * services already answer, put the way an operator reads it (tables, progress on long
 * work) or as JSON for scripts (--json prints each command's one result object).
 */
import { ApiError, SERVICE_NAMES, type Api } from './api.ts';

export interface Output {
  json: boolean;
  /** A line for people (not printed with --json). */
  line(text: string): void;
  /** Progress of long work: redrawn in place on a terminal, a line per change otherwise. */
  progress(label: string, done: number, total: number, detail?: string): void;
  /** The command's result: a table or text for people, the object itself with --json. */
  result(value: unknown, human?: () => void): void;
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => v.slice(0, widths[i]).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    fmt(columns),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => fmt(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

export function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}

export interface Deps {
  api: Api;
  out: Output;
  /** Where consumer lag and queue depths are read (PROMETHEUS_URL); none: status leaves them out. */
  prometheusUrl?: string;
  sleep?: (ms: number) => Promise<void>;
  /** How long to wait for long work before giving up (the work goes on; its status URL says so). */
  timeoutMs?: number;
}

const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  deps: Deps,
  what: string,
  check: () => Promise<{ done: boolean; value: T }>,
  intervalMs = 1000,
): Promise<T> {
  const sleep = deps.sleep ?? realSleep;
  const deadline = Date.now() + (deps.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const { done, value } = await check();
    if (done) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; it goes on in the background`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- status

export async function status(deps: Deps): Promise<void> {
  const { api, out } = deps;
  const services = await Promise.all(
    SERVICE_NAMES.map(async (s) => {
      try {
        const r = await api<{ status?: string; checks?: Record<string, { ok: boolean; detail: string }> }>(
          s,
          'GET',
          '/ready',
        );
        const failing = Object.entries(r.checks ?? {})
          .filter(([, c]) => !c.ok)
          .map(([k, c]) => `${k}: ${c.detail}`);
        return { service: s, ready: failing.length === 0, detail: failing.join('; ') || 'ok' };
      } catch (err) {
        return { service: s, ready: false, detail: (err as Error).message };
      }
    }),
  );
  const soft = async <T>(f: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await f();
    } catch {
      return fallback;
    }
  };
  const monitor = await soft(
    () =>
      api<{ reports: { report_type: string; status: string; count: number }[] }>(
        'report-poller',
        'GET',
        '/v1/reports/monitor',
      ),
    { reports: [] },
  );
  const inFlight = monitor.reports.filter((r) =>
    ['requesting', 'pending', 'processing', 'completed'].includes(r.status),
  );
  const letters = await soft(
    () => api<{ letters: { topic: string }[] }>('etl-loader', 'GET', '/v1/dead-letters?state=active&limit=1000'),
    { letters: [] },
  );
  const accounts = await soft(
    () =>
      api<{
        accounts: {
          id: string;
          company_name: string;
          profiles?: number;
          last_ingestion?: { status: string; started_at: string; finished_at: string | null } | null;
        }[];
      }>('entity-sync', 'GET', '/v1/accounts?limit=1000'),
    { accounts: [] },
  );
  // Lag and queues come from Prometheus, which scrapes every service's /metrics.
  const prom = async (q: string) =>
    soft(async () => {
      if (!deps.prometheusUrl) return [];
      const res = await fetch(`${deps.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    }, []);
  const lag = (await prom('sum by (group) (adsync_consumer_lag)')).map((r) => ({
    group: r.metric.group,
    lag: Number(r.value[1]),
  }));
  const oldest = new Map(
    (await prom('max by (queue) (adsync_queue_oldest_age_seconds)')).map((r) => [r.metric.queue, Number(r.value[1])]),
  );
  const queues = (await prom('max by (queue) (adsync_queue_depth)')).map((r) => ({
    queue: r.metric.queue,
    depth: Number(r.value[1]),
    oldest_s: Math.round(oldest.get(r.metric.queue) ?? 0),
  }));
  const result = {
    services,
    lag,
    queues,
    reportsInFlight: inFlight.reduce((a, r) => a + r.count, 0),
    reportsByStatus: monitor.reports,
    deadLettersActive: letters.letters.length,
    accounts: accounts.accounts.map((a) => ({
      id: a.id,
      company: a.company_name,
      profiles: a.profiles ?? null,
      last_sync: a.last_ingestion ? `${a.last_ingestion.status} ${a.last_ingestion.started_at}` : 'never',
    })),
  };
  out.result(result, () => {
    out.line(table(services, ['service', 'ready', 'detail']));
    out.line('');
    out.line(`reports in flight: ${result.reportsInFlight}    dead letters waiting: ${result.deadLettersActive}`);
    if (deps.prometheusUrl && lag.length + queues.length === 0)
      out.line(`(no lag or queue figures: Prometheus at ${deps.prometheusUrl} has none yet)`);
    if (lag.length) out.line(`\n${table(lag, ['group', 'lag'])}`);
    if (queues.length) out.line(`\n${table(queues, ['queue', 'depth', 'oldest_s'])}`);
    out.line('');
    out.line(table(result.accounts, ['id', 'company', 'profiles', 'last_sync']));
  });
  if (services.some((s) => !s.ready)) process.exitCode = 1;
}

// ---------------------------------------------------------------- accounts and connecting

export async function accountsList(deps: Deps): Promise<void> {
  const r = await deps.api<{ accounts: Record<string, unknown>[] }>('entity-sync', 'GET', '/v1/accounts?limit=1000');
  deps.out.result(r.accounts, () => deps.out.line(table(r.accounts, ['id', 'company_name', 'status', 'profiles'])));
}

export async function accountsCreate(deps: Deps, name: string, email?: string): Promise<void> {
  const r = await deps.api('entity-sync', 'POST', '/v1/accounts', {
    company_name: name,
    ...(email ? { primary_contact_email: email } : {}),
  });
  deps.out.result(r, () => deps.out.line(`created account ${String(r.id)} (${name})`));
}

/**
 * An account's Amazon DSP advertisers; with `discover`, asks Amazon first (under its DSP
 * profiles, through manager accounts); with `entities`, then syncs their campaigns, ad groups,
 * ads and targets (Ads API v1) and says how many of each.
 */
export async function dspAdvertisers(
  deps: Deps,
  accountId: string,
  discover: boolean,
  entities = false,
): Promise<void> {
  const found = discover
    ? await deps.api<{ discovered: number; added: number; unreachable: { route: string; reason: string }[] }>(
        'entity-sync',
        'POST',
        `/v1/accounts/${accountId}/dsp-advertisers/sync`,
      )
    : null;
  const synced = entities
    ? await deps.api<{
        synced: { kind: string; stored: number }[];
        failed: { advertiserId: string; reason: string }[];
      }>('entity-sync', 'POST', `/v1/accounts/${accountId}/dsp-entities/sync`)
    : null;
  const r = await deps.api<{ advertisers: Record<string, unknown>[] }>(
    'entity-sync',
    'GET',
    `/v1/accounts/${accountId}/dsp-advertisers?limit=1000`,
  );
  const result = {
    ...(found ? { discovery: found } : {}),
    ...(synced ? { entities: synced } : {}),
    advertisers: r.advertisers,
  };
  deps.out.result(result, () => {
    if (found) {
      deps.out.line(`discovered ${found.discovered} DSP advertiser(s), ${found.added} new`);
      for (const u of found.unreachable) deps.out.line(`  Amazon refused ${u.route}: ${u.reason}`);
    }
    if (synced) {
      const counts = new Map<string, number>();
      for (const x of synced.synced) counts.set(x.kind, (counts.get(x.kind) ?? 0) + x.stored);
      deps.out.line(`synced DSP entities: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}`);
      for (const f of synced.failed) deps.out.line(`  advertiser ${f.advertiserId} not synced: ${f.reason}`);
    }
    deps.out.line(
      table(r.advertisers, ['advertiser_id', 'name', 'access', 'currency_code', 'status', 'status_reason']),
    );
  });
}

export async function connect(deps: Deps, accountId: string, region: string, wait: boolean): Promise<void> {
  const { api, out } = deps;
  const started = await api<{ consent_url: string; expires_at: string }>(
    'entity-sync',
    'POST',
    `/v1/accounts/${accountId}/connect`,
    { region },
  );
  out.line(
    `Open this link as the advertiser, in the browser they sign in to Amazon with (it works once, until ${started.expires_at}):`,
  );
  out.line(`  ${started.consent_url}`);
  if (!wait) return out.result(started);
  out.line('waiting for the advertiser to allow access…');
  const profiles = await waitFor(deps, 'the consent', async () => {
    const r = await api<{ profiles: { profile_id: string; country_code: string }[] }>(
      'entity-sync',
      'GET',
      `/v1/accounts/${accountId}/profiles?limit=1000`,
    );
    return { done: r.profiles.length > 0, value: r.profiles };
  });
  out.result({ ...started, profiles }, () =>
    out.line(
      `connected: ${profiles.length} profile(s): ${profiles.map((p) => `${p.profile_id} (${p.country_code})`).join(', ')}`,
    ),
  );
}

// ---------------------------------------------------------------- sync, backfill, gaps

export async function sync(deps: Deps, accountId: string, wait: boolean): Promise<void> {
  const { api, out } = deps;
  const { runId } = await api<{ runId: string }>('entity-sync', 'POST', `/v1/ingestion/sync-account/${accountId}`);
  if (!wait) return out.result({ runId });
  const stages = ['profiles', 'entities', 'reports'];
  const run = await waitFor(deps, `ingestion run ${runId}`, async () => {
    const r = await api<{ status: string; stages: Record<string, { status?: string }>; error?: string | null }>(
      'entity-sync',
      'GET',
      `/v1/ingestion/runs/${runId}`,
    );
    const finished = stages.filter((s) => r.stages[s]?.status === 'done' || r.stages[s]?.status === 'succeeded').length;
    out.progress(
      'sync',
      finished,
      stages.length,
      stages.map((s) => `${s}: ${r.stages[s]?.status ?? 'pending'}`).join(', '),
    );
    return { done: r.status !== 'running' && r.status !== 'queued', value: r };
  });
  out.result(run, () => out.line(`ingestion ${runId}: ${run.status}${run.error ? ` (${run.error})` : ''}`));
  if (run.status === 'failed') process.exitCode = 1;
}

export async function backfill(
  deps: Deps,
  o: { profileId?: string; accountId?: string; from: string; to: string; reportTypes?: string[]; wait: boolean },
): Promise<void> {
  const { api, out } = deps;
  const started = await api<{ runId: string; planned: number; profiles: number }>(
    'report-requester',
    'POST',
    '/v1/reports/backfill',
    {
      from: o.from,
      to: o.to,
      ...(o.profileId ? { profileId: o.profileId } : {}),
      ...(o.accountId ? { accountId: o.accountId } : {}),
      ...(o.reportTypes?.length ? { reportTypes: o.reportTypes } : {}),
    },
  );
  out.line(`backfill ${started.runId}: ${started.planned} report(s) planned for ${started.profiles} profile(s)`);
  if (!o.wait) return out.result(started);
  const final = await waitFor(
    deps,
    `backfill ${started.runId}`,
    async () => {
      try {
        const r = await api<{ progress: { total: number; loaded: number; failed: number; in_flight: number } }>(
          'report-requester',
          'GET',
          `/v1/reports/runs/${started.runId}?limit=1`,
        );
        const p = r.progress;
        out.progress('backfill', p.loaded + p.failed, started.planned, `${p.failed} failed, ${p.in_flight} in flight`);
        return { done: p.total > 0 && p.in_flight === 0 && p.loaded + p.failed >= p.total, value: p };
      } catch (err) {
        // The run is recorded as its reports are asked for; until the first is, it is not found.
        if (err instanceof ApiError && err.status === 404) return { done: false, value: null };
        throw err;
      }
    },
    2000,
  );
  out.result({ ...started, progress: final }, () =>
    out.line(`backfill ${started.runId}: ${final!.loaded} loaded, ${final!.failed} failed`),
  );
  if (final && final.failed > 0) process.exitCode = 1;
}

export async function gaps(
  deps: Deps,
  o: { from: string; to: string; profileId?: string; reportType?: string },
): Promise<void> {
  const q = new URLSearchParams({ from: o.from, to: o.to });
  if (o.profileId) q.set('profileId', o.profileId);
  if (o.reportType) q.set('reportType', o.reportType);
  const r = await deps.api<{ complete: boolean; total: number; gaps: Record<string, unknown>[] }>(
    'report-poller',
    'GET',
    `/v1/reports/gaps?${q}`,
  );
  deps.out.result(r, () => {
    deps.out.line(r.complete ? `complete: no gaps from ${o.from} to ${o.to}` : `${r.total} gap(s):`);
    if (!r.complete) deps.out.line(table(r.gaps, ['profileId', 'reportType', 'day', 'kind', 'reason']));
  });
  if (!r.complete) process.exitCode = 2;
}

// ---------------------------------------------------------------- dead letters

export interface LetterSelection {
  topic?: string;
  reason?: string;
  from?: string;
  to?: string;
  state?: string;
  limit?: number;
  dryRun?: boolean;
}

const selectionBody = (s: LetterSelection) =>
  Object.fromEntries(
    Object.entries({
      topic: s.topic,
      reason: s.reason,
      from: s.from,
      to: s.to,
      limit: s.limit,
      dryRun: s.dryRun,
    }).filter(([, v]) => v !== undefined),
  );

export async function dlqList(deps: Deps, s: LetterSelection): Promise<void> {
  const q = new URLSearchParams(
    Object.entries({ topic: s.topic, reason: s.reason, from: s.from, to: s.to, state: s.state, limit: s.limit })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  const r = await deps.api<{ letters: Record<string, unknown>[] }>('etl-loader', 'GET', `/v1/dead-letters?${q}`);
  deps.out.result(r.letters, () =>
    deps.out.line(table(r.letters, ['at', 'topic', 'dlq_partition', 'dlq_offset', 'state', 'reason'])),
  );
}

async function dlqAction(deps: Deps, action: 'replay' | 'purge', s: LetterSelection): Promise<void> {
  const r = await deps.api<{ selected: number; done: number; skipped: { reason: string }[]; dryRun: boolean }>(
    'etl-loader',
    'POST',
    `/v1/dead-letters/${action}`,
    selectionBody(s),
  );
  const verb = action === 'replay' ? 'replayed' : 'purged';
  deps.out.result(r, () => {
    deps.out.line(
      `${r.selected} selected, ${r.done} ${r.dryRun ? `would be ${verb}` : verb}, ${r.skipped.length} skipped`,
    );
    const why = new Map<string, number>();
    for (const k of r.skipped) why.set(k.reason, (why.get(k.reason) ?? 0) + 1);
    for (const [reason, n] of why) deps.out.line(`  ${n} × ${reason}`);
  });
}

export const dlqReplay = (deps: Deps, s: LetterSelection) => dlqAction(deps, 'replay', s);
export const dlqPurge = (deps: Deps, s: LetterSelection) => dlqAction(deps, 'purge', s);
