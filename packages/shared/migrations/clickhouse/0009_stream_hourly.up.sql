-- Amazon Marketing Stream's hourly data (stream-consumer). Traffic and conversion records are
-- deltas (aggregating-data.md): a record delivered twice has the same idempotency_id and lands
-- once (ReplacingMergeTree on it; read with FINAL), a revision has its own id and adds to the
-- hour. Money in micros; `hour` is the UTC start of the hour, local_date/local_hour the
-- profile's own, as Amazon stamped the record.
-- statement
CREATE TABLE IF NOT EXISTS stream_traffic_hourly
(
    profile_id String,
    dataset_id String,
    ad_product String,
    advertiser_id String,
    marketplace_id String,
    currency String,
    campaign_id String,
    ad_group_id String,
    ad_id String,
    target_id String,
    target_text String,
    match_type String,
    placement String,
    hour DateTime,
    local_date Date,
    local_hour UInt8,
    idempotency_id String,
    impressions Int64,
    clicks Int64,
    cost_micros Int64,
    viewable_impressions Int64,
    extra String,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (profile_id, dataset_id, hour, idempotency_id)
-- statement
CREATE TABLE IF NOT EXISTS stream_conversion_hourly
(
    profile_id String,
    dataset_id String,
    ad_product String,
    advertiser_id String,
    marketplace_id String,
    currency String,
    campaign_id String,
    ad_group_id String,
    ad_id String,
    target_id String,
    hour DateTime,
    local_date Date,
    local_hour UInt8,
    idempotency_id String,
    conversions_1d Int64,
    conversions_same_sku_1d Int64,
    sales_micros_1d Int64,
    sales_same_sku_micros_1d Int64,
    units_1d Int64,
    units_same_sku_1d Int64,
    conversions_7d Int64,
    conversions_same_sku_7d Int64,
    sales_micros_7d Int64,
    sales_same_sku_micros_7d Int64,
    units_7d Int64,
    units_same_sku_7d Int64,
    conversions_14d Int64,
    conversions_same_sku_14d Int64,
    sales_micros_14d Int64,
    sales_same_sku_micros_14d Int64,
    units_14d Int64,
    units_same_sku_14d Int64,
    conversions_30d Int64,
    conversions_same_sku_30d Int64,
    sales_micros_30d Int64,
    sales_same_sku_micros_30d Int64,
    units_30d Int64,
    units_same_sku_30d Int64,
    ntb_orders_14d Int64,
    ntb_sales_micros_14d Int64,
    ntb_units_14d Int64,
    view_conversions_14d Int64,
    view_sales_micros_14d Int64,
    view_units_14d Int64,
    view_ntb_orders_14d Int64,
    view_ntb_sales_micros_14d Int64,
    view_ntb_units_14d Int64,
    extra String,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (profile_id, dataset_id, hour, idempotency_id)
-- Budget usage is a notification at each 5% step, no idempotency id: the same notification twice is one row.
-- statement
CREATE TABLE IF NOT EXISTS stream_budget_usage
(
    profile_id String,
    advertiser_id String,
    marketplace_id String,
    budget_scope_id String,
    budget_scope_type String,
    ad_product String,
    budget_micros Int64,
    usage_percentage Float64,
    usage_updated_at DateTime,
    hour DateTime,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (profile_id, budget_scope_type, budget_scope_id, usage_updated_at)
