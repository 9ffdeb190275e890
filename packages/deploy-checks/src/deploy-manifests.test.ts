// deploy/k8s rendered by the real kustomize and every object validated against the
// Kubernetes schemas; docker-compose and k8s checked against the services' own config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { entitySyncConfigShape } from '@adsync/entity-sync/config';
import { requesterConfigShape } from '@adsync/report-requester/config';
import { pollerConfigShape } from '@adsync/report-poller/config';
import { etlLoaderConfigShape } from '@adsync/etl-loader/config';
import { amcConfigShape } from '@adsync/amc-runner/config';
import { supplierConfigShape } from '@adsync/supplier-sync/config';
import { streamConfigShape } from '@adsync/stream-consumer/config';
import { consoleConfigShape } from '@adsync/console/config';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const shapes: Record<string, Record<string, unknown>> = {
  'entity-sync': entitySyncConfigShape,
  'report-requester': requesterConfigShape,
  'report-poller': pollerConfigShape,
  'etl-loader': etlLoaderConfigShape,
  'amc-runner': amcConfigShape,
  'supplier-sync': supplierConfigShape,
  'stream-consumer': streamConfigShape,
  console: consoleConfigShape,
};
const knownVars = new Set([
  ...Object.values(shapes).flatMap((s) => Object.keys(s)),
  'ENTRY',
  'SANDBOX_HOST',
  'SANDBOX_PORT',
  'SANDBOX_SEED',
  'SANDBOX_SCALE',
  'SANDBOX_PROFILES',
  'SANDBOX_CAMPAIGNS_PER_PROFILE',
  'SANDBOX_REPORT_GENERATION_MS',
  'SANDBOX_SUPPLIER_PRODUCTS',
  'SANDBOX_SQS_ENDPOINT',
  'SANDBOX_PUBLIC_URL',
]);

function render(): Record<string, unknown>[] {
  let out: string;
  try {
    out = execFileSync('kustomize', ['build', `${root}deploy/k8s/base`], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(
      `kustomize is needed to render deploy/k8s (deploy/local/stack test installs it): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return parseAllDocuments(out).map((d) => {
    const o = d.toJSON() as Record<string, unknown>;
    // kustomize folds long base64 values over lines; the API server's decoder skips the
    // newlines, the schema's "byte" format does not, so compare what the server sees.
    if (o.kind === 'Secret' && o.data)
      o.data = Object.fromEntries(
        Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
      );
    return o;
  });
}

type Container = {
  name: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  ports?: unknown[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: unknown };
};

test('every rendered object is valid against the Kubernetes schemas', async () => {
  const objects = render();
  assert.ok(objects.length >= 15);
  for (const o of objects) {
    const { apiVersion, kind } = o as { apiVersion: string; kind: string };
    const mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<
      string,
      new (o: unknown) => { validate(): void }
    >;
    const Model = mod[kind];
    assert.ok(Model, `no schema for ${apiVersion} ${kind}`);
    try {
      new Model(o).validate();
    } catch (err) {
      assert.fail(`${kind} ${(o.metadata as { name: string }).name}: ${(err as Error).message}`);
    }
  }
});

test('deployments have probes and resource requests; CronJobs run the schedules the product promises', () => {
  const objects = render();
  const deployments = objects.filter((o) => o.kind === 'Deployment') as {
    metadata: { name: string };
    spec: { template: { spec: { containers: Container[] } } };
  }[];
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), Object.keys(shapes).sort());
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      assert.ok(c.readinessProbe && c.livenessProbe, `${d.metadata.name} has probes`);
      assert.ok(c.resources?.requests, `${d.metadata.name} requests resources`);
      assert.ok(existsSync(`${root}services/${d.metadata.name}/src/main.ts`), `${d.metadata.name} has an entry point`);
    }
  }
  const crons = Object.fromEntries(
    (
      objects.filter((o) => o.kind === 'CronJob') as {
        metadata: { name: string };
        spec: { schedule: string; jobTemplate: { spec: { template: { spec: { containers: Container[] } } } } };
      }[]
    ).map((c) => [c.metadata.name, c]),
  );
  assert.equal(crons['entity-sync-incremental']!.spec.schedule, '0 */4 * * *');
  assert.match(crons['report-requests-daily']!.spec.schedule, /^\d+ \d+ \* \* \*$/);
  assert.match(crons['report-requests-intraday']!.spec.schedule, /\*\/\d+ \* \* \*$/);
  assert.match(crons['supplier-sync-hourly']!.spec.schedule, /^\d+ \* \* \* \*$/);
  assert.match(crons['supplier-maintenance-daily']!.spec.schedule, /^\d+ \d+ \* \* \*$/);
  for (const c of Object.values(crons)) {
    const cmd = c.spec.jobTemplate.spec.template.spec.containers[0]!.command!;
    assert.ok(existsSync(root + cmd[1]), `${c.metadata.name} runs ${cmd[1]}, which exists`);
    assert.match(cmd[1]!, /src\/cli\.ts$/);
  }
});

test('every Deployment has an autoscaler that owns its replicas, a disruption budget, and asks Prometheus to scrape it', () => {
  const objects = render();
  type Meta = { metadata: { name: string } };
  const deployments = objects.filter((o) => o.kind === 'Deployment') as (Meta & {
    spec: {
      replicas?: number;
      template: {
        metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
        spec: { containers: (Container & { ports?: { containerPort: number }[] })[] };
      };
    };
  })[];
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler') as (Meta & {
    apiVersion: string;
    spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
  })[];
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as (Meta & {
    spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
  })[];
  // Services in a Kafka consumer group: a member beyond the topics' partitions (3, event-bus.ts) gets none.
  const kafkaConsumers = ['entity-sync', 'report-poller', 'etl-loader', 'supplier-sync'];
  for (const d of deployments) {
    const name = d.metadata.name;
    assert.equal(d.spec.replicas, undefined, `${name}: the autoscaler owns the replica count`);
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name);
    assert.ok(hpa, `${name} has an autoscaler`);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas, `${name}'s range`);
    if (kafkaConsumers.includes(name)) assert.ok(hpa.spec.maxReplicas <= 3, `${name} stays within 3 partitions`);
    const labels = d.spec.template.metadata.labels;
    const pdb = pdbs.find((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v));
    assert.ok(pdb, `${name} has a disruption budget`);
    // One at a time, and never a budget that blocks a drain (minAvailable equal to the replicas).
    assert.equal(pdb.spec.maxUnavailable, 1, `${name}'s budget`);
    const a = d.spec.template.metadata.annotations ?? {};
    assert.equal(a['prometheus.io/scrape'], 'true', `${name} is scraped`);
    assert.equal(a['prometheus.io/path'], '/metrics');
    assert.equal(Number(a['prometheus.io/port']), d.spec.template.spec.containers[0]!.ports![0]!.containerPort);
  }
  assert.equal(hpas.length, deployments.length);
  assert.equal(pdbs.length, deployments.length);
});

test('the ConfigMap and Secret carry only variables the services read, and no real secret', () => {
  const objects = render();
  for (const o of objects.filter((x) => x.kind === 'ConfigMap' || x.kind === 'Secret')) {
    for (const key of Object.keys((o as { data: Record<string, string> }).data))
      assert.ok(knownVars.has(key), `${o.kind} key ${key} is read by a service`);
  }
  const secret = objects.find((o) => o.kind === 'Secret') as { data: Record<string, string> };
  assert.match(Buffer.from(secret.data.ENCRYPTION_KEY!, 'base64').toString(), /REPLACE/);
});

test('docker-compose: every adsync container has an entry point and sets only variables its service reads', () => {
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { build?: { args?: { SERVICE?: string } }; environment?: Record<string, unknown>; image?: string }
    >;
  };
  const built = Object.entries(compose.services).filter(([, s]) => s.build);
  assert.ok(built.length >= 8);
  for (const [name, s] of built) {
    const entry = (s.environment?.ENTRY as string | undefined) ?? `services/${s.build!.args!.SERVICE}/src/main.ts`;
    assert.ok(existsSync(root + entry), `${name}: ${entry} exists`);
    for (const key of Object.keys(s.environment ?? {}))
      assert.ok(knownVars.has(key), `${name} sets ${key}, which nothing reads`);
  }
  assert.ok(existsSync(`${root}Dockerfile`));
});

test('migrations are their own step: a Job and a compose service run migrate-cli, and no service migrates as it starts', () => {
  const objects = render();
  const job = objects.find((o) => o.kind === 'Job' && (o.metadata as { name: string }).name === 'adsync-migrate') as
    { spec: { template: { spec: { containers: Container[] } } } } | undefined;
  assert.ok(job, 'deploy/k8s has the migrate Job');
  const cmd = job.spec.template.spec.containers[0]!.command!;
  assert.deepEqual(cmd, ['node', 'packages/shared/src/db/migrate-cli.ts']);
  assert.ok(existsSync(root + cmd[1]));
  const config = objects.find((o) => o.kind === 'ConfigMap') as { data: Record<string, string> };
  assert.equal(config.data.MIGRATE_ON_START, 'false');
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { environment?: Record<string, unknown>; depends_on?: Record<string, { condition: string }> }
    >;
  };
  assert.equal(compose.services.migrate?.environment?.ENTRY, 'packages/shared/src/db/migrate-cli.ts');
  for (const name of Object.keys(shapes)) {
    assert.equal(compose.services[name]!.environment!.MIGRATE_ON_START, 'false', `${name} does not migrate on start`);
    assert.equal(
      compose.services[name]!.depends_on?.migrate?.condition,
      'service_completed_successfully',
      `${name} starts after the migrations`,
    );
  }
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.migrate, 'node packages/shared/src/db/migrate-cli.ts');
});
