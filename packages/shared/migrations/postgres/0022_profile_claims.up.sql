-- A profile has one owning account (profiles.account_id). When another account's Amazon login
-- also reaches it (an agency and a brand sharing access), discovery never moves it: the other
-- account's claim is recorded here for someone to resolve (transfer it, or dismiss the claim).
create table profile_claims (
  profile_id text not null references profiles(profile_id) on delete cascade,
  account_id uuid not null references accounts(id) on delete cascade,
  -- pending: waiting for a decision; dismissed: the claimant does not want it (not raised again).
  status text not null default 'pending' check (status in ('pending', 'dismissed')),
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text,
  primary key (profile_id, account_id)
);
create index profile_claims_account_idx on profile_claims(account_id, status);
