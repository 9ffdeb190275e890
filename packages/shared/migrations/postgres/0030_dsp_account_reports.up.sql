-- A report's owner is a profile (asked under Amazon-Advertising-API-Scope) or a DSP advertiser
-- account reached only through a manager account (asked with Amazon-Ads-AccountId, one advertiser
-- per report: guides/reporting/dsp/creating-reports.md). Exactly one of the two is set.
-- owner_key names either in one column, for "ask once" and per-owner lookups; a profile id is
-- numeric, so 'dsp:' never collides with one.
alter table pending_amazon_reports
  alter column profile_id drop not null,
  add column dsp_account_id text references dsp_advertisers(advertiser_id) on delete cascade,
  add column owner_key text generated always as (coalesce(profile_id, 'dsp:' || dsp_account_id)) stored,
  add constraint pending_reports_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1);
drop index pending_reports_one_in_flight;
create unique index pending_reports_one_in_flight on pending_amazon_reports(owner_key, report_type, start_date, end_date, columns_hash)
  where status in ('requesting', 'pending', 'processing', 'completed');
drop index pending_reports_profile;
create index pending_reports_owner on pending_amazon_reports(owner_key, report_type, created_at desc);

alter table report_day_loads
  drop constraint report_day_loads_pkey,
  alter column profile_id drop not null,
  add column dsp_account_id text references dsp_advertisers(advertiser_id) on delete cascade,
  add column owner_key text generated always as (coalesce(profile_id, 'dsp:' || dsp_account_id)) stored,
  add constraint report_day_loads_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1);
alter table report_day_loads add constraint report_day_loads_pkey primary key (owner_key, report_type, day);
