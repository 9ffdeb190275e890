-- The comparison tables first (the reverse of up), then the subscriptions.
delete from stream_reconciled_days where dsp_account_id is not null;
alter table stream_mismatches drop constraint stream_mismatches_dsp_account_day_fk, drop constraint stream_mismatches_profile_day_fk,
  drop constraint stream_mismatches_one_owner, drop column dsp_account_id, alter column profile_id set not null;
drop index stream_mismatches_profile_metric;
alter table stream_reconciled_days drop constraint stream_reconciled_days_one_owner, drop column dsp_account_id,
  alter column profile_id set not null;
drop index stream_reconciled_days_profile_day;
alter table stream_reconciled_days add constraint stream_reconciled_days_pkey primary key (profile_id, report_type, day);
alter table stream_mismatches add constraint stream_mismatches_pkey primary key (profile_id, report_type, day, campaign_id, metric),
  add constraint stream_mismatches_profile_id_report_type_day_fkey foreign key (profile_id, report_type, day)
    references stream_reconciled_days(profile_id, report_type, day) on delete cascade;
-- An advertiser account's subscriptions have no profile to stay under: they go. (Amazon keeps
-- them until archived: archive them first, DELETE /v1/streams/subscriptions/{id}, or their
-- records arrive and are dead-lettered.)
delete from stream_subscriptions where profile_id is null;
drop index stream_subscriptions_live;
create unique index stream_subscriptions_live
  on stream_subscriptions(profile_id, coalesce(dsp_advertiser_id, ''), dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');
alter table stream_subscriptions drop constraint stream_subscriptions_dsp_advertiser_fk,
  drop constraint stream_subscriptions_owner, alter column profile_id set not null;
