-- Marketing Stream's Sponsored Products budget recommendations (datasets/budget-recs-missed-
-- opportunities.md): the daily budget Amazon suggests for a campaign that ran out, and what the
-- seven days before missed (lower and upper estimates). No idempotency id: a campaign's
-- recommendation at one time is one row. Money in micros; percent_time_in_budget as Amazon gave
-- it (1.0 all the time, -1 not known).
-- statement
CREATE TABLE IF NOT EXISTS stream_budget_recommendations
(
    profile_id String,
    advertiser_id String,
    marketplace_id String,
    campaign_id String,
    recommendation_time DateTime,
    suggested_budget_micros Int64,
    reason String,
    missed_sales_lower_micros Int64,
    missed_sales_upper_micros Int64,
    missed_clicks_lower Float64,
    missed_clicks_upper Float64,
    missed_impressions_lower Float64,
    missed_impressions_upper Float64,
    start_date Date,
    end_date Date,
    percent_time_in_budget Float64,
    received_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(recommendation_time)
ORDER BY (profile_id, campaign_id, recommendation_time)
