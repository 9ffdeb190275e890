-- Amazon credentials per client account. Secrets are sealed by the application
-- (AES-256-GCM, key from ENCRYPTION_KEY); the database never sees plaintext.
create table amazon_credentials (
  account_id uuid primary key references accounts(id) on delete cascade,
  region text not null check (region in ('NA', 'EU', 'FE')),
  client_id text not null,
  client_secret_sealed text not null,
  refresh_token_sealed text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_auth_error text,
  last_auth_error_at timestamptz
);

-- Advertising profiles discovered for an account (GET /v2/profiles).
create table profiles (
  profile_id text primary key,
  account_id uuid not null references accounts(id) on delete cascade,
  country_code text not null,
  currency_code text not null,
  timezone text not null,
  marketplace_id text,
  amazon_account_id text,
  account_type text,
  account_name text,
  -- active: synced; inaccessible: Amazon answered 403 (recorded, skipped); paused: by the user.
  status text not null default 'active' check (status in ('active', 'inaccessible', 'paused')),
  status_reason text,
  last_seen_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index profiles_account_idx on profiles(account_id);

-- Entities: keyed by (profile_id, entity id); archived rows are kept; states as Amazon returns them.
-- Money as integer micros. recent_* columns are denormalised by etl-loader for fast lists.
create table entity_campaigns (
  profile_id text not null references profiles(profile_id) on delete cascade,
  campaign_id text not null,
  ad_product text not null,
  name text,
  state text,
  targeting_type text,
  budget_micros bigint,
  budget_type text,
  bidding jsonb,
  start_date date,
  end_date date,
  portfolio_id text,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  recent_metrics jsonb,
  recent_metrics_at timestamptz,
  primary key (profile_id, campaign_id)
);

create table entity_ad_groups (
  profile_id text not null references profiles(profile_id) on delete cascade,
  ad_group_id text not null,
  campaign_id text not null,
  ad_product text not null,
  name text,
  state text,
  default_bid_micros bigint,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  recent_metrics jsonb,
  recent_metrics_at timestamptz,
  primary key (profile_id, ad_group_id)
);
create index entity_ad_groups_campaign_idx on entity_ad_groups(profile_id, campaign_id);

-- Product, brand and display ads in one table.
create table entity_ads (
  profile_id text not null references profiles(profile_id) on delete cascade,
  ad_id text not null,
  ad_group_id text,
  campaign_id text not null,
  ad_product text not null,
  asin text,
  sku text,
  creative jsonb,
  state text,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  recent_metrics jsonb,
  recent_metrics_at timestamptz,
  primary key (profile_id, ad_id)
);
create index entity_ads_asin_idx on entity_ads(profile_id, asin);

-- Keywords and product targets in one table: a keyword's keywordId is its target_id,
-- its text and match type are its expression.
create table entity_targets (
  profile_id text not null references profiles(profile_id) on delete cascade,
  target_id text not null,
  ad_group_id text,
  campaign_id text not null,
  ad_product text not null,
  target_type text not null check (target_type in ('KEYWORD', 'PRODUCT', 'AUTO', 'AUDIENCE')),
  expression jsonb not null,
  expression_text text,
  match_type text,
  bid_micros bigint,
  state text,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  recent_metrics jsonb,
  recent_metrics_at timestamptz,
  primary key (profile_id, target_id)
);
create index entity_targets_ad_group_idx on entity_targets(profile_id, ad_group_id);

-- Watermarks and last success per profile and entity type.
create table sync_state (
  profile_id text not null references profiles(profile_id) on delete cascade,
  entity_type text not null,
  high_watermark timestamptz,
  last_success_at timestamptz,
  last_run_id uuid,
  primary key (profile_id, entity_type)
);

-- One row per run and entity type.
create table sync_runs (
  id uuid primary key default gen_random_uuid(),
  batch_id uuid not null,
  profile_id text not null,
  entity_type text not null,
  mode text not null check (mode in ('full', 'incremental')),
  trigger text not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'skipped')),
  started_at timestamptz,
  finished_at timestamptz,
  since timestamptz,
  fetched integer not null default 0,
  upserted integer not null default 0,
  error jsonb,
  amazon_request_ids text[] not null default '{}',
  created_at timestamptz not null default now()
);
create index sync_runs_profile_idx on sync_runs(profile_id, created_at desc);
create index sync_runs_batch_idx on sync_runs(batch_id);
-- The database itself refuses a second running sync of the same profile and entity type.
create unique index sync_runs_one_running on sync_runs(profile_id, entity_type) where status in ('queued', 'running');
