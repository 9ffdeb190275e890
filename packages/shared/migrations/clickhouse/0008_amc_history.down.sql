-- statement
DROP TABLE IF EXISTS amc_results_latest
-- statement
DROP TABLE IF EXISTS amc_execution_loads
-- statement
ALTER TABLE amc_results DROP COLUMN partial
-- statement
ALTER TABLE amc_results DROP COLUMN schedule_id
-- statement
ALTER TABLE amc_results DROP COLUMN time_window_end
-- statement
ALTER TABLE amc_results DROP COLUMN time_window_start
