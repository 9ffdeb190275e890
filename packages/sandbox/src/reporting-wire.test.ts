import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startSandbox, type Sandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './amazon/gateway.ts';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';

// Wire bodies are asserted field by field; their static type adds nothing here.
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();
let sandbox: Sandbox;
let token: string;
let profileId: string;
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  sandbox = await startSandbox({ seed: 11, faults: { reportGenerationMs: 100 } });
  profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const res = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|wire',
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
    }),
  });
  token = (await json(res)).access_token;
});
after(() => sandbox.close());

const headers = (extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
  'amazon-advertising-api-scope': profileId,
  ...extra,
});
const create = (body: unknown) =>
  fetch(`${sandbox.url}/reporting/reports`, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/vnd.createasyncreportrequest.v3+json' }),
    body: JSON.stringify(body),
  });

test('Login with Amazon answers invalid_grant for a revoked refresh token and invalid_client for a wrong secret', async () => {
  sandbox.state.revokedRefreshTokens.add('Atzr|gone');
  const form = (rt: string, secret = SANDBOX_CLIENT_SECRET) =>
    fetch(`${sandbox.url}/auth/o2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: rt,
        client_id: SANDBOX_CLIENT_ID,
        client_secret: secret,
      }),
    });
  const revoked = await form('Atzr|gone');
  assert.equal(revoked.status, 400);
  assert.equal((await json(revoked)).error, 'invalid_grant');
  const badClient = await form('Atzr|ok', 'nope');
  assert.equal(badClient.status, 401);
  assert.equal((await json(badClient)).error, 'invalid_client');
});

test('entity lists insist on their v3 media type', async () => {
  const res = await fetch(`${sandbox.url}/sp/campaigns/list`, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/json' }),
    body: '{}',
  });
  assert.equal(res.status, 415);
  const ok = await fetch(`${sandbox.url}/sp/campaigns/list`, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/vnd.spCampaign.v3+json' }),
    body: '{"maxResults":2}',
  });
  assert.equal(ok.status, 200);
  const body = await json(ok);
  assert.equal(body.campaigns.length, 2);
  assert.equal(typeof body.campaigns[0].campaignId, 'string', 'entity ids are strings');
  assert.ok(body.nextToken);
});

test('a report moves PENDING → PROCESSING → COMPLETED and downloads as gzip JSON with numeric ids', async () => {
  const res = await create(
    reportRequestBody({ reportTypeId: 'spTargeting', startDate: daysAgo(3), endDate: daysAgo(1) }),
  );
  assert.equal(res.status, 200);
  const { reportId, status } = await json(res);
  assert.equal(status, 'PENDING');
  const seen = new Set<string>();
  let final: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    final = await await json(fetch(`${sandbox.url}/reporting/reports/${reportId}`, { headers: headers() }));
    seen.add(String(final.status));
    if (final.status === 'COMPLETED') break;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.deepEqual([...seen], ['PENDING', 'PROCESSING', 'COMPLETED']);
  const dl = await fetch(String(final.url));
  assert.equal(dl.status, 200);
  const buf = Buffer.from(await dl.arrayBuffer());
  assert.equal(buf.length, final.fileSize);
  const rows = JSON.parse(gunzipSync(buf).toString());
  assert.ok(rows.length > 0);
  assert.equal(typeof rows[0].campaignId, 'number', 'report ids are numbers');
  assert.deepEqual(
    Object.keys(rows[0]).sort(),
    [
      ...reportRequestBody({ reportTypeId: 'spTargeting', startDate: today, endDate: today }).configuration.columns,
    ].sort(),
  );
  const totals = await await json(fetch(`${sandbox.url}/_sandbox/totals?reportId=${reportId}`));
  assert.equal(totals.rows, rows.length);
  assert.equal(
    totals.sums.clicks,
    rows.reduce((s: number, r: { clicks: number }) => s + r.clicks, 0),
  );

  // The presigned URL expires.
  sandbox.state.clockOffsetMs += 2 * 3600_000;
  try {
    const expired = await fetch(String(final.url));
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /Request has expired/);
  } finally {
    sandbox.state.clockOffsetMs -= 2 * 3600_000;
  }
});

test('400 for a column the report type does not accept and for more than 31 days; 425 for a duplicate', async () => {
  const badColumn = await create(
    reportRequestBody({
      reportTypeId: 'sbCampaigns',
      startDate: daysAgo(2),
      endDate: daysAgo(1),
      columns: ['date', 'campaignId', 'sales7d'],
    }),
  );
  assert.equal(badColumn.status, 400);
  assert.match((await json(badColumn)).detail, /^configuration columns includes invalid values: \(sales7d\)/);
  const tooLong = await create(
    reportRequestBody({ reportTypeId: 'spCampaigns', startDate: daysAgo(40), endDate: daysAgo(1) }),
  );
  assert.equal(tooLong.status, 400);
  assert.match((await json(tooLong)).detail, /31 days/);
  sandbox.setFaults({ reportGenerationMs: 60_000 });
  try {
    const body = reportRequestBody({ reportTypeId: 'sdCampaigns', startDate: daysAgo(5), endDate: daysAgo(4) });
    const first = await await json(create(body));
    const dup = await create(body);
    assert.equal(dup.status, 425);
    assert.deepEqual(await json(dup), { code: '425', detail: `The Request is a duplicate of : ${first.reportId}` });
  } finally {
    sandbox.setFaults({ reportGenerationMs: 100 });
  }
});

test('report creation throttles without Retry-After; other calls send it', async () => {
  sandbox.setFaults({ rate429: 1 });
  try {
    const c = await create(
      reportRequestBody({ reportTypeId: 'spCampaigns', startDate: daysAgo(2), endDate: daysAgo(2) }),
    );
    assert.equal(c.status, 429);
    assert.equal(c.headers.get('retry-after'), null);
    const l = await fetch(`${sandbox.url}/v2/profiles`, { headers: headers() });
    assert.equal(l.status, 429);
    assert.equal(l.headers.get('retry-after'), '1');
  } finally {
    sandbox.setFaults({ rate429: 0 });
  }
});

test('with restatement on, a later pull of the same day returns higher conversions', async () => {
  sandbox.setFaults({ restatement: true });
  try {
    const pull = async () => {
      const { reportId } = await await json(
        create(reportRequestBody({ reportTypeId: 'spCampaigns', startDate: daysAgo(9), endDate: daysAgo(9) })),
      );
      for (;;) {
        const s = await await json(fetch(`${sandbox.url}/reporting/reports/${reportId}`, { headers: headers() }));
        if (s.status === 'COMPLETED') {
          const t = (await json(fetch(`${sandbox.url}/_sandbox/totals?reportId=${reportId}`))) as {
            sums: Record<string, number>;
          };
          return { salesMicros: t.sums.sales7d!, orders: t.sums.purchases7d!, clicks: t.sums.clicks! };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const first = await pull();
    const second = await pull();
    assert.equal(second.clicks, first.clicks, 'clicks settled');
    assert.ok(second.orders > first.orders, `orders grew: ${first.orders} → ${second.orders}`);
    assert.ok(second.salesMicros > first.salesMicros);
  } finally {
    sandbox.setFaults({ restatement: false });
  }
});

test('a malformed %-escape in a path is a 4xx in the shape Amazon declares, never a 5xx', async () => {
  for (const path of ['/reporting/reports/%E0%A4%A', '/amc/reporting/%ZZ/workflowExecutions', '/v2/profiles/%']) {
    const res = await fetch(`${sandbox.url}${path}`, { headers: headers() });
    assert.ok(res.status >= 400 && res.status < 500, `${path} answered ${res.status}`);
    await res.arrayBuffer();
  }
  assert.deepEqual(sandbox.state.violations, [], 'every answer on its model');
});

// OfflineReport_prod_3p: Scope and Amazon-Ads-AccountId are both optional headers, the latter
// "the identifier of a DSP advertiser account", each authorising its own resource type.
test('a DSP report asked with Amazon-Ads-AccountId instead of a scope is that account’s: its rows only, unseen by a profile', async () => {
  const advertisers = [0, 1].map((p) => sandbox.state.dataset.dspAdvertisers(p)[0]!.advertiserId);
  const account = (id: string) => ({
    authorization: `Bearer ${token}`,
    'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
    'amazon-ads-accountid': id,
  });
  const dsp = {
    name: 'dsp by account',
    startDate: daysAgo(3),
    endDate: daysAgo(1),
    configuration: {
      adProduct: 'DEMAND_SIDE_PLATFORM',
      reportTypeId: 'dspCampaign',
      groupBy: ['campaign'],
      columns: ['date', 'advertiserId', 'orderId', 'impressions', 'totalCost'],
      timeUnit: 'DAILY',
      format: 'GZIP_JSON',
    },
  };
  const post = (h: Record<string, string>, b: unknown) =>
    fetch(`${sandbox.url}/reporting/reports`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/vnd.createasyncreportrequest.v3+json' },
      body: JSON.stringify(b),
    });
  // The guide: the advertiser in the header AND in the advertiserId filter, one per report.
  const forAccount = (id: string) => ({
    ...dsp,
    configuration: { ...dsp.configuration, filters: [{ field: 'advertiserId', values: [id] }] },
  });
  for (const [body, why] of [
    [dsp, 'no advertiserId filter'],
    [forAccount(advertisers[0]!), 'another advertiser in the filter'],
    [
      { ...dsp, configuration: { ...dsp.configuration, filters: [{ field: 'advertiserId', values: advertisers }] } },
      'two advertisers',
    ],
  ] as const) {
    const refused = await post(account(advertisers[1]!), body);
    assert.equal(refused.status, 400, why);
    assert.match((await json(refused)).detail, /must name exactly the advertiser of Amazon-Ads-AccountId/, why);
  }
  const created = await post(account(advertisers[1]!), forAccount(advertisers[1]!));
  assert.equal(created.status, 200);
  const { reportId } = await json(created);
  let final: Record<string, unknown> = {};
  for (let i = 0; i < 50 && final.status !== 'COMPLETED'; i++) {
    await new Promise((r) => setTimeout(r, 40));
    final = await json(fetch(`${sandbox.url}/reporting/reports/${reportId}`, { headers: account(advertisers[1]!) }));
  }
  assert.equal(final.status, 'COMPLETED');
  const rows = JSON.parse(gunzipSync(Buffer.from(await (await fetch(String(final.url))).arrayBuffer())).toString());
  assert.ok(rows.length > 0);
  assert.deepEqual([...new Set(rows.map((r: { advertiserId: string }) => r.advertiserId))], [advertisers[1]]);
  // Neither a profile nor another account reads it.
  for (const h of [headers(), account(advertisers[0]!)])
    assert.equal((await fetch(`${sandbox.url}/reporting/reports/${reportId}`, { headers: h })).status, 404);
  // An account reaches DSP reports only; an unknown account nothing; no resource header at all is refused.
  const sp = reportRequestBody({ reportTypeId: 'spCampaigns', startDate: daysAgo(3), endDate: daysAgo(1) });
  const spRefused = await post(account(advertisers[1]!), sp);
  assert.equal(spRefused.status, 400);
  assert.match((await json(spRefused)).detail, /needs Amazon-Advertising-API-Scope/);
  assert.equal((await post(account('999999999999'), forAccount('999999999999'))).status, 401);
  const { 'amazon-ads-accountid': _gone, ...none } = account('x');
  const neither = await post(none, forAccount('x'));
  assert.equal(neither.status, 401);
  assert.match(await neither.text(), /Amazon-Advertising-API-Scope or Amazon-Ads-AccountId header is missing/);
  assert.deepEqual(sandbox.state.violations, [], 'every answer on its model');
});

// report-types/audience.md lists GZIP_JSON or XLSX; CSV is DSP's (and the model's own DSP example).
test('each format downloads as what it names: gzip JSON, gzip CSV, an XLSX workbook another zip reader opens', async () => {
  const { spawnSync } = await import('node:child_process');
  const files: Record<string, Buffer> = {};
  for (const format of ['GZIP_JSON', 'CSV', 'XLSX']) {
    const res = await create({
      name: `format ${format}`,
      startDate: daysAgo(2 + ['GZIP_JSON', 'CSV', 'XLSX'].indexOf(format)),
      endDate: daysAgo(1),
      configuration:
        format === 'CSV'
          ? {
              adProduct: 'DEMAND_SIDE_PLATFORM',
              reportTypeId: 'dspCampaign',
              groupBy: ['campaign'],
              columns: ['date', 'orderId', 'impressions', 'totalCost'],
              timeUnit: 'DAILY',
              format,
            }
          : {
              adProduct: 'SPONSORED_PRODUCTS',
              reportTypeId: 'spAudiences',
              groupBy: ['campaign_bid_boost_segment'],
              columns: ['campaignId', 'segmentName', 'impressions', 'clicks', 'cost', 'date'],
              timeUnit: 'DAILY',
              format,
            },
    });
    assert.equal(res.status, 200, `${format}: ${res.status}`);
    const { reportId } = await json(res);
    let final: Record<string, unknown> = {};
    for (let i = 0; i < 50 && final.status !== 'COMPLETED'; i++) {
      await new Promise((r) => setTimeout(r, 30));
      final = await json(fetch(`${sandbox.url}/reporting/reports/${reportId}`, { headers: headers() }));
    }
    assert.match(String(final.url), { GZIP_JSON: /\.json\.gz\?/, CSV: /\.csv\.gz\?/, XLSX: /\.xlsx\?/ }[format]!);
    files[format] = Buffer.from(await (await fetch(String(final.url))).arrayBuffer());
  }
  const rows = JSON.parse(gunzipSync(files.GZIP_JSON!).toString()) as Record<string, unknown>[];
  assert.ok(rows.length > 0);
  const csv = gunzipSync(files.CSV!).toString().trim().split('\n');
  assert.equal(csv[0], 'date,orderId,impressions,totalCost');
  assert.ok(csv.length > 1);
  // An independent reader: Python's zipfile opens the workbook and finds a sheet with a header and rows.
  const py = spawnSync(
    'python3',
    [
      '-c',
      'import sys,zipfile,io,re\nz=zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nassert z.testzip() is None\nx=z.read("xl/worksheets/sheet1.xml").decode()\nprint(len(re.findall("<row ",x)), "segmentName" in x, sorted(z.namelist())[0])',
    ],
    { input: files.XLSX, encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const [count, hasHeader, first] = py.stdout.trim().split(' ');
  assert.ok(Number(count) > 1, `${count} rows`);
  assert.equal(hasHeader, 'True');
  assert.equal(first, '[Content_Types].xml');
});
