-- A DSP advertiser reached only through a manager account subscribes to its Marketing Stream
-- datasets (adsp-*) itself, with Amazon-Ads-AccountId: its subscriptions have no profile.
alter table stream_subscriptions
  alter column profile_id drop not null,
  add constraint stream_subscriptions_owner check (profile_id is not null or dsp_advertiser_id is not null) not valid,
  -- Gone with its advertiser, as a profile's are with the profile (an orphan would be retried forever).
  add constraint stream_subscriptions_dsp_advertiser_fk foreign key (dsp_advertiser_id)
    references dsp_advertisers(advertiser_id) on delete cascade not valid;
alter table stream_subscriptions validate constraint stream_subscriptions_owner;
alter table stream_subscriptions validate constraint stream_subscriptions_dsp_advertiser_fk;
drop index stream_subscriptions_live;
create unique index stream_subscriptions_live
  on stream_subscriptions(coalesce(profile_id, ''), coalesce(dsp_advertiser_id, ''), dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');

-- Its days are reconciled with its dspCampaign reports like a profile's: the comparison tables
-- gain the advertiser account beside the profile (exactly one of the two), each with its own key.
alter table stream_mismatches drop constraint stream_mismatches_profile_id_report_type_day_fkey;
alter table stream_mismatches drop constraint stream_mismatches_pkey;
alter table stream_reconciled_days drop constraint stream_reconciled_days_pkey;
create unique index stream_reconciled_days_profile_day on stream_reconciled_days(profile_id, report_type, day);
alter table stream_reconciled_days
  alter column profile_id drop not null,
  add column dsp_account_id text references dsp_advertisers(advertiser_id) on delete cascade,
  add constraint stream_reconciled_days_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1);
create unique index stream_reconciled_days_dsp_account_day on stream_reconciled_days(dsp_account_id, report_type, day);
create unique index stream_mismatches_profile_metric on stream_mismatches(profile_id, report_type, day, campaign_id, metric);
alter table stream_mismatches
  alter column profile_id drop not null,
  add column dsp_account_id text,
  add constraint stream_mismatches_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1),
  add constraint stream_mismatches_profile_day_fk foreign key (profile_id, report_type, day)
    references stream_reconciled_days(profile_id, report_type, day) on delete cascade,
  add constraint stream_mismatches_dsp_account_day_fk foreign key (dsp_account_id, report_type, day)
    references stream_reconciled_days(dsp_account_id, report_type, day) on delete cascade;
create unique index stream_mismatches_dsp_account_metric on stream_mismatches(dsp_account_id, report_type, day, campaign_id, metric);
