-- The AMC lifecycle: saved workflows carry what AMC keeps (inputParameters), the output
-- format their executions use, the data-gap policy, and what the last drift check found;
-- schedules are kept like workflows; executions say where they came from (on demand, a
-- schedule's own run, a re-run over a data gap) and whether their data was partial.

-- `parameters` was stored and never sent; inputParameters is AMC's field.
alter table amc_workflows drop column parameters;
alter table amc_workflows add column input_parameters jsonb not null default '[]';
alter table amc_workflows add column output_format text not null default 'CSV' check (output_format in ('CSV', 'PARQUET'));
alter table amc_workflows add column data_gap_policy text not null default 'run_anyway'
  check (data_gap_policy in ('run_anyway', 'wait_and_rerun', 'fail'));
-- in_sync, drifted (AMC's SQL or parameters differ from ours), missing_at_amc; null until checked.
alter table amc_workflows add column drift_status text check (drift_status in ('in_sync', 'drifted', 'missing_at_amc'));
alter table amc_workflows add column amc_definition jsonb;
alter table amc_workflows add column drift_checked_at timestamptz;

create table amc_schedules (
  instance_id text not null,
  schedule_id text not null,
  workflow_id text not null,
  aggregation_period text not null check (aggregation_period in ('Daily', 'Weekly')),
  aggregation_hour_utc int not null check (aggregation_hour_utc between 0 and 23),
  aggregation_start_day text,
  enabled boolean not null,
  -- Discovery reads AMC's executions of the workflow created from here on (AMC's clock).
  discovered_until timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (instance_id, schedule_id),
  -- A workflow a schedule runs cannot be deleted (AMC refuses too).
  foreign key (instance_id, workflow_id) references amc_workflows(instance_id, workflow_id)
);

alter table amc_executions add column origin text not null default 'on_demand'
  check (origin in ('on_demand', 'scheduled', 'rerun'));
alter table amc_executions add column schedule_id text;
-- A re-run (over a data gap) points at the execution whose window it repeats, and the first of the chain.
alter table amc_executions add column rerun_of uuid references amc_executions(id);
alter table amc_executions add column chain_started_at timestamptz;
alter table amc_executions add column partial boolean not null default false;
alter table amc_executions add column ignore_data_gaps boolean not null default false;
-- Let go of (given up, failed or replaced) but not yet confirmed cancelled at AMC: it may still hold a slot.
alter table amc_executions add column cancel_requested_at timestamptz;
alter table amc_executions drop constraint amc_executions_status_check;
-- replaced: cancelled at AMC because of a data gap, its window handed to a re-run.
alter table amc_executions add constraint amc_executions_status_check
  check (status in ('queued', 'submitting', 'pending', 'running', 'completed', 'failed', 'replaced'));
-- One row per AMC execution, however often discovery sees it (rows not yet submitted have none: nulls are distinct).
create unique index amc_executions_amc_id on amc_executions(instance_id, amc_execution_id);
create index amc_executions_history on amc_executions(instance_id, workflow_id, created_at);
