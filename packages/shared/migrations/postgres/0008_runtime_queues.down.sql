create table sync_logs (
  id bigserial primary key,
  account_id uuid,
  job_id uuid,
  level text not null,
  message text not null,
  created_at timestamptz not null default now()
);
create index sync_logs_created on sync_logs(created_at);
update amc_executions set status = 'queued' where status = 'submitting';
alter table amc_executions drop constraint amc_executions_status_check;
alter table amc_executions add constraint amc_executions_status_check check (status in ('queued', 'pending', 'running', 'completed', 'failed'));
alter table event_outbox drop column claimed_until;
