-- Every entity level of every ad product: negatives (SP ad-group and campaign keywords and
-- targets, SB keywords and targets, SD targets), SD creatives, portfolios, and budget rules
-- with their campaign links. Each keeps Amazon's states, archived included.
create table entity_negative_targets (
  profile_id text not null references profiles(profile_id) on delete cascade,
  negative_id text not null,
  ad_product text not null,
  level text not null check (level in ('AD_GROUP', 'CAMPAIGN')),
  campaign_id text,
  ad_group_id text,
  target_type text not null check (target_type in ('KEYWORD', 'PRODUCT')),
  expression jsonb not null,
  expression_text text,
  match_type text,
  state text,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  primary key (profile_id, negative_id)
);
create index entity_negative_targets_campaign_idx on entity_negative_targets(profile_id, campaign_id);

create table entity_creatives (
  profile_id text not null references profiles(profile_id) on delete cascade,
  creative_id text not null,
  ad_group_id text,
  ad_product text not null,
  creative_type text,
  properties jsonb,
  moderation_status text,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  primary key (profile_id, creative_id)
);

create table entity_portfolios (
  profile_id text not null references profiles(profile_id) on delete cascade,
  portfolio_id text not null,
  name text,
  state text,
  in_budget boolean,
  budget jsonb,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  primary key (profile_id, portfolio_id)
);

create table entity_budget_rules (
  profile_id text not null references profiles(profile_id) on delete cascade,
  rule_id text not null,
  ad_product text not null,
  name text,
  rule_type text,
  state text,
  status text,
  details jsonb,
  amazon_created_at timestamptz,
  amazon_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  primary key (profile_id, rule_id)
);

create table entity_budget_rule_campaigns (
  profile_id text not null references profiles(profile_id) on delete cascade,
  rule_id text not null,
  campaign_id text not null,
  ad_product text not null,
  rule_status text,
  synced_at timestamptz not null default now(),
  primary key (profile_id, rule_id, campaign_id)
);
create index entity_budget_rule_campaigns_campaign_idx on entity_budget_rule_campaigns(profile_id, campaign_id);
