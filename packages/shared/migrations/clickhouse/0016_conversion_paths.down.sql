DROP TABLE IF EXISTS ads_conversion_paths
