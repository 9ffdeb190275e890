-- Marketing Stream's Sponsored Brands clickstream and rich media datasets
-- (datasets/sb-performance.md): hourly deltas keyed by idempotency_id like the traffic table,
-- summed after duplicates are dropped (aggregating-data.md). Clickstream: branded searches and
-- detail page views within 14 days of a click, and of a view or click. Rich media: video views by
-- quartile, five-second views and unmutes.
-- statement
CREATE TABLE IF NOT EXISTS stream_sb_clickstream_hourly
(
    profile_id String,
    advertiser_id String,
    marketplace_id String,
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
    branded_searches_14d Int64,
    view_branded_searches_14d Int64,
    detail_page_views_14d Int64,
    view_detail_page_views_14d Int64,
    extra String,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (profile_id, hour, idempotency_id)
-- statement
CREATE TABLE IF NOT EXISTS stream_sb_rich_media_hourly
(
    profile_id String,
    advertiser_id String,
    marketplace_id String,
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
    video_5_second_views Int64,
    video_first_quartile_views Int64,
    video_midpoint_views Int64,
    video_third_quartile_views Int64,
    video_complete_views Int64,
    video_unmutes Int64,
    extra String,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (profile_id, hour, idempotency_id)
-- statement
-- Sponsored ads campaign recommendations (datasets/sponsored-ads-campaign-diagnostics-
-- recommendations.md), diagnosed weekly: one row per recommendation_id (a resend lands once, the
-- newest kept). The missed opportunities as lower and upper bounds; the campaign's current and
-- recommended settings (ad groups, targets, bids, budget rules) as the JSON Amazon sent.
CREATE TABLE IF NOT EXISTS stream_campaign_recommendations
(
    profile_id String,
    advertiser_id String,
    marketplace_id String,
    recommendation_id String,
    group_id String,
    type String,
    ad_product String,
    campaign_id String,
    campaign_name String,
    published_at DateTime,
    expires_at DateTime,
    description String,
    missed_impressions_lower Int64,
    missed_impressions_upper Int64,
    missed_clicks_lower Int64,
    missed_clicks_upper Int64,
    missed_conversions_lower Int64,
    missed_conversions_upper Int64,
    missed_time_period String,
    apply_endpoint String,
    current_settings String,
    recommended_settings String,
    extra String,
    received_at DateTime
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(published_at)
ORDER BY (profile_id, recommendation_id)
