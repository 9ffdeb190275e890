drop table if exists amc_executions;
drop table if exists amc_workflows;
drop table if exists amc_instances;
