DROP TABLE IF EXISTS attribution_products_daily
-- statement
DROP TABLE IF EXISTS attribution_performance_daily
