import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from './server.ts';
import { sandboxClient } from './test-client.ts';
import { listEntities, listProfiles, type EntityKind } from '@adsync/shared/amazon/entities';
import { createReport, getReportStatus } from '@adsync/shared/amazon/reporting';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from './amazon/gateway.ts';
import type { AdProductKind, EntityKind as DatasetKind } from './dataset.ts';

let sandbox: Sandbox;
const scale = {
  profiles: 2,
  campaignsPerProfile: 30,
  adGroupsPerCampaign: 4,
  adsPerAdGroup: 3,
  keywordsPerAdGroup: 5,
  productTargetsPerAdGroup: 2,
  sbCampaignsPerProfile: 7,
  sdCampaignsPerProfile: 9,
};

before(async () => {
  sandbox = await startSandbox({ seed: 7, scale });
});
after(() => sandbox.close());

/** Each list our client reads: the id field it answers with, and the generated entities it must return. */
const idKey: Record<EntityKind, string> = {
  portfolios: 'portfolioId',
  spCampaigns: 'campaignId',
  spAdGroups: 'adGroupId',
  spProductAds: 'adId',
  spKeywords: 'keywordId',
  spProductTargets: 'targetId',
  spNegativeKeywords: 'keywordId',
  spNegativeTargets: 'targetId',
  spCampaignNegativeKeywords: 'keywordId',
  spCampaignNegativeTargets: 'targetId',
  sbCampaigns: 'campaignId',
  sbAdGroups: 'adGroupId',
  sbAds: 'adId',
  sbKeywords: 'keywordId',
  sbProductTargets: 'targetId',
  sbNegativeKeywords: 'keywordId',
  sbNegativeTargets: 'targetId',
  sdCampaigns: 'campaignId',
  sdAdGroups: 'adGroupId',
  sdProductAds: 'adId',
  sdTargets: 'targetId',
  sdNegativeTargets: 'targetId',
  sdCreatives: 'creativeId',
  spBudgetRules: 'ruleId',
  sbBudgetRules: 'ruleId',
  sdBudgetRules: 'ruleId',
};
const source: Record<EntityKind, [AdProductKind | null, DatasetKind]> = {
  portfolios: [null, 'portfolio'],
  spCampaigns: ['sp', 'campaign'],
  spAdGroups: ['sp', 'adGroup'],
  spProductAds: ['sp', 'ad'],
  spKeywords: ['sp', 'keyword'],
  spProductTargets: ['sp', 'productTarget'],
  spNegativeKeywords: ['sp', 'negativeKeyword'],
  spNegativeTargets: ['sp', 'negativeTarget'],
  spCampaignNegativeKeywords: ['sp', 'campaignNegativeKeyword'],
  spCampaignNegativeTargets: ['sp', 'campaignNegativeTarget'],
  sbCampaigns: ['sb', 'campaign'],
  sbAdGroups: ['sb', 'adGroup'],
  sbAds: ['sb', 'ad'],
  sbKeywords: ['sb', 'keyword'],
  sbProductTargets: ['sb', 'productTarget'],
  sbNegativeKeywords: ['sb', 'negativeKeyword'],
  sbNegativeTargets: ['sb', 'negativeTarget'],
  sdCampaigns: ['sd', 'campaign'],
  sdAdGroups: ['sd', 'adGroup'],
  sdProductAds: ['sd', 'ad'],
  sdTargets: ['sd', 'productTarget'],
  sdNegativeTargets: ['sd', 'negativeTarget'],
  sdCreatives: ['sd', 'creative'],
  spBudgetRules: ['sp', 'budgetRule'],
  sbBudgetRules: ['sb', 'budgetRule'],
  sdBudgetRules: ['sd', 'budgetRule'],
};

function generatedIds(p: number, kind: EntityKind): string[] {
  const [product, k] = source[kind];
  return [...sandbox.state.dataset.all(product, k, p)].map((e) => e.id);
}

test('with 20% 429s and 5% 5xx, listing every entity returns exactly the generated set', async () => {
  sandbox.setFaults({ rate429: 0.2, rate5xx: 0.05, retryAfterSec: 0 });
  const client = sandboxClient(sandbox, { maxAttempts: 12 });
  try {
    const profiles = await listProfiles(client);
    assert.equal(profiles.length, 2);
    for (const [p, profile] of profiles.entries()) {
      for (const kind of Object.keys(idKey) as EntityKind[]) {
        const got: string[] = [];
        // Small pages so that faults land in the middle of pagination.
        for await (const e of listEntities(client, String(profile.profileId), kind, {
          maxResults: 7,
        }))
          got.push(String((e as Record<string, unknown>)[idKey[kind]]));
        const want = generatedIds(p, kind);
        assert.equal(new Set(got).size, got.length, `${kind}: nothing twice`);
        assert.deepEqual([...got].sort(), [...want].sort(), `${kind}: nothing missing`);
      }
    }
    assert.ok(
      client.stats.throttled > 10 && client.stats.serverErrors > 2,
      `faults were exercised: ${JSON.stringify(client.stats)}`,
    );
  } finally {
    sandbox.setFaults({ rate429: 0, rate5xx: 0 });
    await client.close();
  }
});

test('startIndex/count pagination (Sponsored Display) lists every campaign once, in small pages too', async () => {
  const client = sandboxClient(sandbox);
  try {
    const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
    const paged: string[] = [];
    for await (const c of client.listV2<{ campaignId: number }>({
      path: '/sd/campaigns',
      profileId,
      count: 4,
      query: { stateFilter: 'enabled,paused,archived' },
    }))
      paged.push(String(c.campaignId));
    assert.deepEqual(paged, generatedIds(0, 'sdCampaigns'));
  } finally {
    await client.close();
  }
});

test('Retry-After is honoured: the next attempt comes no sooner than asked', async () => {
  const client = sandboxClient(sandbox, {
    sleep: async (ms) => {
      // After the first throttle, let the retry through.
      sandbox.setFaults({ rate429: 0 });
      await new Promise((r) => setTimeout(r, ms));
    },
  });
  try {
    await client.tokens.get();
    sandbox.setFaults({ rate429: 1, retryAfterSec: 1 });
    const from = sandbox.state.requestLog.length;
    await client.call({ method: 'GET', path: '/v2/profiles' });
    const calls = sandbox.state.requestLog.slice(from).filter((e) => e.path === '/v2/profiles');
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.status, 429);
    assert.equal(calls[1]!.status, 200);
    assert.ok(calls[1]!.at - calls[0]!.at >= 1000, `retried after ${calls[1]!.at - calls[0]!.at} ms`);
  } finally {
    sandbox.setFaults({ rate429: 0, retryAfterSec: 1 });
    await client.close();
  }
});

test('a 401 triggers one refresh and a retry, not a loop', async () => {
  const client = sandboxClient(sandbox);
  try {
    await listProfiles(client);
    const grantsBefore = sandbox.state.counters.tokenGrants;
    // The sandbox's clock moves past the token's expiry; the client still believes its cached token.
    sandbox.state.clockOffsetMs += 2 * 3600_000;
    await listProfiles(client);
    assert.equal(sandbox.state.counters.tokenGrants - grantsBefore, 1, 'exactly one refresh');
    assert.equal(client.stats.refreshesOn401, 1);

    // Now the refresh token is revoked: one refused refresh, then a typed error.
    sandbox.state.revokedRefreshTokens.add(SANDBOX_REFRESH_TOKEN);
    sandbox.state.clockOffsetMs += 2 * 3600_000;
    const from = sandbox.state.requestLog.length;
    await assert.rejects(
      listProfiles(client),
      (err: unknown) => err instanceof AmazonApiError && err.kind === 'auth' && /revoked/.test(err.message),
    );
    const tokenCalls = sandbox.state.requestLog.slice(from).filter((e) => e.path === '/auth/o2/token');
    assert.equal(tokenCalls.length, 1, 'no refresh loop');
  } finally {
    sandbox.state.revokedRefreshTokens.clear();
    await client.close();
  }
});

// en-us/reference/concepts/errors.md: "401 - Not authorized to access scope".
test('a profile without access is a typed forbidden error, not retried and no token refresh', async () => {
  const profileId = sandbox.state.dataset.profiles()[1]!.profileId;
  sandbox.setFaults({ forbiddenProfiles: [profileId] });
  const client = sandboxClient(sandbox);
  try {
    await client.tokens.get();
    const from = sandbox.state.requestLog.length;
    const it = listEntities(client, profileId, 'spCampaigns');
    await assert.rejects(
      it.next(),
      (err: unknown) =>
        err instanceof AmazonApiError &&
        err.kind === 'forbidden' &&
        err.status === 401 &&
        /Not authorized to access scope/.test(err.message) &&
        err.requestId !== null,
    );
    assert.equal(sandbox.state.requestLog.slice(from).filter((e) => e.path === '/sp/campaigns/list').length, 1);
    assert.equal(
      sandbox.state.requestLog.slice(from).filter((e) => e.path === '/auth/o2/token').length,
      0,
      'a scope refusal is not a token problem',
    );
  } finally {
    sandbox.setFaults({ forbiddenProfiles: [] });
    await client.close();
  }
});

test('a duplicate report request takes over the report id Amazon names', async () => {
  sandbox.setFaults({ reportGenerationMs: 60_000 });
  const client = sandboxClient(sandbox);
  try {
    const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
    const today = new Date().toISOString().slice(0, 10);
    const spec = { reportTypeId: 'spCampaigns', startDate: today, endDate: today };
    const first = await createReport(client, profileId, spec);
    const second = await createReport(client, profileId, spec);
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.reportId, first.reportId);
    assert.equal((await getReportStatus(client, profileId, first.reportId)).status, 'PENDING');
    await assert.rejects(
      createReport(client, profileId, { ...spec, columns: ['date', 'campaignId', 'searchTerm'] }),
      (err: unknown) =>
        err instanceof AmazonApiError &&
        err.kind === 'bad_request' &&
        /configuration columns includes invalid values: \(searchTerm\)/.test(err.message),
    );
  } finally {
    sandbox.setFaults({ reportGenerationMs: 300 });
    await client.close();
  }
});

test('Login with Amazon answering 429 and 5xx is retried; a refused grant is not', async () => {
  // Rates low enough that six attempts practically always get through (0.3^6 per token),
  // and tokens fetched until both kinds of failure were met at least once.
  sandbox.setFaults({ rate429: 0.2, rate5xx: 0.1, retryAfterSec: 0 });
  const { injected429, injected5xx } = sandbox.state.counters;
  try {
    for (let i = 0; i < 60; i++) {
      const client = sandboxClient(sandbox);
      try {
        assert.match(await client.tokens.get(), /^Atza\|/);
      } finally {
        await client.close();
      }
      if (sandbox.state.counters.injected429 > injected429 && sandbox.state.counters.injected5xx > injected5xx) break;
    }
    assert.ok(sandbox.state.counters.injected429 > injected429, 'a 429 was met and retried');
    assert.ok(sandbox.state.counters.injected5xx > injected5xx, 'a 5xx was met and retried');
  } finally {
    sandbox.setFaults({ rate429: 0, rate5xx: 0 });
  }
  const revoked = 'Atzr|revoked-in-this-test';
  sandbox.state.revokedRefreshTokens.add(revoked);
  const requestsBefore = sandbox.state.counters.requests;
  const client = sandboxClient(sandbox, {
    credentials: { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, refreshToken: revoked },
  });
  try {
    await assert.rejects(client.tokens.get(), (e: Error & { kind?: string }) => e.kind === 'auth');
    assert.equal(sandbox.state.counters.requests - requestsBefore, 1, 'a refused grant is asked once, never retried');
  } finally {
    await client.close();
  }
});

test('a download URL in an answer reaches only Amazon S3 (or the base URL the client was given): every other is refused unfetched', async () => {
  const { createServer } = await import('node:http');
  let hits = 0;
  const trap = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  trap.on('connection', () => hits++);
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  const port = (trap.address() as { port: number }).port;
  const client = sandboxClient(sandbox);
  try {
    for (const url of [
      `http://127.0.0.1:${port}/report.json.gz`,
      `http://localhost:${port}/report.json.gz`,
      `https://127.1:${port}/report.json.gz`,
      'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'https://offline-report-storage.s3.amazonaws.com.evil.example/r.json.gz',
      `https://offline-report-storage.s3.amazonaws.com\\@127.0.0.1:${port}/`,
      'http://offline-report-storage.s3.amazonaws.com/r.json.gz',
    ]) {
      const err = await client.download(url).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof AmazonApiError, url);
      assert.equal(err.kind, 'bad_request', url);
      assert.match(err.message, /^report download: download URL .* refused: /, url);
    }
    assert.equal(hits, 0, 'nothing reached the listener');
  } finally {
    await client.close();
    await new Promise<void>((r) => trap.close(() => r()));
  }
});
