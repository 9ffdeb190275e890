-- A report's owner is a profile (asked under Amazon-Advertising-API-Scope) or a DSP advertiser
-- account reached only through a manager account (asked with Amazon-Ads-AccountId, one advertiser
-- per report: guides/reporting/dsp/creating-reports.md). Exactly one of the two is set.
-- Written to take no long lock on big tables: no rewrite (nullable columns, constraints added NOT
-- VALID and validated apart), and the profile indexes stay; the advertiser's are new and empty.
alter table pending_amazon_reports
  alter column profile_id drop not null,
  add column dsp_account_id text,
  add constraint pending_reports_dsp_account_fk foreign key (dsp_account_id)
    references dsp_advertisers(advertiser_id) on delete cascade not valid,
  add constraint pending_reports_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1) not valid;
alter table pending_amazon_reports validate constraint pending_reports_dsp_account_fk;
alter table pending_amazon_reports validate constraint pending_reports_one_owner;
-- Ask once, for an advertiser account's reports too (the profile's index leaves null profiles alone).
create unique index pending_reports_one_in_flight_dsp on pending_amazon_reports(dsp_account_id, report_type, start_date, end_date, columns_hash)
  where dsp_account_id is not null and status in ('requesting', 'pending', 'processing', 'completed');
create index pending_reports_dsp_account on pending_amazon_reports(dsp_account_id, report_type, created_at desc)
  where dsp_account_id is not null;

-- The primary key needs a profile on every row: it becomes a unique index (a null profile is
-- not bound by it), beside the advertiser account's own.
alter table report_day_loads drop constraint report_day_loads_pkey;
create unique index report_day_loads_profile_day on report_day_loads(profile_id, report_type, day);
alter table report_day_loads
  alter column profile_id drop not null,
  add column dsp_account_id text,
  add constraint report_day_loads_dsp_account_fk foreign key (dsp_account_id)
    references dsp_advertisers(advertiser_id) on delete cascade not valid,
  add constraint report_day_loads_one_owner check (num_nonnulls(profile_id, dsp_account_id) = 1) not valid;
alter table report_day_loads validate constraint report_day_loads_dsp_account_fk;
alter table report_day_loads validate constraint report_day_loads_one_owner;
create unique index report_day_loads_dsp_account_day on report_day_loads(dsp_account_id, report_type, day)
  where dsp_account_id is not null;
