-- An account's run history (GET /v1/ingestion/runs?accountId=, the console's account page)
-- is read newest first; without this index it scans every account's runs.
create index ingestion_runs_by_account on ingestion_runs (account_id, created_at desc, id desc);
