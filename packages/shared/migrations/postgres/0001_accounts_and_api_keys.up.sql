-- Client accounts (tenants) and the API keys that guard every HTTP route but health.
create table accounts (
  id uuid primary key default gen_random_uuid(),
  company_name text not null,
  primary_contact_email text,
  status text not null default 'active' check (status in ('active', 'paused', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Keys are stored as SHA-256 hashes; the plaintext is shown once, at creation.
-- An admin key sees every account; an account key sees only its own account.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  key_hash text not null unique,
  key_prefix text not null,
  scope text not null check (scope in ('admin', 'account')),
  account_id uuid references accounts(id) on delete cascade,
  label text,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  check ((scope = 'admin' and account_id is null) or (scope = 'account' and account_id is not null))
);
