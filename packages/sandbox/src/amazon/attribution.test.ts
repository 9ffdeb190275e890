// Amazon Attribution as its model (AmazonAttribution_prod_3p.json) and guides
// (en-us/guides/amazon-attribution/how-to.md, troubleshooting.md) say, read through adsync's client:
// advertisers and publishers, tags per publisher kind, a report paged by count and cursorId whose
// levels agree, restated on a later pull, and the refusals with their statuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../server.ts';
import { sandboxClient } from '../test-client.ts';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import {
  attributionReportPages,
  attributionRequest,
  attributionTags,
  isAttributionRefusal,
  listAttributionAdvertisers,
  listAttributionPublishers,
  performanceFact,
} from '@adsync/shared/amazon/attribution';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './gateway.ts';

let sandbox: Sandbox;
let client: AmazonAdsClient;
let token: string;
const profile = (p: number) => sandbox.state.dataset.profiles()[p]!.profileId;

before(async () => {
  // Profiles: 0 US seller, 1 UK seller, 2 DE vendor, 3 JP seller (no Attribution there), 4 a DSP
  // agency, …, 9 a legacy Amazon Attribution profile.
  sandbox = await startSandbox({ seed: 31, scale: { profiles: 10 } });
  client = sandboxClient(sandbox, { maxAttempts: 1 });
  const res = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|attribution',
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
    }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
after(async () => {
  await client.close();
  await sandbox.close();
});

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function report(profileId: string, body: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/attribution/report`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
      'amazon-advertising-api-scope': profileId,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('an ad console profile has one advertiser, a legacy Amazon Attribution profile two; the publishers say which take macros; every answer is on the model', async () => {
  assert.equal((await listAttributionAdvertisers(client, profile(0))).length, 1);
  assert.equal((await listAttributionAdvertisers(client, profile(2))).length, 1);
  assert.equal((await listAttributionAdvertisers(client, profile(9))).length, 2);
  const pubs = await listAttributionPublishers(client, profile(0));
  assert.ok(pubs.some((p) => p.macroEnabled) && pubs.some((p) => !p.macroEnabled));
  assert.ok(pubs.every((p) => typeof p.id === 'string' && p.name));
  assert.deepEqual(sandbox.state.violations, []);
});

test('tags: a macro tag per macro publisher and a template tag per other, for each advertiser; retrieving them turns measurement on', async () => {
  const pubs = await listAttributionPublishers(client, profile(9));
  const advs = await listAttributionAdvertisers(client, profile(9));
  const advertiserId = advs[0]!.advertiserId;
  const window = { startDate: day(-3), endDate: day(-1), advertiserId };
  const rowsOf = async () => {
    let n = 0;
    for await (const page of attributionReportPages(
      client,
      profile(9),
      attributionRequest('PERFORMANCE_ADGROUP', window),
    ))
      n += page.length;
    return n;
  };
  // Before any tag was retrieved, nothing was measured.
  assert.equal(sandbox.state.attributionTagged.has(profile(9)), false);
  assert.equal(await rowsOf(), 0);
  const tags = await attributionTags(
    client,
    profile(9),
    pubs,
    advs.map((a) => a.advertiserId),
  );
  assert.equal(tags.length, pubs.length * advs.length);
  for (const t of tags) {
    assert.match(t.tag, /^\?maas=maas_adg_api_/);
    assert.equal(t.tag.includes('{insertCampaignId}'), !t.macro, `${t.publisherId}: ${t.tag}`);
  }
  assert.equal(sandbox.state.attributionTagged.has(profile(9)), true);
  assert.ok((await rowsOf()) > 0);
  // The model's form style: one publisher per repeated key; a comma-joined value names no publisher.
  const joined = await fetch(`${sandbox.url}/attribution/tags/macroTag?publisherIds=1,2`, {
    headers: {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
      'amazon-advertising-api-scope': profile(9),
    },
  });
  assert.equal(joined.status, 400);
  assert.deepEqual(sandbox.state.violations, []);
});

test('a report pages by count and cursorId to the same rows as one page, and its levels sum alike', async () => {
  const advertiserId = (await listAttributionAdvertisers(client, profile(0)))[0]!.advertiserId;
  await attributionTags(client, profile(0), await listAttributionPublishers(client, profile(0)), [advertiserId]);
  const window = { startDate: day(-5), endDate: day(-1), advertiserId };
  const collect = async (kind: Parameters<typeof attributionRequest>[0], count?: number) => {
    const rows: Record<string, unknown>[] = [];
    const req = { ...attributionRequest(kind, window), ...(count ? { count } : {}) };
    for await (const page of attributionReportPages(client, profile(0), req)) rows.push(...page);
    return rows.map((r) => performanceFact(r, 'USD'));
  };
  // The first pull of these days; later pulls are the restated ones.
  const creativeFirst = await collect('PERFORMANCE_CREATIVE', 7);
  const creative = await collect('PERFORMANCE_CREATIVE');
  await collect('PERFORMANCE_ADGROUP');
  const adGroup = await collect('PERFORMANCE_ADGROUP');
  await collect('PERFORMANCE_CAMPAIGN');
  const campaign = await collect('PERFORMANCE_CAMPAIGN', 3);
  assert.equal(creative.length, 5 * 4 * 2 * 2, 'five days of 16 creatives');
  const sum = (rows: ReturnType<typeof performanceFact>[], k: 'click_throughs' | 'purchases' | 'sales_micros') =>
    rows.reduce((n, r) => n + r[k], 0);
  for (const k of ['click_throughs', 'purchases', 'sales_micros'] as const) {
    assert.equal(sum(adGroup, k), sum(creative, k), k);
    assert.equal(sum(campaign, k), sum(creative, k), k);
  }
  assert.ok(
    campaign.every((r) => r.publisher === '' && r.ad_group_id === ''),
    'a campaign row names no publisher',
  );
  assert.ok(adGroup.every((r) => r.publisher !== ''));
  // Restated: clicks stay, conversions grow to their final count.
  assert.equal(sum(creativeFirst, 'click_throughs'), sum(creative, 'click_throughs'));
  assert.ok(sum(creativeFirst, 'purchases') < sum(creative, 'purchases'));
  // brb_bonus_amount was asked for at campaign level, and a seller is enrolled: money in micros.
  assert.ok(campaign.some((r) => r.brb_bonus_micros > 0));
  assert.deepEqual(sandbox.state.violations, []);
});

test('refusals: a profile Amazon Attribution does not serve is 403; bad requests are 400 with what was wrong', async () => {
  for (const p of [3, 4]) {
    const err = await listAttributionAdvertisers(client, profile(p)).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AmazonApiError && err.status === 403, `profile ${p}: ${String(err)}`);
    assert.ok(isAttributionRefusal(err));
  }
  const start = day(-3).replaceAll('-', '');
  const end = day(-1).replaceAll('-', '');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ reportType: 'PRODUCTS', groupBy: 'ADGROUP', startDate: start, endDate: end }, /must not include/],
    [{ reportType: 'PERFORMANCE', metrics: 'brb_bonus_amount', startDate: start, endDate: end }, /ADGROUP or CAMPAIGN/],
    [{ reportType: 'PRODUCTS', startDate: day(-120).replaceAll('-', ''), endDate: end }, /last 90 days/],
    [{ reportType: 'PERFORMANCE', startDate: day(-400).replaceAll('-', ''), endDate: end }, /13 months/],
    [{ reportType: 'PERFORMANCE', startDate: day(-3), endDate: end }, /YYYYMMDD/],
    [{ reportType: 'PERFORMANCE', startDate: end, endDate: start }, /before startDate/],
    [{ reportType: 'PERFORMANCE', metrics: 'clicks', startDate: start, endDate: end }, /Invalid metric clicks/],
    [{ reportType: 'PERFORMANCE', cursorId: 'not-a-cursor', startDate: start, endDate: end }, /Invalid cursorId/],
    [{ reportType: 'PERFORMANCE', count: 5001, startDate: start, endDate: end }, /count/],
  ];
  for (const [body, why] of cases) {
    const r = await report(profile(0), body);
    assert.equal(r.status, 400, JSON.stringify(body));
    // MaaSError: {code, details}.
    assert.equal(r.body.code, '400');
    assert.match(String(r.body.details), why, JSON.stringify(r.body));
  }
  const wrongKind = await fetch(`${sandbox.url}/attribution/tags/macroTag?publisherIds=5`, {
    headers: {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
      'amazon-advertising-api-scope': profile(0),
    },
  });
  assert.equal(wrongKind.status, 400);
  assert.match(String(((await wrongKind.json()) as { details: string }).details), /nonMacroTemplateTag/);
  assert.deepEqual(sandbox.state.violations, []);
});
