-- A DSP advertiser's Marketing Stream subscription (adsp-traffic, adsp-conversion): made with
-- /dsp/streams/subscriptions under the advertiser's account, kept under the DSP profile that
-- reaches it (profile_id), so an account's subscriptions and its rows stay together.
alter table stream_subscriptions add column dsp_advertiser_id text;
drop index stream_subscriptions_live;
create unique index stream_subscriptions_live
  on stream_subscriptions(profile_id, coalesce(dsp_advertiser_id, ''), dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');
