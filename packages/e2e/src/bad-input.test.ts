// Bad input gets a 4xx that says what was wrong — never a 5xx, never a quiet acceptance.
// Each case here is one a user hit: before, each answered 500 or was accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServiceApps, type ServiceApps, type Service } from './service-apps.ts';

let s: ServiceApps;
before(async () => {
  s = await startServiceApps();
});
after(async () => {
  await s?.close();
});

const call = async (service: Service, method: 'GET' | 'POST', url: string, body?: unknown, key = s.adminKey) => {
  const res = await s.apps[service].inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, json: res.json() as { error: string; message: string; details: unknown } };
};

test('a NUL character in any string field is a 400 naming the field', async () => {
  const res = await call('entity-sync', 'POST', '/v1/accounts', { company_name: 'Acme\u0000 Ltd' });
  assert.equal(res.status, 400);
  assert.match(res.json.message, /^body\.company_name contains a NUL character/);
  const q = await call('report-poller', 'GET', `/v1/reports/gaps?profileId=${encodeURIComponent('12\u00003')}`);
  assert.equal(q.status, 400);
  assert.match(q.json.message, /query\.profileId contains a NUL character/);
  const nested = await call('supplier-sync', 'POST', '/v1/marketplace/integrations', {
    accountId: s.a.accountId,
    marketplace: 'shop',
    endpointUrl: 'http://127.0.0.1:9/x',
    listings: [{ listingId: 'L\u00001', supplierId: s.a.supplierId, supplierProductId: 'P1' }],
  });
  assert.equal(nested.status, 400);
  assert.match(nested.json.message, /body\.listings\[0\]\.listingId contains a NUL character/);
});

test('an unknown account id is a 404 naming it, not a foreign-key 500', async () => {
  const ghost = randomUUID();
  const cases: [Service, string, Record<string, unknown>][] = [
    [
      'amc-runner',
      '/v1/amc/instances',
      { accountId: ghost, instanceId: 'amcghost', advertiserId: 'ADV1', marketplaceId: 'ATVPDKIKX0DER' },
    ],
    ['supplier-sync', '/v1/suppliers', { accountId: ghost, kind: 'bigbuy', name: 'ghost', credentials: {} }],
    [
      'supplier-sync',
      '/v1/webhooks',
      { accountId: ghost, url: 'https://hooks.example.com/x', secret: 'a-secret-long-enough' },
    ],
    [
      'supplier-sync',
      '/v1/marketplace/integrations',
      { accountId: ghost, marketplace: 'shop', endpointUrl: 'https://shop.example.com', listings: [] },
    ],
  ];
  for (const [service, url, body] of cases) {
    const res = await call(service, 'POST', url, body);
    assert.equal(res.status, 404, `${url}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.message, `no account ${ghost}`);
  }
});

test('dates that do not exist and windows nobody can mean are 400s', async () => {
  const impossible = await call('report-poller', 'GET', '/v1/reports/gaps?from=2026-02-30&to=2026-03-02');
  assert.equal(impossible.status, 400);
  assert.match(impossible.json.message, /querystring\.from must match format "date"/);
  const decades = await call('report-poller', 'GET', '/v1/reports/gaps?from=2000-01-01&to=2026-01-01');
  assert.equal(decades.status, 400);
  assert.match(decades.json.message, /from\.\.to may span at most 400 days/);
  const inverted = await call('report-poller', 'GET', '/v1/reports/gaps?from=2026-03-02&to=2026-03-01');
  assert.equal(inverted.status, 400);
});

test('a URL with no host, or not http(s), is a 400', async () => {
  for (const endpointUrl of ['http://', 'https://', 'ftp://shop.example.com', 'shop.example.com']) {
    const res = await call('supplier-sync', 'POST', '/v1/marketplace/integrations', {
      accountId: s.a.accountId,
      marketplace: 'shop',
      endpointUrl,
      listings: [],
    });
    assert.equal(res.status, 400, endpointUrl);
    assert.match(res.json.message, /body\.endpointUrl must match format "http-url"/);
  }
  const hook = await call('supplier-sync', 'POST', '/v1/webhooks', {
    accountId: s.a.accountId,
    url: 'http://',
    secret: 'a-secret-long-enough',
  });
  assert.equal(hook.status, 400);
});

test('JSON bodies mean what they say: a number or a boolean is not a company name', async () => {
  for (const company_name of [42, true, ['Acme'], { name: 'Acme' }, '   ']) {
    const res = await call('entity-sync', 'POST', '/v1/accounts', { company_name });
    assert.equal(res.status, 400, JSON.stringify(company_name));
    assert.match(res.json.message, /body\.company_name must/);
  }
  const n = await call('supplier-sync', 'POST', '/v1/jobs', {
    supplierId: s.a.supplierId,
    jobType: 'price_update',
    priority: '5',
  });
  assert.equal(n.status, 400, 'a string is not a priority in a JSON body');
  // Query strings are text: numbers there are read as numbers.
  const q = await call('supplier-sync', 'GET', '/v1/jobs?limit=5');
  assert.equal(q.status, 200);
  assert.equal((q.json as unknown as { limit: number }).limit, 5);
});

test("a listing for a supplier that is not the account's (or does not exist) is refused, naming it", async () => {
  const ghost = randomUUID();
  const res = await call('supplier-sync', 'POST', '/v1/marketplace/integrations', {
    accountId: s.a.accountId,
    marketplace: 'shop',
    endpointUrl: 'https://shop.example.com',
    listings: [
      { listingId: 'ok', supplierId: s.a.supplierId, supplierProductId: 'P1' },
      { listingId: 'ghost', supplierId: ghost, supplierProductId: 'P2' },
    ],
  });
  assert.equal(res.status, 400);
  assert.match(res.json.message, new RegExp(`listings name suppliers that are not this account's: ${ghost}`));
  assert.deepEqual(res.json.details, { listings: [{ index: 1, supplierId: ghost }] });
});

test('lists are bounded: a page at most 1000 long, with where the next one starts', async () => {
  const big = await call('supplier-sync', 'GET', '/v1/jobs?limit=100000');
  assert.equal(big.status, 400);
  const one = await call('supplier-sync', 'GET', '/v1/jobs?limit=1');
  assert.equal(one.status, 200);
  const page = one.json as unknown as { jobs: unknown[]; nextOffset: number | null };
  assert.equal(page.jobs.length, 1);
  assert.equal(page.nextOffset, 1, 'two jobs exist (one per tenant): a second page follows');
});
