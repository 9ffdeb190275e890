/**
 * A fingerprint of everything one tenant owns, table by table, so a test can say
 * "B's data is exactly as it was" after another tenant's requests. Each table's rows
 * that belong to the tenant (directly, or through its profiles, suppliers,
 * integrations, webhooks or AMC instances) are hashed in a stable order.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { Tenant } from './service-apps.ts';

const OWNED: Record<string, string> = {
  accounts: 't.id = :account',
  amazon_credentials: 't.account_id = :account',
  profiles: 't.account_id = :account',
  dsp_advertisers: 't.account_id = :account',
  dsp_entities: 't.advertiser_id in (select advertiser_id from dsp_advertisers where account_id = :account)',
  sync_runs: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  sync_state: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  entity_campaigns: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  entity_ad_groups: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  entity_ads: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  entity_targets: 't.profile_id in (select profile_id from profiles where account_id = :account)',
  ingestion_runs: 't.account_id = :account',
  pending_amazon_reports:
    't.profile_id in (select profile_id from profiles where account_id = :account) or t.dsp_account_id in (select advertiser_id from dsp_advertisers where account_id = :account)',
  report_day_loads:
    't.profile_id in (select profile_id from profiles where account_id = :account) or t.dsp_account_id in (select advertiser_id from dsp_advertisers where account_id = :account)',
  suppliers: 't.account_id = :account',
  import_jobs: 't.account_id = :account',
  imported_products: 't.account_id = :account',
  orders: 't.account_id = :account',
  webhooks: 't.account_id = :account',
  webhook_deliveries: 't.webhook_id in (select id from webhooks where account_id = :account)',
  marketplace_integrations: 't.account_id = :account',
  marketplace_listings: 't.integration_id in (select id from marketplace_integrations where account_id = :account)',
  marketplace_outbound: 't.integration_id in (select id from marketplace_integrations where account_id = :account)',
  amc_instances: 't.account_id = :account',
  amc_workflows: 't.instance_id in (select instance_id from amc_instances where account_id = :account)',
  amc_executions: 't.instance_id in (select instance_id from amc_instances where account_id = :account)',
  amc_schedules: 't.instance_id in (select instance_id from amc_instances where account_id = :account)',
  stream_subscriptions:
    't.profile_id in (select profile_id from profiles where account_id = :account) or (t.profile_id is null and t.dsp_advertiser_id in (select advertiser_id from dsp_advertisers where account_id = :account))',
  stream_reconciled_days:
    't.profile_id in (select profile_id from profiles where account_id = :account) or t.dsp_account_id in (select advertiser_id from dsp_advertisers where account_id = :account)',
  stream_mismatches:
    't.profile_id in (select profile_id from profiles where account_id = :account) or t.dsp_account_id in (select advertiser_id from dsp_advertisers where account_id = :account)',
};

export async function ownedDigest(db: Knex, tenant: Tenant): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, where] of Object.entries(OWNED)) {
    const res = await db.raw(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from ${table} t where ${where}`,
      { account: tenant.accountId },
    );
    const r = res.rows[0] as { n: number; h: string };
    out[table] = `${r.n}:${r.h}`;
  }
  // API keys minus when they were last used (reading with a key touches that, and nothing else).
  const keys = await db.raw(
    `select md5(coalesce(string_agg((to_jsonb(t) - 'last_used_at')::text, '|' order by t.id), '')) as h from api_keys t where t.account_id = :account`,
    { account: tenant.accountId },
  );
  out.api_keys = (keys.rows[0] as { h: string }).h;
  return out;
}
