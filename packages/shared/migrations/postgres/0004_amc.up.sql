-- AMC instances an account runs workflows on, with the advertiser and marketplace AMC's headers need.
create table amc_instances (
  account_id uuid not null references accounts(id) on delete cascade,
  instance_id text not null,
  advertiser_id text not null,
  marketplace_id text not null,
  created_at timestamptz not null default now(),
  primary key (instance_id)
);
create index amc_instances_account on amc_instances(account_id);

-- Saved workflows: every execution refers to one of these, never to ad-hoc SQL.
create table amc_workflows (
  instance_id text not null references amc_instances(instance_id) on delete cascade,
  workflow_id text not null,
  sql_query text not null,
  parameters jsonb not null default '{}',
  amc_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (instance_id, workflow_id)
);

create table amc_executions (
  id uuid primary key default gen_random_uuid(),
  instance_id text not null references amc_instances(instance_id) on delete cascade,
  workflow_id text not null,
  -- queued: waiting for a free slot (AMC allows 10 in flight per instance); pending/running/completed/failed as AMC says.
  status text not null default 'queued' check (status in ('queued', 'pending', 'running', 'completed', 'failed')),
  amc_status text,
  amc_execution_id text,
  request jsonb not null,
  time_window_start text,
  time_window_end text,
  time_zone text not null,
  output_format text not null,
  data_gaps jsonb,
  warnings jsonb not null default '[]',
  failure_reason text,
  output_location text,
  row_count integer,
  size_bytes bigint,
  columns jsonb,
  poll_count integer not null default 0,
  status_checked_at timestamptz,
  next_poll_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  submitted_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz not null default now()
);
create index amc_executions_active on amc_executions(instance_id, status) where status in ('queued', 'pending', 'running');
