// Tenant isolation, generated from the routes. Every route every service documents
// is listed here with what isolation it owes; the requests themselves are generated
// from its OpenAPI document: for each id it takes (account, profile, supplier, job,
// run, execution, instance, workflow, listing…), account A's key names B's and must
// be refused, and B's data must be exactly as it was. A route this table does not
// know fails the suite, so a new route cannot ship without its isolation case.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServiceApps, SERVICES, type ServiceApps, type Service, type Tenant } from './service-apps.ts';
import { ownedDigest } from './tenant-digest.ts';
import { amcDate } from '@adsync/shared/testing/amc-calendar';

type Isolation =
  /** Takes ids: A naming B's is refused and changes nothing; A naming its own passes the ownership checks. */
  | 'names-resources'
  /** Admin keys only: an account key is refused (403) and changes nothing. */
  | 'admin-only'
  /** Takes no tenant id: answers with the caller's own data only, never B's. */
  | 'own-data'
  /** A browser callback: no key, the sealed state it carries is the credential. */
  | 'signed-state';

const ROUTES: Record<string, Isolation> = {
  'entity-sync POST /v1/accounts': 'admin-only',
  'entity-sync GET /v1/accounts': 'own-data',
  'entity-sync GET /v1/accounts/{id}': 'names-resources',
  'entity-sync POST /v1/accounts/{id}/api-keys': 'admin-only',
  'entity-sync POST /v1/accounts/{id}/credentials': 'names-resources',
  'entity-sync POST /v1/accounts/{id}/profiles/sync': 'names-resources',
  'entity-sync GET /v1/accounts/{id}/profiles': 'names-resources',
  'entity-sync GET /v1/accounts/{id}/profile-selection': 'names-resources',
  'entity-sync PUT /v1/accounts/{id}/profile-selection': 'names-resources',
  'entity-sync POST /v1/accounts/{id}/dsp-advertisers/sync': 'names-resources',
  'entity-sync GET /v1/accounts/{id}/dsp-advertisers': 'names-resources',
  'entity-sync POST /v1/accounts/{id}/dsp-entities/sync': 'names-resources',
  'entity-sync GET /v1/accounts/{id}/dsp-entities': 'names-resources',
  'entity-sync POST /v1/accounts/{id}/connect': 'names-resources',
  'entity-sync GET /v1/oauth/start': 'signed-state',
  'entity-sync POST /v1/oauth/start': 'signed-state',
  'entity-sync GET /v1/accounts/{id}/profile-claims': 'names-resources',
  'entity-sync GET /v1/profile-claims': 'admin-only',
  'entity-sync POST /v1/profiles/{profileId}/transfer': 'names-resources',
  'entity-sync POST /v1/profiles/{profileId}/claims/dismiss': 'names-resources',
  'entity-sync GET /v1/profiles/{profileId}/attribution': 'names-resources',
  'entity-sync GET /v1/oauth/callback': 'signed-state',
  'entity-sync GET /v1/entities/sync': 'names-resources',
  'entity-sync POST /v1/entities/sync': 'names-resources',
  'entity-sync GET /v1/sync-runs/{id}': 'names-resources',
  'entity-sync POST /v1/ingestion/sync-all': 'admin-only',
  'entity-sync POST /v1/ingestion/sync-account/{id}': 'names-resources',
  'entity-sync GET /v1/ingestion/runs': 'names-resources',
  'entity-sync GET /v1/ingestion/runs/{id}': 'names-resources',
  'report-requester POST /v1/reports/request': 'names-resources',
  'report-requester POST /v1/reports/backfill': 'names-resources',
  'report-requester GET /v1/reports/runs/{runId}': 'names-resources',
  'report-poller POST /v1/reports/poll': 'admin-only',
  'etl-loader GET /v1/dead-letters': 'admin-only',
  'etl-loader POST /v1/dead-letters/replay': 'admin-only',
  'etl-loader POST /v1/dead-letters/purge': 'admin-only',
  'report-poller GET /v1/reports/monitor': 'own-data',
  'report-poller GET /v1/reports/gaps': 'names-resources',
  'amc-runner POST /v1/amc/instances': 'names-resources',
  'amc-runner GET /v1/amc/instances': 'names-resources',
  'amc-runner POST /v1/amc/workflows': 'names-resources',
  'amc-runner POST /v1/amc/executions': 'names-resources',
  'amc-runner GET /v1/amc/executions/{id}/status': 'names-resources',
  'amc-runner GET /v1/amc/executions/{id}': 'names-resources',
  'amc-runner GET /v1/amc/executions/{id}/results': 'names-resources',
  'amc-runner GET /v1/amc/executions': 'names-resources',
  'amc-runner GET /v1/amc/workflows': 'names-resources',
  'amc-runner GET /v1/amc/workflows/{instanceId}/{workflowId}': 'names-resources',
  'amc-runner PUT /v1/amc/workflows/{instanceId}/{workflowId}': 'names-resources',
  'amc-runner DELETE /v1/amc/workflows/{instanceId}/{workflowId}': 'names-resources',
  'amc-runner POST /v1/amc/instances/{instanceId}/drift': 'names-resources',
  'amc-runner POST /v1/amc/schedules': 'names-resources',
  'amc-runner GET /v1/amc/schedules': 'names-resources',
  'amc-runner GET /v1/amc/schedules/{instanceId}/{scheduleId}': 'names-resources',
  'amc-runner PUT /v1/amc/schedules/{instanceId}/{scheduleId}': 'names-resources',
  'amc-runner DELETE /v1/amc/schedules/{instanceId}/{scheduleId}': 'names-resources',
  'amc-runner GET /v1/amc/dashboard': 'own-data',
  'supplier-sync POST /v1/suppliers': 'names-resources',
  'supplier-sync GET /v1/suppliers': 'names-resources',
  'supplier-sync GET /v1/webhooks': 'names-resources',
  'supplier-sync POST /v1/jobs': 'names-resources',
  'supplier-sync GET /v1/jobs': 'own-data',
  'supplier-sync GET /v1/jobs/{id}': 'names-resources',
  'supplier-sync POST /v1/sync/run': 'names-resources',
  'supplier-sync POST /v1/webhooks': 'names-resources',
  'supplier-sync POST /v1/marketplace/integrations': 'names-resources',
  'supplier-sync GET /v1/metrics/jobs': 'own-data',
  'stream-consumer POST /v1/streams/subscriptions': 'names-resources',
  'stream-consumer GET /v1/streams/subscriptions': 'names-resources',
  'stream-consumer GET /v1/streams/subscriptions/{id}': 'names-resources',
  'stream-consumer DELETE /v1/streams/subscriptions/{id}': 'names-resources',
};

/** Which tenant id a field names, by its name; path `{id}`s by the collection they sit in. */
const FIELD_KINDS: Record<string, keyof Tenant> = {
  accountId: 'accountId',
  profileId: 'profileId',
  dspAccountId: 'dspAdvertiserId',
  supplierId: 'supplierId',
  instanceId: 'instanceId',
  workflowId: 'workflowId',
  scheduleId: 'scheduleId',
  runId: 'reportRunId',
  listingId: 'listingId',
};
const PATH_KINDS: [RegExp, keyof Tenant][] = [
  [/^\/v1\/accounts\/\{id\}/, 'accountId'],
  [/^\/v1\/ingestion\/sync-account\/\{id\}/, 'accountId'],
  [/^\/v1\/ingestion\/runs\/\{id\}/, 'ingestionRunId'],
  [/^\/v1\/sync-runs\/\{id\}/, 'syncBatchId'],
  [/^\/v1\/jobs\/\{id\}/, 'jobId'],
  [/^\/v1\/amc\/executions\/\{id\}/, 'executionId'],
  [/^\/v1\/streams\/subscriptions\/\{id\}/, 'streamSubscriptionId'],
];

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  default?: unknown;
};
interface Operation {
  service: Service;
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; schema: Schema; required?: boolean }[];
  body: Schema | null;
}

let s: ServiceApps;
let operations: Operation[];

before(async () => {
  s = await startServiceApps();
  operations = [];
  for (const service of SERVICES) {
    const doc = s.apps[service].swagger() as unknown as {
      paths: Record<
        string,
        Record<
          string,
          { parameters?: Operation['params']; requestBody?: { content: Record<string, { schema: Schema }> } }
        >
      >;
    };
    for (const [path, methods] of Object.entries(doc.paths ?? {})) {
      for (const [method, op] of Object.entries(methods)) {
        operations.push({
          service,
          method: method.toUpperCase(),
          path,
          params: op.parameters ?? [],
          body: op.requestBody?.content['application/json']?.schema ?? null,
        });
      }
    }
  }
});

after(async () => {
  await s?.close();
});

const keyOf = (o: Operation) => `${o.service} ${o.method} ${o.path}`;

/** A value for one field that its schema accepts, naming `owner`'s resource when the field names one. */
function sample(schema: Schema, name: string, ids: (kind: keyof Tenant) => string, pathOf: string): unknown {
  const kind = FIELD_KINDS[name];
  if (kind) return schema.type === 'array' ? [ids(kind)] : ids(kind);
  if (schema.enum) return schema.default ?? schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return schema.default ?? Math.max(1, schema.minimum ?? 1);
    case 'boolean':
      return schema.default ?? false;
    case 'array':
      return [sample(schema.items ?? {}, name, ids, `${pathOf}[]`)];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) {
        // Optional fields are left out unless they name a tenant's resource (those are what isolation is about).
        if (!(schema.required ?? []).includes(k) && !FIELD_KINDS[k] && k !== 'listings') continue;
        out[k] = sample(v, k, ids, `${pathOf}.${k}`);
      }
      return out;
    }
    default: {
      const known: Record<string, string> = {
        url: 'https://hooks.example.com/hook',
        endpointUrl: 'https://shop.example.com/shop',
        secret: 'a-webhook-secret-long-enough',
        sqlQuery: 'SELECT 1',
        timeWindowStart: amcDate('2025-01-01T00:00:00'),
        timeWindowEnd: amcDate('2025-01-02T00:00:00'),
        client_id: 'amzn1.application-oa2-client.isolation',
        client_secret: 'isolation-secret',
        refresh_token: 'Atzr|isolation',
        advertiserId: 'ADVISOLATION',
        marketplaceId: 'ATVPDKIKX0DER',
        supplierProductId: 'P-isolation',
        company_name: 'isolation',
        from: '2026-11-01',
        to: '2026-11-02',
      };
      if (known[name]) return known[name];
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (schema.format === 'date') return '2026-11-01';
      if (schema.format === 'email') return 'isolation@example.com';
      return 'isolation'.padEnd(schema.minLength ?? 1, 'x');
    }
  }
}

/**
 * Fields named like references that, on these routes, name something new of the
 * caller's own: a workflow id being saved on the caller's instance, a listing id on
 * the caller's marketplace. Any tenant may use any name there.
 */
const NEW_NAMES: Record<string, string[]> = {
  'amc-runner POST /v1/amc/workflows': ['body.workflowId'],
  'amc-runner POST /v1/amc/schedules': ['body.scheduleId'],
  'supplier-sync POST /v1/marketplace/integrations': ['body.listings[].listingId'],
};

/** Every id-bearing place in an operation: path params, query params, body fields (nested listings too). */
function idPlaces(o: Operation): string[] {
  return allIdPlaces(o).filter((p) => !(NEW_NAMES[keyOf(o)] ?? []).includes(p));
}

function allIdPlaces(o: Operation): string[] {
  const places: string[] = [];
  for (const p of o.params) {
    if (p.in === 'path' && PATH_KINDS.some(([re]) => re.test(o.path))) places.push(`path:${p.name}`);
    else if (FIELD_KINDS[p.name]) places.push(`${p.in}:${p.name}`);
  }
  const walk = (schema: Schema | undefined, at: string) => {
    for (const [k, v] of Object.entries(schema?.properties ?? {})) {
      if (FIELD_KINDS[k]) places.push(`${at}.${k}`);
      if (v.type === 'array' && v.items?.properties) walk(v.items, `${at}.${k}[]`);
    }
  };
  if (o.body) walk(o.body, 'body');
  return places;
}

/** Builds the request: every id names `self`'s resources, except `foreign`, which names `other`'s. */
function build(o: Operation, self: Tenant, other: Tenant, foreign: string | null) {
  const idsFor = (place: string) => (kind: keyof Tenant) => (place === foreign ? other : self)[kind];
  let path = o.path;
  const query = new URLSearchParams();
  for (const p of o.params) {
    const place = `${p.in}:${p.name}`;
    if (p.in === 'path') {
      const kind = PATH_KINDS.find(([re]) => re.test(o.path))?.[1] ?? FIELD_KINDS[p.name];
      assert.ok(kind, `${keyOf(o)}: no tenant kind for path parameter ${p.name}`);
      path = path.replace(`{${p.name}}`, encodeURIComponent(idsFor(place)(kind)));
    } else if (p.required || FIELD_KINDS[p.name]) {
      query.set(p.name, String(sample(p.schema, p.name, idsFor(place), place)));
    }
  }
  let body: unknown;
  if (o.body) {
    // Nested ids (listings[].supplierId) follow their own place; top-level ones theirs.
    const b = sample(o.body, '', (kind) => self[kind], 'body') as Record<string, unknown>;
    for (const place of idPlaces(o).filter((p) => p.startsWith('body.'))) {
      const segments = place.slice('body.'.length).split('.');
      const tenant = place === foreign ? other : self;
      if (segments.length === 1)
        b[segments[0]!] = sample(o.body.properties![segments[0]!]!, segments[0]!, (k) => tenant[k], place);
      else {
        const list = segments[0]!.replace('[]', '');
        const field = segments[1]!;
        const items = (b[list] as Record<string, unknown>[] | undefined) ?? [
          sample(o.body.properties![list]!.items!, '', (k) => self[k], place),
        ];
        b[list] = items.map((it) => ({ ...(it as object), [field]: tenant[FIELD_KINDS[field]!] }));
      }
    }
    body = b;
  }
  const qs = query.toString();
  return { method: o.method, url: `${path}${qs ? `?${qs}` : ''}`, body };
}

async function send(o: Operation, req: ReturnType<typeof build>, key: string | null) {
  const res = await s.apps[o.service].inject({
    method: req.method as 'GET',
    url: req.url,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    ...(req.body !== undefined ? { payload: req.body as object } : {}),
  });
  return { status: res.statusCode, body: res.body };
}

const B_IDS = () =>
  Object.entries(s.b)
    .filter(([k]) => k !== 'key')
    .map(([, v]) => v);

test('every documented route has an isolation case (a new route without one fails here)', () => {
  const documented = operations.map(keyOf).sort();
  assert.ok(documented.length >= 30, `${documented.length} routes`);
  assert.deepEqual(documented, Object.keys(ROUTES).sort());
});

test("account A's key naming any of B's resources is refused, and B's data is exactly as it was", async () => {
  const before = await ownedDigest(s.pg.db, s.b);
  const leaks: string[] = [];
  let cases = 0;
  for (const o of operations.filter((x) => ROUTES[keyOf(x)] === 'names-resources')) {
    const places = idPlaces(o);
    assert.ok(places.length > 0, `${keyOf(o)} is listed as naming resources but takes no id`);
    for (const place of places) {
      cases++;
      const req = build(o, s.a, s.b, place);
      const res = await send(o, req, s.a.key);
      if (res.status < 400 || res.status === 401 || res.status >= 500)
        leaks.push(`${keyOf(o)} with B's ${place}: ${res.status} ${res.body.slice(0, 200)}`);
      // Echoing the id the request named tells A nothing; any other of B's ids would.
      const named = JSON.stringify(req);
      for (const id of B_IDS())
        if (res.body.includes(id) && !named.includes(id))
          leaks.push(`${keyOf(o)} with B's ${place} answered B's ${id}: ${res.body.slice(0, 300)}`);
      const now = await ownedDigest(s.pg.db, s.b);
      if (JSON.stringify(now) !== JSON.stringify(before))
        leaks.push(
          `${keyOf(o)} with B's ${place} changed B's ${Object.keys(now)
            .filter((t) => now[t] !== before[t])
            .join(', ')}`,
        );
    }
  }
  assert.deepEqual(leaks, []);
  assert.ok(cases >= 25, `${cases} cross-tenant requests`);
});

test("the same requests naming only A's own resources pass the ownership checks (the refusals above are about ownership)", async () => {
  const refused: string[] = [];
  // Deletions go last (a schedule before its workflow), so every other request still finds A's resources.
  const last = (o: Operation) => (o.method !== 'DELETE' ? 0 : o.path.includes('/schedules/') ? 1 : 2);
  const ops = operations.filter((x) => ROUTES[keyOf(x)] === 'names-resources').sort((x, y) => last(x) - last(y));
  for (const o of ops) {
    const res = await send(o, build(o, s.a, s.b, null), s.a.key);
    if (res.status === 403 || res.status === 401 || res.status >= 500)
      refused.push(`${keyOf(o)}: ${res.status} ${res.body.slice(0, 200)}`);
    if (
      res.status === 404 &&
      /no (account|profile|DSP advertiser|supplier|job|sync batch|ingestion run|AMC execution|report run|stream subscription)\b|is not registered|is not saved/.test(
        res.body,
      )
    )
      refused.push(`${keyOf(o)}: A's own resource not found: ${res.body.slice(0, 200)}`);
  }
  assert.deepEqual(refused, []);
});

test('admin-only routes refuse an account key and change nothing', async () => {
  const before = await ownedDigest(s.pg.db, s.b);
  const allRuns = await s.pg.db('ingestion_runs').where({ scope: 'all' }).count<{ c: string }[]>('* as c');
  for (const o of operations.filter((x) => ROUTES[keyOf(x)] === 'admin-only')) {
    const res = await send(o, build(o, s.a, s.b, idPlaces(o)[0] ?? null), s.a.key);
    assert.equal(res.status, 403, `${keyOf(o)}: ${res.body}`);
    assert.match(JSON.parse(res.body).message, /admin/);
  }
  assert.deepEqual(await ownedDigest(s.pg.db, s.b), before);
  assert.deepEqual(await s.pg.db('ingestion_runs').where({ scope: 'all' }).count<{ c: string }[]>('* as c'), allRuns);
});

test("routes without tenant ids answer with the caller's own data: none of B's ids appear", async () => {
  const seen: string[] = [];
  for (const o of operations.filter((x) => ROUTES[keyOf(x)] === 'own-data')) {
    const res = await send(o, build(o, s.a, s.b, null), s.a.key);
    assert.equal(res.status, 200, `${keyOf(o)}: ${res.body}`);
    for (const id of B_IDS()) if (res.body.includes(id)) seen.push(`${keyOf(o)} answered B's ${id}`);
    // And the admin key sees B, so the check above can fail.
    const admin = await send(o, build(o, s.a, s.b, null), s.adminKey);
    assert.equal(admin.status, 200);
  }
  assert.deepEqual(seen, []);
  const accounts = await send(
    operations.find((o) => keyOf(o) === 'entity-sync GET /v1/accounts')!,
    { method: 'GET', url: '/v1/accounts', body: undefined },
    s.adminKey,
  );
  assert.ok(accounts.body.includes(s.b.accountId), 'the admin key lists B (the negative control of the check above)');
});

test('a browser callback takes no key: a state adsync did not seal is refused (4xx) and changes nothing', async () => {
  const before = await ownedDigest(s.pg.db, s.b);
  const ops = operations.filter((x) => ROUTES[keyOf(x)] === 'signed-state');
  assert.ok(ops.length > 0);
  for (const o of ops)
    for (const key of [null, s.a.key]) {
      const state = `v1.x.${s.b.accountId}.y.z`;
      // The consent page's button posts its state as a form; the links carry it in the query.
      const res =
        o.method === 'POST'
          ? await s.apps[o.service]
              .inject({
                method: 'POST',
                url: o.path,
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  ...(key ? { authorization: `Bearer ${key}` } : {}),
                },
                payload: new URLSearchParams({ state }).toString(),
              })
              .then((r) => ({ status: r.statusCode, body: r.body }))
          : await send(
              o,
              { method: o.method, url: `${o.path}?state=${encodeURIComponent(state)}&code=ANforged`, body: undefined },
              key,
            );
      assert.equal(res.status, 400, `${keyOf(o)}: ${res.body}`);
      assert.match(res.body, /not issued by this adsync/);
    }
  assert.deepEqual(await ownedDigest(s.pg.db, s.b), before);
});

test("a profile A's login also reaches stays B's: A's key reaches none of its subscriptions, and B's data is as it was", async () => {
  const { upsertDiscovered } = await import('@adsync/shared/accounts/profiles');
  const before = await ownedDigest(s.pg.db, s.b);
  const shared = await s.pg.db('profiles').where({ profile_id: s.b.profileId }).first();
  // A's discovery lists B's profile (an agency and a brand sharing access).
  const { claimed } = await upsertDiscovered(s.pg.db, s.a.accountId, [{ ...shared, account_id: s.a.accountId }]);
  assert.deepEqual(claimed, [s.b.profileId]);
  assert.equal((await s.pg.db('profiles').where({ profile_id: s.b.profileId }).first()).account_id, s.b.accountId);
  const asA = (service: Service, url: string) =>
    s.apps[service].inject({ method: 'GET', url, headers: { authorization: `Bearer ${s.a.key}` } });
  const subs = await asA('stream-consumer', `/v1/streams/subscriptions?profileId=${s.b.profileId}`);
  assert.equal(subs.statusCode, 403, subs.body);
  const all = await asA('stream-consumer', '/v1/streams/subscriptions');
  assert.equal(all.statusCode, 200);
  assert.ok(!all.body.includes(s.b.profileId), "A's list of subscriptions names none of B's");
  const mine = await asA('entity-sync', `/v1/accounts/${s.a.accountId}/profiles`);
  assert.ok(!mine.body.includes(s.b.profileId), "B's profile is not in A's list");
  const claims = await asA('entity-sync', `/v1/accounts/${s.a.accountId}/profile-claims`);
  assert.equal(claims.statusCode, 200);
  assert.ok(!claims.body.includes(s.b.accountId), 'A learns it is claimed, never by whom it is owned');
  assert.deepEqual(await ownedDigest(s.pg.db, s.b), before);
  await s.pg.db('profile_claims').where({ account_id: s.a.accountId }).delete();
});

test("lists whose account filter is optional answer an account key's own rows without one, and an admin's every account's", async () => {
  const lists: [Service, string, keyof Tenant][] = [
    ['entity-sync', '/v1/ingestion/runs', 'ingestionRunId'],
    ['amc-runner', '/v1/amc/instances', 'instanceId'],
    ['supplier-sync', '/v1/suppliers', 'supplierId'],
    ['supplier-sync', '/v1/webhooks', 'webhookId'],
  ];
  for (const [service, url, kind] of lists) {
    const get = (key: string) =>
      s.apps[service].inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
    const asA = await get(s.a.key);
    assert.equal(asA.statusCode, 200, `${url}: ${asA.body}`);
    assert.ok(asA.body.includes(s.a[kind]), `${url} lists A's own ${kind}`);
    for (const id of B_IDS()) assert.ok(!asA.body.includes(id), `${url} answered A's key B's ${id}`);
    const asAdmin = await get(s.adminKey);
    assert.ok(asAdmin.body.includes(s.b[kind]), `${url}: the admin key sees B's ${kind} (the check above can fail)`);
  }
});
