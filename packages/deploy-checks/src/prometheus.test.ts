// Prometheus's own tools judge what we ship: the alert rules parse (promtool check rules),
// each alert fires on the series that should fire it and stays quiet otherwise
// (promtool test rules deploy/prometheus/alerts.test.yml), the rendered scrape config is
// valid (promtool check config), and every metric the rules name is one the services export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from '@adsync/shared/runtime/metrics';

const dir = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));
const promtool = (...args: string[]) => {
  try {
    return execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      assert.fail("promtool is not installed: deploy/local/stack up installs Debian's prometheus");
    assert.fail(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
};

test('the alert rules parse', () => {
  assert.match(promtool('check', 'rules', 'alerts.yml'), /SUCCESS: 4 rules found/);
});

test('each alert fires on its series and not on the others (promtool test rules)', () => {
  assert.match(promtool('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
});

test('the scrape config the stack renders is valid', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'adsync-prom-'));
  mkdirSync(join(tmp, 'targets'));
  const cfg = readFileSync(join(dir, 'prometheus.yml.in'), 'utf8')
    .replaceAll('@RULES@', join(dir, 'alerts.yml'))
    .replaceAll('@TARGETS_DIR@', join(tmp, 'targets'));
  writeFileSync(join(tmp, 'prometheus.yml'), cfg);
  assert.match(promtool('check', 'config', join(tmp, 'prometheus.yml')), /SUCCESS/);
});

test('every adsync metric the rules name is one the services export', async () => {
  const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
  const named = new Set(rules.match(/adsync_[a-z_]+/g));
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  assert.ok(named.size >= 4);
  for (const n of named) assert.ok(exported.has(n), `${n} is exported`);
});

test("docker-compose's scrape config is valid too", () => {
  const tmp = mkdtempSync(join(tmpdir(), 'adsync-prom-compose-'));
  const cfg = readFileSync(join(dir, 'prometheus-compose.yml'), 'utf8').replaceAll(
    '/etc/prometheus/alerts.yml',
    join(dir, 'alerts.yml'),
  );
  writeFileSync(join(tmp, 'prometheus.yml'), cfg);
  assert.match(promtool('check', 'config', join(tmp, 'prometheus.yml')), /SUCCESS/);
});

test("Kubernetes' scrape config (pods found through the API server) is valid too", () => {
  const text = readFileSync(join(dir, 'prometheus-k8s.yml'), 'utf8');
  // Debian's Prometheus is built without Kubernetes discovery, so its promtool refuses the
  // block itself: what it names is checked here, and promtool checks the rest (rules, relabelling)
  // with the block swapped for a static target.
  const sd = /( +)kubernetes_sd_configs:\n\1 {2}- role: pod\n\1 {4}namespaces:\n\1 {6}names: \[adsync\]\n/;
  assert.match(text, sd, 'pods of the adsync namespace');
  const tmp = mkdtempSync(join(tmpdir(), 'adsync-prom-k8s-'));
  const cfg = text
    .replace(sd, "$1static_configs:\n$1  - targets: ['127.0.0.1:8084']\n")
    .replaceAll('/etc/prometheus/alerts.yml', join(dir, 'alerts.yml'));
  assert.notEqual(cfg, text);
  writeFileSync(join(tmp, 'prometheus.yml'), cfg);
  assert.match(promtool('check', 'config', join(tmp, 'prometheus.yml')), /SUCCESS/);
});

test('the operations dashboard: a provisioned Prometheus data source, and every panel a query the real Prometheus runs', async () => {
  const prometheus = process.env.PROMETHEUS_URL;
  assert.ok(prometheus, 'PROMETHEUS_URL (deploy/local/stack up starts Prometheus)');
  const dash = JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../../deploy/grafana/dashboards/operations/operations.json', import.meta.url)),
      'utf8',
    ),
  ) as { panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[] };
  const provisioned = readFileSync(
    fileURLToPath(new URL('../../../deploy/grafana/provisioning/datasources/clickhouse.yaml', import.meta.url)),
    'utf8',
  );
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  assert.ok(dash.panels.length >= 10);
  for (const p of dash.panels) {
    assert.match(provisioned, new RegExp(`uid: ${p.datasource.uid}\\s+type: prometheus`), p.title);
    for (const t of p.targets) {
      for (const name of t.expr.match(/adsync_[a-z_]+/g) ?? [])
        assert.ok(exported.has(name.replace(/_(bucket|count|sum)$/, '')), `${p.title}: ${name} is exported`);
      const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(t.expr)}`);
      const body = (await res.json()) as { status: string; error?: string };
      assert.equal(body.status, 'success', `${p.title}: ${t.expr}: ${body.error ?? ''}`);
    }
  }
});
