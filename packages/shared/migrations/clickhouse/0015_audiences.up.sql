-- SP and SB audience reports (spAudiences, sbAudiences; reporting/v3/report-types/audience.md): a
-- campaign's day by the bid-boost segment its shoppers were in. One row per campaign, segment and
-- day, which the entity-keyed table cannot hold. Headline figures as in ads_metrics_daily (SP 7
-- days, SB 14), every window in its own column; money in micros.
-- statement
CREATE TABLE IF NOT EXISTS ads_audience_daily
(
    profile_id String,
    report_type String,
    date Date,
    campaign_id String,
    segment_name String,
    segment_class_code String,
    currency String,
    impressions Int64,
    clicks Int64,
    cost_micros Int64,
    sales_micros Int64,
    orders Int64,
    units Int64,
    attributed_sales_same_sku_14d_micros Int64 DEFAULT 0,
    attributed_sales_same_sku_1d_micros Int64 DEFAULT 0,
    attributed_sales_same_sku_30d_micros Int64 DEFAULT 0,
    attributed_sales_same_sku_7d_micros Int64 DEFAULT 0,
    purchases Int64 DEFAULT 0,
    purchases_14d Int64 DEFAULT 0,
    purchases_1d Int64 DEFAULT 0,
    purchases_30d Int64 DEFAULT 0,
    purchases_7d Int64 DEFAULT 0,
    purchases_same_sku_14d Int64 DEFAULT 0,
    purchases_same_sku_1d Int64 DEFAULT 0,
    purchases_same_sku_30d Int64 DEFAULT 0,
    purchases_same_sku_7d Int64 DEFAULT 0,
    sales_14d_micros Int64 DEFAULT 0,
    sales_1d_micros Int64 DEFAULT 0,
    sales_30d_micros Int64 DEFAULT 0,
    sales_7d_micros Int64 DEFAULT 0,
    sales_clicks_micros Int64 DEFAULT 0,
    units_sold Int64 DEFAULT 0,
    units_sold_clicks Int64 DEFAULT 0,
    units_sold_clicks_14d Int64 DEFAULT 0,
    units_sold_clicks_1d Int64 DEFAULT 0,
    units_sold_clicks_30d Int64 DEFAULT 0,
    units_sold_clicks_7d Int64 DEFAULT 0,
    units_sold_same_sku_14d Int64 DEFAULT 0,
    units_sold_same_sku_1d Int64 DEFAULT 0,
    units_sold_same_sku_30d Int64 DEFAULT 0,
    units_sold_same_sku_7d Int64 DEFAULT 0,
    attributes String,
    pending_report_id String,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, report_type, campaign_id, segment_name, segment_class_code, date)
