-- Consent requests started by POST /v1/accounts/:id/connect (entity-sync/src/oauth-connect.ts).
-- The state sent to Amazon is sealed (authenticated) and names this row's nonce; the
-- row makes it single-use: the callback claims it once, whatever the outcome.
create table oauth_states (
  nonce text primary key,
  account_id uuid not null references accounts(id) on delete cascade,
  region text not null check (region in ('NA', 'EU', 'FE')),
  redirect_uri text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  -- connected | denied | code_refused | failed: what the one callback that used it ended in.
  outcome text,
  outcome_detail text
);
create index oauth_states_account_idx on oauth_states(account_id, created_at desc);
