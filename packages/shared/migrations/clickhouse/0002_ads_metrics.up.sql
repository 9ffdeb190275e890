-- Daily metrics per entity and day, for every report type. ReplacingMergeTree keeps
-- the row with the highest version (the pull time in ms) per key: a report loaded
-- twice collapses to one row, a newer pull of a restated day replaces the older
-- one. Readers use FINAL (or argMax by version) so they never see both.
CREATE TABLE IF NOT EXISTS ads_metrics_daily
(
    profile_id String,
    report_type String,
    entity_level String,
    entity_id String,
    search_term String,
    date Date,
    campaign_id String,
    ad_group_id String,
    currency String,
    impressions UInt64,
    clicks UInt64,
    cost_micros Int64,
    sales_micros Int64,
    orders UInt64,
    units UInt64,
    attributes String,
    pending_report_id String,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date)
-- statement
-- The streaming table: the last two weeks only, small and cheap for real-time panels.
-- One partition per day; the loader drops partitions older than 14 days (TTL is not
-- available on every server we support).
CREATE TABLE IF NOT EXISTS ads_metrics_recent
(
    profile_id String,
    report_type String,
    entity_level String,
    entity_id String,
    search_term String,
    date Date,
    campaign_id String,
    impressions UInt64,
    clicks UInt64,
    cost_micros Int64,
    sales_micros Int64,
    orders UInt64,
    units UInt64,
    loaded_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY date
ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date)
-- statement
-- Entity context (names, states, keyword text, ASIN) for labels and filters next to the metrics.
CREATE TABLE IF NOT EXISTS entity_context
(
    profile_id String,
    entity_level String,
    entity_id String,
    campaign_id String,
    ad_group_id String,
    ad_product String,
    name String,
    state String,
    keyword_text String,
    match_type String,
    asin String,
    synced_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (profile_id, entity_level, entity_id)
