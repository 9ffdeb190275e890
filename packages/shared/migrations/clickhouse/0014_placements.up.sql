-- Placement as a dimension of the campaign metrics (spCampaignPlacement, sbCampaignPlacement):
-- a campaign's day has a row per placement, so the placement is part of the row's key. Rows of
-- every other report type have '' there. A sorting key may only grow by a column added in the
-- same ALTER, and that column may have no default expression: its type's default ('') fills it.
-- statement
ALTER TABLE ads_metrics_daily
    ADD COLUMN placement String,
    MODIFY ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date, placement)
-- statement
ALTER TABLE ads_metrics_recent
    ADD COLUMN placement String,
    MODIFY ORDER BY (profile_id, report_type, entity_level, entity_id, search_term, date, placement)
