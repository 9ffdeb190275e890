drop index if exists ingestion_runs_due;
alter table ingestion_runs drop column owner;
alter table ingestion_runs drop column attempt;
alter table ingestion_runs drop column lease_until;
alter table ingestion_runs drop column created_at;
update ingestion_runs set started_at = now() where started_at is null;
alter table ingestion_runs alter column started_at set default now();
alter table ingestion_runs alter column started_at set not null;
update ingestion_runs set status = 'failed' where status = 'queued';
alter table ingestion_runs alter column status set default 'running';
alter table ingestion_runs drop constraint ingestion_runs_status_check;
alter table ingestion_runs add constraint ingestion_runs_status_check
  check (status in ('running', 'succeeded', 'partial', 'failed'));
alter table sync_runs drop column lease_until;
