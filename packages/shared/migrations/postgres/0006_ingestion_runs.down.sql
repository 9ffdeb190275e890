drop table if exists ingestion_runs;
