/** Profile discovery: GET /v2/profiles for an account, upserted; profiles that vanished are left as they were. */
import type { Knex } from '@adsync/shared/db/postgres';
import { listProfiles, type AmazonProfile } from '@adsync/shared/amazon/entities';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';

export function profileRow(accountId: string, p: AmazonProfile) {
  return {
    profile_id: String(p.profileId),
    account_id: accountId,
    country_code: p.countryCode,
    currency_code: p.currencyCode,
    timezone: p.timezone,
    marketplace_id: p.accountInfo?.marketplaceStringId ?? null,
    amazon_account_id: p.accountInfo?.id ?? null,
    account_type: p.accountInfo?.type ?? null,
    account_name: p.accountInfo?.name ?? null,
  };
}

export async function discoverProfiles(
  db: Knex,
  client: AmazonAdsClient,
  accountId: string,
): Promise<{ profiles: ReturnType<typeof profileRow>[]; added: number }> {
  const found = (await listProfiles(client)).map((p) => profileRow(accountId, p));
  if (found.length === 0) return { profiles: [], added: 0 };
  const existing = new Set(
    await db('profiles')
      .whereIn(
        'profile_id',
        found.map((p) => p.profile_id),
      )
      .pluck('profile_id'),
  );
  await db('profiles')
    .insert(found)
    .onConflict('profile_id')
    .merge({
      ...Object.fromEntries(
        [
          'account_id',
          'country_code',
          'currency_code',
          'timezone',
          'marketplace_id',
          'amazon_account_id',
          'account_type',
          'account_name',
        ].map((c) => [c, db.raw(`excluded.${c}`)]),
      ),
      last_seen_at: db.fn.now(),
      updated_at: db.fn.now(),
    });
  return { profiles: found, added: found.filter((p) => !existing.has(p.profile_id)).length };
}
