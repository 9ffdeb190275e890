drop table if exists entity_budget_rule_campaigns;
drop table if exists entity_budget_rules;
drop table if exists entity_portfolios;
drop table if exists entity_creatives;
drop table if exists entity_negative_targets;
