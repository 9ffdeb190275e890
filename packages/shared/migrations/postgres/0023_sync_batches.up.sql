-- Every entity sync is one queued batch (from the HTTP trigger, the CronJob or an ingestion run):
-- the sync loop of any replica claims it with a lease and runs its sync_runs (batch_id). A batch
-- whose process died is claimed again once its lease lapses, and its unfinished runs run again.
create table sync_batches (
  id uuid primary key,
  profile_id text not null references profiles(profile_id) on delete cascade,
  trigger text not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
  owner text,
  lease_until timestamptz,
  attempt integer not null default 0,
  error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index sync_batches_waiting on sync_batches(created_at) where status in ('queued', 'running');
create index sync_batches_trigger on sync_batches(trigger);
