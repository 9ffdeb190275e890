DROP TABLE IF EXISTS attribution_tags;
DROP TABLE IF EXISTS attribution_publishers;
DROP TABLE IF EXISTS attribution_advertisers;
DROP TABLE IF EXISTS attribution_profiles;
