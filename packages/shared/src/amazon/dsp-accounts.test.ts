// Paging of GET /dsp/advertisers as its model says (startIndex, count ≤ 100, startIndex ≤ 29,900,
// totalResults optional) and the manager accounts' cap of 50 linked accounts, against an Amazon
// played by a function of the request: the pages a large entity would answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AmazonAdsClient } from './ads-client.ts';
import {
  DSP_ADVERTISERS_PAGE,
  LINKED_ACCOUNTS_CAP,
  listDspAdvertisers,
  listManagerLinkedAdvertisers,
} from './dsp-accounts.ts';

/** An entity of `n` advertisers; `withTotal`: whether the answer says totalResults. */
function entity(n: number, withTotal: boolean) {
  const asked: number[] = [];
  const client = {
    call: async (req: { query: { startIndex: number; count: number } }) => {
      const { startIndex, count } = req.query;
      assert.ok(count <= 100 && startIndex <= 29_900, `a request the model allows: ${startIndex}/${count}`);
      asked.push(startIndex);
      const ids = Array.from({ length: Math.max(0, Math.min(count, n - startIndex)) }, (_, i) =>
        String(startIndex + i + 1),
      );
      return {
        body: { ...(withTotal ? { totalResults: n } : {}), response: ids.map((advertiserId) => ({ advertiserId })) },
      };
    },
  } as unknown as AmazonAdsClient;
  return { client, asked };
}

test('every page is read, with or without totalResults, and an entity exactly a page long asks once more only without it', async () => {
  for (const withTotal of [true, false])
    for (const n of [0, 1, 99, 100, 101, 250]) {
      const { client, asked } = entity(n, withTotal);
      const got = await listDspAdvertisers(client, '1');
      assert.equal(got.advertisers.length, n, `${n} advertisers, totalResults ${withTotal}`);
      assert.equal(got.truncated, false);
      assert.deepEqual(new Set(got.advertisers.map((a) => a.advertiserId)).size, n, 'no advertiser twice');
      const pages = Math.max(1, Math.ceil(n / DSP_ADVERTISERS_PAGE) + (!withTotal && n > 0 && n % 100 === 0 ? 1 : 0));
      assert.equal(asked.length, pages, `${n} advertisers in ${pages} request(s), totalResults ${withTotal}`);
    }
});

test('past the last start index the model allows, the list says it is truncated', async () => {
  const { client, asked } = entity(31_000, true);
  const got = await listDspAdvertisers(client, '1');
  assert.equal(got.advertisers.length, 30_000);
  assert.equal(got.truncated, true);
  assert.equal(asked.at(-1), 29_900);
});

test('only DSP advertising accounts are taken from the manager accounts, and a full one is flagged', async () => {
  const linked = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      i % 2
        ? {
            accountId: `ENTITY${i}`,
            accountType: 'DSP_ADVERTISING_ACCOUNT',
            dspAdvertiserId: String(i),
            accountName: `a${i}`,
          }
        : { accountId: `A${i}`, accountType: 'SELLER', profileId: String(i) },
    );
  const client = {
    call: async () => ({
      body: {
        managerAccounts: [
          { managerAccountId: 'full', linkedAccounts: linked(LINKED_ACCOUNTS_CAP) },
          { managerAccountId: 'small', linkedAccounts: linked(4) },
        ],
      },
    }),
  } as unknown as AmazonAdsClient;
  const got = await listManagerLinkedAdvertisers(client);
  assert.deepEqual(got.full, ['full']);
  assert.equal(got.advertisers.length, 25 + 2);
  assert.ok(got.advertisers.every((a) => Number(a.advertiserId) % 2 === 1));
  assert.deepEqual(got.advertisers.at(-1), {
    managerAccountId: 'small',
    advertiserId: '3',
    name: 'a3',
    marketplaceId: null,
  });
});
