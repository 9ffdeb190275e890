DROP TABLE IF EXISTS ads_audience_daily
