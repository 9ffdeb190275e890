-- Amazon Attribution's reports (the Attribution model's POST /attribution/report;
-- guides/amazon-attribution/how-to.md): off-Amazon clicks and the Amazon conversions they led to,
-- by day. Performance rows at three levels (`level`: campaign, ad_group, creative), each as Amazon
-- aggregates it (a level is asked for, not summed from the one below: rows under ten clicks are
-- masked, troubleshooting.md); a campaign row names no publisher. Products rows per ad group,
-- publisher, ASIN and conversion type (promoted or brand halo). Money in micros. Restated by
-- Amazon after 1, 7 and 28 days: each pull is a version, and a pull's window drops the rows of
-- older pulls of the same profile, advertiser and level.
-- statement
CREATE TABLE IF NOT EXISTS attribution_performance_daily
(
    profile_id String,
    advertiser_id String,
    advertiser_name String,
    level String,
    date Date,
    campaign_id String,
    ad_group_id String,
    creative_id String,
    publisher String,
    currency String,
    click_throughs Int64,
    detail_page_views Int64,
    add_to_carts Int64,
    purchases Int64,
    units_sold Int64,
    sales_micros Int64,
    total_detail_page_views Int64,
    total_add_to_carts Int64,
    total_purchases Int64,
    total_units_sold Int64,
    total_sales_micros Int64,
    brb_bonus_micros Int64,
    kenp_read Int64,
    kenp_royalties_micros Int64,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, advertiser_id, level, date, campaign_id, ad_group_id, creative_id, publisher)
-- statement
CREATE TABLE IF NOT EXISTS attribution_products_daily
(
    profile_id String,
    advertiser_id String,
    advertiser_name String,
    date Date,
    campaign_id String,
    ad_group_id String,
    publisher String,
    product_asin String,
    product_conversion_type String,
    product_name String,
    brand_name String,
    product_group String,
    product_category String,
    product_subcategory String,
    marketplace String,
    currency String,
    detail_page_views Int64,
    add_to_carts Int64,
    purchases Int64,
    units_sold Int64,
    sales_micros Int64,
    halo_detail_page_views Int64,
    halo_add_to_carts Int64,
    halo_purchases Int64,
    halo_units_sold Int64,
    halo_sales_micros Int64,
    ntb_purchases Int64,
    ntb_units_sold Int64,
    ntb_sales_micros Int64,
    halo_ntb_purchases Int64,
    halo_ntb_units_sold Int64,
    halo_ntb_sales_micros Int64,
    kenp_read Int64,
    kenp_royalties_micros Int64,
    pulled_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (profile_id, advertiser_id, date, campaign_id, ad_group_id, publisher, product_asin, product_conversion_type)
