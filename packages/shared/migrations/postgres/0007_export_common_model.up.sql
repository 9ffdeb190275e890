-- Exported ads and ad-group targets (the Exports common model) name their ad group,
-- not their campaign; the campaign is filled in from entity_ad_groups once known.
alter table entity_ads alter column campaign_id drop not null;
alter table entity_targets alter column campaign_id drop not null;

-- One spelling of states and budget types whichever API synced an entity
-- (SD and SB v3 write "enabled", the exports and SP v3 "ENABLED").
update entity_campaigns set state = upper(state), budget_type = upper(budget_type) where state <> upper(state) or budget_type <> upper(budget_type);
update entity_ad_groups set state = upper(state) where state <> upper(state);
update entity_ads set state = upper(state) where state <> upper(state);
update entity_targets set state = upper(state) where state <> upper(state);
