-- statement
DROP TABLE IF EXISTS stream_budget_usage
-- statement
DROP TABLE IF EXISTS stream_conversion_hourly
-- statement
DROP TABLE IF EXISTS stream_traffic_hourly
