DROP TABLE IF EXISTS stream_campaign_recommendations
-- statement
DROP TABLE IF EXISTS stream_sb_rich_media_hourly
-- statement
DROP TABLE IF EXISTS stream_sb_clickstream_hourly
