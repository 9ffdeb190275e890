drop index ingestion_runs_by_account;
