DROP TABLE IF EXISTS entity_context
-- statement
DROP TABLE IF EXISTS ads_metrics_recent
-- statement
DROP TABLE IF EXISTS ads_metrics_daily
