drop table if exists sync_runs;
drop table if exists sync_state;
drop table if exists entity_targets;
drop table if exists entity_ads;
drop table if exists entity_ad_groups;
drop table if exists entity_campaigns;
drop table if exists profiles;
drop table if exists amazon_credentials;
