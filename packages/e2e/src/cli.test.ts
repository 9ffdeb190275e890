// The operator CLI (packages/cli) against the services' real HTTP APIs, listening on ports:
// each command's --json result is what the API answered, refusals exit non-zero with the
// API's reason, and an account key sees its own account only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '@adsync/cli/main';
import type { Output } from '@adsync/cli/commands';
import { addDays } from '@adsync/shared/calendar';
import { startServiceApps, type ServiceApps } from './service-apps.ts';

let s: ServiceApps;
before(async () => {
  s = await startServiceApps();
  await s.listen();
});
after(async () => {
  await s?.close();
});

const env = (key: string) => ({
  ADSYNC_API_KEY: key,
  ...Object.fromEntries(
    Object.entries(s.urls).map(([svc, url]) => [`ADSYNC_${svc.toUpperCase().replace(/-/g, '_')}_URL`, url]),
  ),
});

/** Runs one command; returns its exit code, its --json result and any progress it drew. */
async function cli(args: string[], key = s.adminKey) {
  const results: unknown[] = [];
  const progress: string[] = [];
  const out: Output = {
    json: true,
    line: () => undefined,
    progress: (label, done, total) => void progress.push(`${label} ${done}/${total}`),
    result: (v) => void results.push(v),
  };
  const saved = process.exitCode;
  process.exitCode = undefined;
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run([...args, '--json'], env(key), out);
    return { code, result: results[0] as Record<string, unknown> & unknown[], progress, stderr: errors.join('') };
  } finally {
    process.stderr.write = write;
    process.exitCode = saved;
  }
}

test('accounts lists what the key may see: the admin both tenants, an account key its own', async () => {
  const all = await cli(['accounts']);
  assert.equal(all.code, 0);
  const ids = (all.result as { id: string }[]).map((a) => a.id);
  assert.ok(ids.includes(s.a.accountId) && ids.includes(s.b.accountId));
  const mine = await cli(['accounts'], s.a.key);
  assert.deepEqual(
    (mine.result as { id: string }[]).map((a) => a.id),
    [s.a.accountId],
  );
});

test('dsp --discover finds the account’s DSP advertisers and lists them; another account’s key is refused', async () => {
  const r = await cli(['dsp', s.a.accountId, '--discover', '--entities']);
  assert.equal(r.code, 0, r.stderr);
  // The discovered advertiser's entities synced; the fixture's own advertiser is one Amazon does not know.
  const entities = (
    r.result as unknown as { entities: { synced: { kind: string; stored: number }[]; failed: unknown[] } }
  ).entities;
  assert.deepEqual(
    entities.synced.map((x) => [x.kind, x.stored]),
    [
      ['campaigns', 2],
      ['adGroups', 4],
      ['ads', 8],
      ['targets', 4],
    ],
  );
  assert.equal(entities.failed.length, 1);
  const result = r.result as unknown as {
    discovery: { discovered: number };
    advertisers: { advertiser_id: string; access: string; status: string }[];
  };
  // The sandbox's one profile is a seller's: its DSP advertiser is linked to the login's manager
  // account. Listed beside the one the tenant fixture owns.
  assert.equal(result.discovery.discovered, 1);
  const found = result.advertisers.filter((a) => a.advertiser_id !== s.a.dspAdvertiserId);
  assert.deepEqual(
    found.map((a) => [a.access, a.status]),
    [['account', 'active']],
  );
  assert.ok(result.advertisers.some((a) => a.advertiser_id === s.a.dspAdvertiserId));
  const refused = await cli(['dsp', s.a.accountId], s.b.key);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /\b403\b/);
});

test('status reports every service ready, and the accounts with their profiles', async () => {
  const r = await cli(['status']);
  assert.equal(r.code, 0);
  const services = r.result.services as { service: string; ready: boolean }[];
  assert.equal(services.length, 7);
  assert.ok(services.every((x) => x.ready));
  assert.ok((r.result.accounts as { id: string }[]).some((a) => a.id === s.a.accountId));
  assert.ok(Array.isArray(r.result.lag) && Array.isArray(r.result.queues), 'lag and queues, from Prometheus');
});

test('connect answers the consent link; backfill plans inside retention and refuses outside it with the limit', async () => {
  const c = await cli(['connect', s.a.accountId, '--no-wait']);
  assert.equal(c.code, 0);
  assert.match(String(c.result.consent_url), /\/v1\/oauth\/start\?state=[\w.-]{40,}/);
  const today = new Date().toISOString().slice(0, 10);
  const ok = await cli([
    'backfill',
    '--profile',
    s.a.profileId,
    '--from',
    addDays(today, -40),
    '--to',
    addDays(today, -3),
    '--types',
    'spCampaigns',
    '--no-wait',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.result.planned, 2);
  const old = await cli([
    'backfill',
    '--profile',
    s.a.profileId,
    '--from',
    addDays(today, -200),
    '--to',
    addDays(today, -3),
  ]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /keeps \d+ days: the oldest day Amazon still has is/);
  const theirs = await cli(
    ['backfill', '--profile', s.b.profileId, '--from', addDays(today, -5), '--to', addDays(today, -3), '--no-wait'],
    s.a.key,
  );
  assert.equal(theirs.code, 1);
  assert.match(theirs.stderr, /403/);
});

test('gaps and dead letters answer as the APIs do; bad usage exits 64 with the help', async () => {
  const today = new Date().toISOString().slice(0, 10);
  const g = await cli(['gaps', '--from', addDays(today, -3), '--to', addDays(today, -2)]);
  assert.ok(g.code === 0 || g.code === 2, g.stderr);
  assert.equal(typeof g.result.complete, 'boolean');
  assert.equal(g.code === 0, g.result.complete);
  const l = await cli(['dlq', 'list']);
  assert.equal(l.code, 0);
  assert.ok(Array.isArray(l.result));
  const refused = await cli(['dlq', 'list'], s.a.key);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /admin/);
  const empty = await cli(['dlq', 'replay']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /select letters/);
  const usage = await cli(['backfill', '--from', today]);
  assert.equal(usage.code, 64);
  assert.match(usage.stderr, /--to is required/);
});
