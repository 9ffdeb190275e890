-- Runs outlive the processes that run them. A lease, renewed while the work runs,
-- says a live process still holds a run; when it lapses the run is reclaimed
-- (sync runs are failed as abandoned, ingestion runs are taken up again), so a
-- killed process never leaves a run "running" forever or blocks the next sync.
alter table sync_runs add column lease_until timestamptz;

alter table ingestion_runs drop constraint ingestion_runs_status_check;
alter table ingestion_runs add constraint ingestion_runs_status_check
  check (status in ('queued', 'running', 'succeeded', 'partial', 'failed'));
alter table ingestion_runs alter column status set default 'queued';
alter table ingestion_runs alter column started_at drop not null;
alter table ingestion_runs alter column started_at drop default;
alter table ingestion_runs add column created_at timestamptz not null default now();
alter table ingestion_runs add column lease_until timestamptz;
alter table ingestion_runs add column attempt integer not null default 0;
alter table ingestion_runs add column owner text;
update ingestion_runs set created_at = coalesce(started_at, now());
create index ingestion_runs_due on ingestion_runs (created_at) where status in ('queued', 'running');
