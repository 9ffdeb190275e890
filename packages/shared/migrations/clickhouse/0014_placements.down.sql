-- statement
ALTER TABLE ads_metrics_recent MODIFY ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date)
-- statement
ALTER TABLE ads_metrics_recent DROP COLUMN placement
-- statement
ALTER TABLE ads_metrics_daily MODIFY ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date)
-- statement
ALTER TABLE ads_metrics_daily DROP COLUMN placement
