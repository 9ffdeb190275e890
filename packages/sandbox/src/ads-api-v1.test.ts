// Ads API v1's DSP reads as the AdsApiV1 model says: Amazon-Ads-AccountId names the advertiser and
// Amazon-Ads-ClientId the client; adProductFilter is required; the other filters narrow; pages of
// maxResults with an opaque nextToken; errors in the model's {code, message} with its ErrorCode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './amazon/gateway.ts';

let sandbox: Sandbox;
let token: string;
before(async () => {
  sandbox = await startSandbox({ seed: 12, scale: { profiles: 2 } });
  const res = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|v1',
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
    }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
after(() => sandbox.close());

const advertiser = (p: number) => sandbox.state.dataset.dspAdvertisers(p)[0]!;
async function query(
  kind: string,
  body: Record<string, unknown>,
  account = advertiser(0).advertiserId,
  clientId = true,
) {
  const res = await fetch(`${sandbox.url}/adsApi/v1/query/${kind}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(clientId ? { 'amazon-ads-clientid': SANDBOX_CLIENT_ID } : {}),
      'amazon-ads-accountid': account,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ adProductFilter: { include: ['AMAZON_DSP'] }, ...body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

test('an advertiser reads its own entities, narrowed by each filter the model gives', async () => {
  const a = advertiser(0);
  const campaigns = await query('campaigns', {});
  assert.equal(campaigns.status, 200);
  assert.deepEqual(
    campaigns.body.campaigns.map((c: { campaignId: string }) => c.campaignId),
    a.orders.map((o) => o.orderId),
  );
  // Another advertiser reads its own only.
  const other = await query('campaigns', {}, advertiser(1).advertiserId);
  assert.deepEqual(
    other.body.campaigns.map((c: { campaignId: string }) => c.campaignId),
    advertiser(1).orders.map((o) => o.orderId),
  );
  const lineItems = a.orders.flatMap((o) => o.lineItems);
  const paused = await query('adGroups', { stateFilter: { include: ['PAUSED'] } });
  assert.deepEqual(
    paused.body.adGroups.map((g: { adGroupId: string }) => g.adGroupId),
    a.orders.map((o) => o.lineItems[1]!.lineItemId),
  );
  const ofOrder = await query('adGroups', { campaignIdFilter: { include: [a.orders[0]!.orderId] } });
  assert.equal(ofOrder.body.adGroups.length, 2);
  assert.equal((await query('targets', { negativeFilter: { include: [true] } })).body.targets.length, 0);
  const positive = await query('targets', { negativeFilter: { include: [false] } });
  assert.equal(positive.body.targets.length, lineItems.length);
  assert.equal(positive.body.totalResults, lineItems.length);
  const named = await query('adGroups', {
    nameFilter: { include: [lineItems[0]!.name], queryTermMatchType: 'EXACT_MATCH' },
  });
  assert.deepEqual(
    named.body.adGroups.map((g: { adGroupId: string }) => g.adGroupId),
    [lineItems[0]!.lineItemId],
  );
  // A filter on a field DSP's entities lack matches none.
  assert.equal((await query('campaigns', { portfolioIdFilter: { include: ['1'] } })).body.campaigns.length, 0);
  // Another ad product through v1: none here (the sandbox plays sponsored ads through their own APIs).
  assert.equal(
    (await query('campaigns', { adProductFilter: { include: ['SPONSORED_PRODUCTS'] } })).body.campaigns.length,
    0,
  );
  assert.deepEqual(sandbox.state.violations, [], 'every answer on its model');
});

test('pages of maxResults follow nextToken to the end; a foreign token or a missing client id is refused in the model’s words', async () => {
  const ids: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await query('ads', { maxResults: 3, ...(nextToken ? { nextToken } : {}) });
    assert.equal(page.status, 200);
    ids.push(...page.body.ads.map((x: { adId: string }) => x.adId));
    nextToken = page.body.nextToken;
    pages++;
  } while (nextToken);
  const creatives = advertiser(0).orders.flatMap((o) =>
    o.lineItems.flatMap((l) => l.creatives.map((c) => c.creativeId)),
  );
  assert.deepEqual(ids, creatives);
  assert.equal(pages, Math.ceil(creatives.length / 3));
  const foreign = await query('ads', { nextToken: 'bm90LW91cnM' });
  assert.equal(foreign.status, 400);
  assert.equal(foreign.body.code, 'BAD_REQUEST');
  assert.match(foreign.body.message, /nextToken/);
  const tooMany = await query('ads', { maxResults: 1001 });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.code, 'BAD_REQUEST');
  const noClient = await query('ads', {}, advertiser(0).advertiserId, false);
  assert.equal(noClient.status, 400);
  assert.match(noClient.body.message, /Amazon-Ads-ClientId/);
  const unknown = await query('ads', {}, '42');
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.code, 'UNAUTHORIZED');
  assert.deepEqual(sandbox.state.violations, [], 'every answer on its model');
});
