update entity_ads set campaign_id = '' where campaign_id is null;
update entity_targets set campaign_id = '' where campaign_id is null;
alter table entity_ads alter column campaign_id set not null;
alter table entity_targets alter column campaign_id set not null;
