// The layout rules the code keeps, checked on every run so they stay true:
// services share code only through packages/, claim work only through the queue
// primitive, start only through the service runtime, and keep no network call in a transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const services = readdirSync(join(root, 'services')).filter((d) => statSync(join(root, 'services', d)).isDirectory());

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|sql)$/.test(e.name)) out.push(p);
  }
  return out;
}

const everything = [
  ...sources(join(root, 'packages')),
  ...sources(join(root, 'services')),
  ...sources(join(root, 'scripts')),
  ...sources(join(root, 'bench')),
];
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

test("no service imports another service's code, tests included", () => {
  const offences: string[] = [];
  for (const s of services) {
    for (const file of sources(join(root, 'services', s))) {
      for (const spec of importsOf(file)) {
        const other = services.find((o) => o !== s && (spec === `@adsync/${o}` || spec.startsWith(`@adsync/${o}/`)));
        if (other) offences.push(`${relative(root, file)} imports ${spec}`);
        if (spec.startsWith('.')) {
          const target = relative(join(root, 'services', s), resolve(dirname(file), spec));
          if (target.startsWith('..')) offences.push(`${relative(root, file)} reaches outside its service: ${spec}`);
        }
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, 'services', s, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (services.some((o) => dep === `@adsync/${o}`)) offences.push(`services/${s}/package.json depends on ${dep}`);
    }
  }
  assert.deepEqual(offences, []);
});

test('packages never import a service (what two services need lives in packages/)', () => {
  const offences: string[] = [];
  for (const file of sources(join(root, 'packages'))) {
    // Cross-service tests (e2e, deploy checks) are the exception: they exercise services together.
    if (/packages\/(e2e|deploy-checks)\//.test(file)) continue;
    for (const spec of importsOf(file))
      if (services.some((o) => spec === `@adsync/${o}` || spec.startsWith(`@adsync/${o}/`)))
        offences.push(`${relative(root, file)} imports ${spec}`);
  }
  assert.deepEqual(offences, []);
});

test('FOR UPDATE SKIP LOCKED appears only in the work-queue primitive', () => {
  const found = everything
    .filter((f) => !f.endsWith('architecture.test.ts') && /for\s+update\s+skip\s+locked/i.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f));
  assert.deepEqual(found, ['packages/shared/src/runtime/work-queue.ts']);
});

test('every service starts through the shared runtime, and its main.ts reads as a short list of what it runs', () => {
  for (const s of services) {
    const main = readFileSync(join(root, 'services', s, 'src', 'main.ts'), 'utf8');
    assert.match(main, /await runService\(\{/, `${s}/main.ts uses runService`);
    assert.ok(main.split('\n').length <= 50, `${s}/main.ts has ${main.split('\n').length} lines`);
    assert.doesNotMatch(main, /process\.on\('SIG/, `${s}/main.ts leaves signals to the runtime`);
    assert.doesNotMatch(main, /setInterval|setTimeout/, `${s}/main.ts leaves timers to the loop primitive`);
  }
  for (const s of services) {
    let cli: string;
    try {
      cli = readFileSync(join(root, 'services', s, 'src', 'cli.ts'), 'utf8');
    } catch {
      continue;
    }
    assert.match(cli, /runTask\(/, `${s}/cli.ts uses runTask`);
  }
});

test('no Amazon or supplier call is made inside a database transaction', () => {
  // A transaction callback's body, up to its closing `});`, must not touch a client that goes over the network.
  const offences: string[] = [];
  let seen = 0;
  for (const file of everything.filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/sandbox/'),
  )) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.transaction\(async \((\w+)\) => \{([\s\S]*?)\n\s*\}\);/g)) {
      seen++;
      // Our own ClickHouse is allowed: a supplier batch writes its history there before its
      // Postgres transaction commits, so a batch is whole or not at all (run-job.ts). Amazon
      // and suppliers are not: they are slow, rate-limited and can hang for minutes.
      const body = m[2]!.replace(/\bch\.client\./g, '');
      if (/\b(client\.|clients\.|fetch\(|request\(|forAccount\(|callJson\(|createExecution\(|download\()/.test(body))
        offences.push(`${relative(root, file)}: ${m[2]!.trim().split('\n')[0]}`);
    }
  }
  assert.ok(seen >= 8, `the check read the transactions (${seen})`);
  assert.deepEqual(offences, []);
});

/**
 * Who owns each table: the one module whose statements read and write it. Every other module
 * calls that module (or scopes its own table by a subquery the owner builds); migrations and
 * the harnesses that judge outcomes (tests, chaos, e2e, bench) may read any table.
 */
const TABLE_OWNERS: Record<string, string> = {
  accounts: 'packages/shared/src/accounts/accounts.ts',
  profiles: 'packages/shared/src/accounts/profiles.ts',
  profile_claims: 'packages/shared/src/accounts/profiles.ts',
  dsp_advertisers: 'packages/shared/src/accounts/dsp-advertisers.ts',
  dsp_entities: 'packages/shared/src/entities/dsp-entity-store.ts',
  amazon_credentials: 'packages/shared/src/amazon/account-clients.ts',
  api_keys: 'packages/shared/src/http/api-keys.ts',
  event_outbox: 'packages/shared/src/db/outbox.ts',
  dead_letters: 'packages/shared/src/db/dead-letter-index.ts',
  dead_letters_v: 'packages/shared/src/db/dead-letter-index.ts',
  dead_letters_before_index: 'packages/shared/src/db/dead-letter-index.ts',
  pending_amazon_reports: 'packages/shared/src/reports/pending-reports.ts',
  report_day_loads: 'packages/shared/src/reports/pending-reports.ts',
  ads_metrics_daily: 'packages/shared/src/reports/ads-metrics.ts',
  ads_metrics_recent: 'packages/shared/src/reports/ads-metrics.ts',
  ads_purchased_products: 'packages/shared/src/reports/ads-metrics.ts',
  ads_traffic_quality: 'packages/shared/src/reports/ads-metrics.ts',
  ads_audience_daily: 'packages/shared/src/reports/ads-metrics.ts',
  ads_conversion_paths: 'packages/shared/src/reports/ads-metrics.ts',
  dsp_metrics_daily: 'packages/shared/src/reports/ads-metrics.ts',
  stream_mismatches: 'packages/shared/src/streams/reconciliation.ts',
  stream_reconciled_days: 'packages/shared/src/streams/reconciliation.ts',
  entity_portfolios: 'packages/shared/src/entities/entity-store.ts',
  entity_campaigns: 'packages/shared/src/entities/entity-store.ts',
  entity_ad_groups: 'packages/shared/src/entities/entity-store.ts',
  entity_ads: 'packages/shared/src/entities/entity-store.ts',
  entity_targets: 'packages/shared/src/entities/entity-store.ts',
  entity_negative_targets: 'packages/shared/src/entities/entity-store.ts',
  entity_creatives: 'packages/shared/src/entities/entity-store.ts',
  entity_budget_rules: 'packages/shared/src/entities/entity-store.ts',
  entity_budget_rule_campaigns: 'packages/shared/src/entities/entity-store.ts',
  entity_context: 'services/entity-sync/src/entity-context.ts',
  sync_runs: 'services/entity-sync/src/sync-runs.ts',
  sync_state: 'services/entity-sync/src/sync-runs.ts',
  sync_batches: 'services/entity-sync/src/sync-runs.ts',
  ingestion_runs: 'services/entity-sync/src/ingestion.ts',
  attribution_profiles: 'services/entity-sync/src/attribution-store.ts',
  attribution_advertisers: 'services/entity-sync/src/attribution-store.ts',
  attribution_publishers: 'services/entity-sync/src/attribution-store.ts',
  attribution_tags: 'services/entity-sync/src/attribution-store.ts',
  attribution_performance_daily: 'services/entity-sync/src/attribution-store.ts',
  attribution_products_daily: 'services/entity-sync/src/attribution-store.ts',
  oauth_states: 'services/entity-sync/src/oauth-connect.ts',
  report_reconciliation: 'services/report-poller/src/reconciliation.ts',
  dead_letter_actions: 'services/etl-loader/src/dead-letters.ts',
  stream_subscriptions: 'services/stream-consumer/src/subscriptions.ts',
  stream_traffic_hourly: 'services/stream-consumer/src/stream-facts.ts',
  stream_conversion_hourly: 'services/stream-consumer/src/stream-facts.ts',
  stream_budget_usage: 'services/stream-consumer/src/stream-facts.ts',
  stream_budget_recommendations: 'services/stream-consumer/src/stream-facts.ts',
  stream_sb_clickstream_hourly: 'services/stream-consumer/src/stream-facts.ts',
  stream_sb_rich_media_hourly: 'services/stream-consumer/src/stream-facts.ts',
  stream_campaign_recommendations: 'services/stream-consumer/src/stream-facts.ts',
  amc_instances: 'services/amc-runner/src/instances.ts',
  amc_workflows: 'services/amc-runner/src/workflows.ts',
  amc_schedules: 'services/amc-runner/src/schedules.ts',
  amc_executions: 'services/amc-runner/src/executions.ts',
  amc_execution_loads: 'services/amc-runner/src/executions.ts',
  amc_results: 'services/amc-runner/src/amc-results.ts',
  amc_results_latest: 'services/amc-runner/src/amc-results.ts',
  suppliers: 'services/supplier-sync/src/suppliers.ts',
  import_jobs: 'services/supplier-sync/src/job-queue.ts',
  imported_products: 'services/supplier-sync/src/products.ts',
  orders: 'services/supplier-sync/src/products.ts',
  supplier_product_history: 'services/supplier-sync/src/product-history.ts',
  webhooks: 'services/supplier-sync/src/webhooks.ts',
  webhook_deliveries: 'services/supplier-sync/src/webhooks.ts',
  marketplace_integrations: 'services/supplier-sync/src/marketplaces.ts',
  marketplace_listings: 'services/supplier-sync/src/marketplaces.ts',
  marketplace_outbound: 'services/supplier-sync/src/marketplaces.ts',
};

/** Files that may read any table: migrations and the harnesses that judge outcomes. */
const judges = (file: string) =>
  /\.(test|int\.test)\.ts$|\/testing\.ts$|\.sql$|^packages\/(chaos|e2e|deploy-checks)\/|^(bench|scripts)\//.test(file);

const tablesInMigrations = (): string[] => {
  const names = new Set<string>();
  for (const kind of ['postgres', 'clickhouse']) {
    const dir = join(root, 'packages/shared/migrations', kind);
    for (const f of readdirSync(dir)
      .filter((f) => f.endsWith('.up.sql'))
      .sort()) {
      const sql = readFileSync(join(dir, f), 'utf8');
      for (const m of sql.matchAll(
        /create\s+(?:table|materialized\s+view|view)\s+(?:if\s+not\s+exists\s+)?(?:[\w${}]+\.)?(\w+)/gi,
      ))
        names.add(m[1]!.toLowerCase());
      // What a later migration dropped, or renamed away, is not a table any more.
      for (const m of sql.matchAll(/drop\s+table\s+(?:if\s+exists\s+)?(\w+)/gi)) names.delete(m[1]!.toLowerCase());
      for (const m of sql.matchAll(/(\w+)\s+to\s+(\w+)/gi))
        if (/rename\s+table/i.test(sql) && names.has(m[1]!.toLowerCase())) {
          names.delete(m[1]!.toLowerCase());
          names.add(m[2]!.toLowerCase());
        }
    }
  }
  return [...names].sort();
};

/**
 * A table named in a statement: a query builder called on it (`db('t')`, `.join('t as x', …)`,
 * `.from('t')`) or raw SQL that reads or writes it (FROM / INTO / UPDATE / JOIN / TABLE t).
 */
export function statementsOn(text: string, table: string): boolean {
  const quoted = new RegExp(
    `(?:\\b(?:db|trx|tx|knex)|\\.(?:db|from|into|table|join|leftJoin|innerJoin|rightJoin))\\s*\\(\\s*['"\`]${table}(?:\\s+as\\s+\\w+)?['"\`]`,
    'i',
  );
  const raw = new RegExp(`\\b(?:from|into|update|join|table)\\s+(?:\\$\\{[^}]+\\}\\.|\\w+\\.)?${table}\\b`, 'i');
  return quoted.test(text) || raw.test(text);
}

test('every table has one owning module, and no other module names it in a statement', () => {
  const tables = tablesInMigrations();
  assert.ok(tables.length >= 50, `the check read the migrations (${tables.length} tables)`);
  assert.deepEqual(
    tables.filter((t) => !TABLE_OWNERS[t]),
    [],
    'tables without an owner',
  );
  const offences: string[] = [];
  for (const file of everything.map((f) => relative(root, f))) {
    if (judges(file) || !file.endsWith('.ts')) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const t of tables)
      if (TABLE_OWNERS[t] !== file && statementsOn(text, t))
        offences.push(`${file} names ${t} (owner: ${TABLE_OWNERS[t]})`);
  }
  assert.deepEqual(offences, []);
});

test('the ownership check sees a statement in each form it claims to', () => {
  for (const s of [
    "db('profiles').where({ profile_id })",
    'trx(\n  "profiles",\n)',
    ".join('profiles as p', 'p.profile_id', 'r.profile_id')",
    "this.db('profiles').first()",
    "q.from('profiles')",
    'select count(*) from profiles p',
    'INSERT INTO ${db}.profiles (a) VALUES',
    'update profiles set status = ?',
  ])
    assert.ok(statementsOn(s, 'profiles'), s);
  for (const s of [
    "const kind = 'profiles';",
    'GET /v2/profiles',
    "table: 'profiles'",
    "byTable.get('profiles')",
    'profiles_claims',
  ])
    assert.ok(!statementsOn(s, 'profiles'), s);
});

test('one error model: every error class adsync raises extends AppError (code, retriable)', () => {
  const offences: string[] = [];
  for (const file of everything.map((f) => relative(root, f))) {
    // The operator's CLI and the console's page are HTTP clients: their errors are answers they read, not ours.
    if (
      !file.endsWith('.ts') ||
      file.endsWith('.test.ts') ||
      file.startsWith('packages/cli/') ||
      file.startsWith('services/console/web/')
    )
      continue;
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(
      /class (\w+) extends (Error|TypeError|RangeError)\b/g,
    ))
      if (!(file === 'packages/shared/src/runtime/errors.ts' && m[1] === 'AppError')) offences.push(`${file}: ${m[1]}`);
  }
  assert.deepEqual(offences, []);
});
