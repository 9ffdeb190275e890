-- The cross-product conversion path report (conversionPath, reporting/v3/report-types/
-- conversion-path.md): a brand's conversions of a day by the path of ad touchpoints that led to
-- them. Sales and purchases sum over days and paths; each channel's frequency is the path's own
-- (millionths, never summed). The headline columns are kept for one shape with the other tables:
-- a path has no impressions, clicks or cost of its own (0).
-- statement
CREATE TABLE IF NOT EXISTS ads_conversion_paths
(
    profile_id String,
    report_type String,
    date Date,
    brand_name String,
    path String,
    currency String,
    impressions Int64,
    clicks Int64,
    cost_micros Int64,
    sales_micros Int64,
    orders Int64,
    units Int64,
    amazon_dsp_audio_frequency_millionths Int64 DEFAULT 0,
    amazon_dsp_display_frequency_millionths Int64 DEFAULT 0,
    amazon_dsp_online_video_frequency_millionths Int64 DEFAULT 0,
    amazon_dsp_streaming_tv_frequency_millionths Int64 DEFAULT 0,
    new_to_brand_purchases Int64 DEFAULT 0,
    new_to_brand_sales_micros Int64 DEFAULT 0,
    purchases Int64 DEFAULT 0,
    sponsored_brands_display_frequency_millionths Int64 DEFAULT 0,
    sponsored_brands_video_frequency_millionths Int64 DEFAULT 0,
    sponsored_display_display_frequency_millionths Int64 DEFAULT 0,
    sponsored_display_frequency_millionths Int64 DEFAULT 0,
    sponsored_display_online_video_frequency_millionths Int64 DEFAULT 0,
    sponsored_products_frequency_millionths Int64 DEFAULT 0,
    sponsored_tv_streaming_tv_frequency_millionths Int64 DEFAULT 0,
    attributes String,
    pending_report_id String,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, report_type, brand_name, path, date)
