-- AMC result rows, one JSON object per row, keyed by execution; columns are on the Postgres execution.
-- ReplacingMergeTree: re-loading an execution's results (after a crash) leaves one copy.
CREATE TABLE IF NOT EXISTS amc_results
(
    execution_id String,
    workflow_id String,
    instance_id String,
    row_number UInt32,
    row String,
    loaded_at DateTime
)
ENGINE = ReplacingMergeTree()
ORDER BY (execution_id, row_number)
