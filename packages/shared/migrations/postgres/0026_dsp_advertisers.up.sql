-- The Amazon DSP advertisers each account's login reaches, found the two ways Amazon documents:
-- GET /dsp/advertisers under a DSP (agency) profile, and GET /managerAccounts (advertisers linked
-- to a manager account, reached with Amazon-Ads-AccountId). Owned like profiles: one account
-- each; another account's login reaching it never moves it. Selected like profiles.
create table dsp_advertisers (
  advertiser_id text primary key,
  account_id uuid not null references accounts(id) on delete cascade,
  name text not null default '',
  -- From GET /dsp/advertisers; a manager-linked advertiser has only its marketplace.
  currency_code text,
  country_code text,
  timezone text,
  url text,
  marketplace_id text,
  -- How Amazon is asked about it: under this DSP profile's scope, or (null) with Amazon-Ads-AccountId.
  -- Gone with its profile: never silently turned into an Amazon-Ads-AccountId advertiser.
  via_profile_id text references profiles(profile_id) on delete cascade,
  manager_account_id text,
  status text not null default 'active' check (status in ('active', 'excluded', 'inaccessible')),
  status_reason text,
  last_seen_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index dsp_advertisers_account_idx on dsp_advertisers(account_id);
