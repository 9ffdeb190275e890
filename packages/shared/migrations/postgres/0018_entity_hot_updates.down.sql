alter table entity_campaigns reset (fillfactor);
alter table entity_ad_groups reset (fillfactor);
alter table entity_ads reset (fillfactor);
alter table entity_targets reset (fillfactor);
alter table entity_negative_targets reset (fillfactor);
alter table entity_creatives reset (fillfactor);
alter table entity_portfolios reset (fillfactor);
alter table entity_budget_rules reset (fillfactor);
