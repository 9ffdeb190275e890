-- The outbox is a work queue like the others: a relay claims rows with a lease,
-- publishes them with no transaction open, then marks them published.
alter table event_outbox add column claimed_until timestamptz;

-- An AMC execution holds an instance slot from the moment a submitter reserves it
-- ('submitting') until AMC says it finished, so replicas never exceed AMC's 10.
alter table amc_executions drop constraint amc_executions_status_check;
alter table amc_executions add constraint amc_executions_status_check check (status in ('queued', 'submitting', 'pending', 'running', 'completed', 'failed'));
drop index if exists amc_executions_active;
create index amc_executions_active on amc_executions(instance_id, status) where status in ('queued', 'submitting', 'pending', 'running');

-- Nothing ever wrote sync_logs: job errors live on import_jobs.errors, runs in structured logs.
drop table if exists sync_logs;
