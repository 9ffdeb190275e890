-- A DSP advertiser reached only through a manager account subscribes to its Marketing Stream
-- datasets (adsp-*) itself, with Amazon-Ads-AccountId: its subscriptions have no profile.
alter table stream_subscriptions
  alter column profile_id drop not null,
  add constraint stream_subscriptions_owner check (profile_id is not null or dsp_advertiser_id is not null);
drop index stream_subscriptions_live;
create unique index stream_subscriptions_live
  on stream_subscriptions(coalesce(profile_id, ''), coalesce(dsp_advertiser_id, ''), dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');
