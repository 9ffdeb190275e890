// Every list filter Amazon's models define is applied, not just accepted: each request below
// names a filter from SponsoredProducts_prod_3p, SponsoredBrands_v3/_v4 or SponsoredDisplay_v3,
// and the answer must hold only entities the filter selects, and some of them where the
// sandbox has any.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './gateway.ts';

let sandbox: Sandbox;
let token: string;
let profileId: string;
before(async () => {
  sandbox = await startSandbox({ seed: 41, scale: { profiles: 1, campaignsPerProfile: 12, sbCampaignsPerProfile: 8 } });
  profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const res = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|filters',
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
    }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
after(() => sandbox?.close());

type Item = Record<string, unknown>;
const call = async (
  method: string,
  path: string,
  mediaType: string,
  body?: unknown,
  requestType = mediaType,
): Promise<unknown> => {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
      'amazon-advertising-api-scope': profileId,
      accept: mediaType,
      ...(body ? { 'content-type': requestType } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.equal(res.status, 200, `${method} ${path}: ${res.status}`);
  return res.json();
};
const spList = async (path: string, type: string, key: string, body: Item = {}) =>
  ((await call('POST', path, `application/vnd.${type}.v3+json`, body)) as Record<string, Item[]>)[key]!;

/** The filtered answer: non-empty, every item selected, and narrower than the unfiltered one where the filter narrows. */
function selects(all: Item[], some: Item[], selected: (i: Item) => boolean, what: string) {
  assert.ok(some.length > 0, `${what}: some entities`);
  assert.ok(some.every(selected), `${what}: only what it selects`);
  assert.equal(some.length, all.filter(selected).length, `${what}: every entity it selects`);
}

test('Sponsored Products v3: text, match type, ASIN, expression type and the campaign’s targeting type', async () => {
  const campaigns = await spList('/sp/campaigns/list', 'spCampaign', 'campaigns');
  const auto = new Set(campaigns.filter((c) => c.targetingType === 'AUTO').map((c) => c.campaignId));
  const adGroups = await spList('/sp/adGroups/list', 'spAdGroup', 'adGroups');
  selects(
    adGroups,
    await spList('/sp/adGroups/list', 'spAdGroup', 'adGroups', { campaignTargetingTypeFilter: 'AUTO' }),
    (g) => auto.has(g.campaignId),
    'campaignTargetingTypeFilter',
  );

  const keywords = await spList('/sp/keywords/list', 'spKeyword', 'keywords');
  const text = String(keywords[0]!.keywordText);
  selects(
    keywords,
    await spList('/sp/keywords/list', 'spKeyword', 'keywords', {
      keywordTextFilter: { include: [text], queryTermMatchType: 'EXACT_MATCH' },
    }),
    (k) => k.keywordText === text,
    'keywordTextFilter EXACT_MATCH',
  );
  const word = text.split(' ')[0]!;
  selects(
    keywords,
    await spList('/sp/keywords/list', 'spKeyword', 'keywords', {
      keywordTextFilter: { include: [word], queryTermMatchType: 'BROAD_MATCH' },
    }),
    (k) => String(k.keywordText).toLowerCase().includes(word.toLowerCase()),
    'keywordTextFilter BROAD_MATCH',
  );
  selects(
    keywords,
    await spList('/sp/keywords/list', 'spKeyword', 'keywords', { matchTypeFilter: ['EXACT'] }),
    (k) => k.matchType === 'EXACT',
    'matchTypeFilter',
  );

  const targets = await spList('/sp/targets/list', 'spTargetingClause', 'targetingClauses');
  const asinOf = (t: Item) => (t.expression as { value?: string }[]).map((x) => x.value).filter(Boolean);
  const asin = targets.map(asinOf).find((a) => a.length > 0)![0]!;
  selects(
    targets,
    await spList('/sp/targets/list', 'spTargetingClause', 'targetingClauses', {
      asinFilter: { include: [asin], queryTermMatchType: 'EXACT_MATCH' },
    }),
    (t) => asinOf(t).includes(asin),
    'asinFilter',
  );
  selects(
    targets,
    await spList('/sp/targets/list', 'spTargetingClause', 'targetingClauses', {
      expressionTypeFilter: { include: ['AUTO'] },
    }),
    (t) => t.expressionType === 'AUTO',
    'expressionTypeFilter',
  );

  const negatives = await spList('/sp/negativeKeywords/list', 'spNegativeKeyword', 'negativeKeywords');
  const negative = String(negatives[0]!.keywordText);
  selects(
    negatives,
    await spList('/sp/negativeKeywords/list', 'spNegativeKeyword', 'negativeKeywords', {
      negativeKeywordTextFilter: { include: [negative], queryTermMatchType: 'EXACT_MATCH' },
    }),
    (k) => k.keywordText === negative,
    'negativeKeywordTextFilter',
  );
  // No sandbox campaign is a global one, so none allocates its budget across marketplaces.
  assert.deepEqual(
    await spList('/sp/campaigns/list', 'spCampaign', 'campaigns', {
      marketplaceBudgetAllocationFilter: { include: ['AUTO'] },
    }),
    [],
  );
});

test('Sponsored Brands: v3 keyword match type, text and creative type; v3 target creative type; v4 goal', async () => {
  const ds = sandbox.state.dataset;
  const kwType = 'application/vnd.sbkeyword.v3.2+json';
  const keywords = (await call('GET', '/sb/keywords?stateFilter=enabled', kwType)) as Item[];
  selects(
    keywords,
    (await call('GET', '/sb/keywords?stateFilter=enabled&matchTypeFilter=exact', kwType)) as Item[],
    (k) => k.matchType === 'exact',
    'matchTypeFilter',
  );
  const text = String(keywords[0]!.keywordText);
  selects(
    keywords,
    (await call('GET', `/sb/keywords?stateFilter=enabled&keywordText=${encodeURIComponent(text)}`, kwType)) as Item[],
    (k) => k.keywordText === text,
    'keywordText',
  );
  for (const creative of ['video', 'productCollection'])
    selects(
      keywords,
      (await call('GET', `/sb/keywords?stateFilter=enabled&creativeType=${creative}`, kwType)) as Item[],
      (k) => ds.sbCreativeType(String(k.campaignId)) === creative,
      `creativeType=${creative}`,
    );
  const targetType = 'application/vnd.sblisttargetsresponse.v3.2+json';
  const targets = ((await call('POST', '/sb/targets/list', targetType, {}, 'application/json')) as { targets: Item[] })
    .targets;
  selects(
    targets,
    (
      (await call(
        'POST',
        '/sb/targets/list',
        targetType,
        { filters: [{ filterType: 'CREATIVE_TYPE', values: ['productCollection'] }] },
        'application/json',
      )) as { targets: Item[] }
    ).targets,
    (t) => ds.sbCreativeType(String(t.campaignId)) === 'productCollection',
    'CREATIVE_TYPE',
  );
  const v4 = 'application/vnd.sbcampaignresource.v4+json';
  const goal = async (include: string[]) =>
    ((await call('POST', '/sb/v4/campaigns/list', v4, { goalTypeFilter: { include } })) as { campaigns: Item[] })
      .campaigns;
  assert.ok((await goal(['BRAND_IMPRESSION_SHARE'])).length > 0);
  assert.deepEqual(await goal(['PAGE_VISIT']), []);
});

test('Sponsored Display: name', async () => {
  const campaigns = (await call('GET', '/sd/campaigns', 'application/json')) as Item[];
  const name = String(campaigns[1]!.name);
  selects(
    campaigns,
    (await call('GET', `/sd/campaigns?name=${encodeURIComponent(name)}`, 'application/json')) as Item[],
    (c) => c.name === name,
    'name',
  );
  assert.deepEqual(sandbox.state.violations, [], 'every answer on its model');
});
