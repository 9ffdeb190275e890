drop index stream_subscriptions_live;
delete from stream_subscriptions where dsp_advertiser_id is not null;
create unique index stream_subscriptions_live on stream_subscriptions(profile_id, dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');
alter table stream_subscriptions drop column dsp_advertiser_id;
