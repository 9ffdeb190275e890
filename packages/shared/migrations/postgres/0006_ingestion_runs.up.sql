-- One row per ingestion trigger (all accounts, or one), with progress per stage.
create table ingestion_runs (
  id uuid primary key default gen_random_uuid(),
  scope text not null check (scope in ('all', 'account')),
  account_id uuid references accounts(id) on delete cascade,
  status text not null default 'running' check (status in ('running', 'succeeded', 'partial', 'failed')),
  stages jsonb not null default '{}',
  error text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
