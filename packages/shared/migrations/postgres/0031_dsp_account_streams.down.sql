-- An advertiser account's subscriptions have no profile to stay under: they go.
delete from stream_subscriptions where profile_id is null;
drop index stream_subscriptions_live;
create unique index stream_subscriptions_live
  on stream_subscriptions(profile_id, coalesce(dsp_advertiser_id, ''), dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');
alter table stream_subscriptions drop constraint stream_subscriptions_owner, alter column profile_id set not null;
