-- AMC results keep their history: every execution's rows stay, tagged with the window they
-- cover, where they came from and whether AMC reported a data gap in it. A load is recorded in
-- amc_execution_loads only after all its rows are in, so the ledger names complete loads only;
-- amc_results_latest shows, per workflow and window, the rows of the last complete load
-- (a re-run after a data gap closes replaces the partial result there, and stays in history).
-- statement
ALTER TABLE amc_results ADD COLUMN time_window_start DateTime DEFAULT toDateTime(0)
-- statement
ALTER TABLE amc_results ADD COLUMN time_window_end DateTime DEFAULT toDateTime(0)
-- statement
ALTER TABLE amc_results ADD COLUMN schedule_id String DEFAULT ''
-- statement
ALTER TABLE amc_results ADD COLUMN partial UInt8 DEFAULT 0
-- statement
CREATE TABLE IF NOT EXISTS amc_execution_loads
(
    execution_id String,
    instance_id String,
    workflow_id String,
    schedule_id String,
    origin String,
    time_window_start DateTime,
    time_window_end DateTime,
    partial UInt8,
    data_gaps String,
    row_count UInt32,
    completed_ms UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY execution_id
-- statement
CREATE VIEW IF NOT EXISTS amc_results_latest AS
SELECT execution_id, instance_id, workflow_id, schedule_id, time_window_start, time_window_end, partial, row_number, row
FROM amc_results FINAL
WHERE execution_id IN (
    SELECT argMax(execution_id, completed_ms)
    FROM amc_execution_loads FINAL
    GROUP BY instance_id, workflow_id, time_window_start, time_window_end
)
