alter table entity_campaigns set (fillfactor = 70);
alter table entity_ad_groups set (fillfactor = 70);
alter table entity_ads set (fillfactor = 70);
alter table entity_targets set (fillfactor = 70);
alter table entity_negative_targets set (fillfactor = 70);
alter table entity_creatives set (fillfactor = 70);
alter table entity_portfolios set (fillfactor = 70);
alter table entity_budget_rules set (fillfactor = 70);
