-- Reports of advertiser accounts have no profile to stay under: they go.
delete from report_day_loads where dsp_account_id is not null;
delete from pending_amazon_reports where dsp_account_id is not null;
alter table report_day_loads drop constraint report_day_loads_pkey;
alter table report_day_loads drop constraint report_day_loads_one_owner, drop column owner_key, drop column dsp_account_id,
  alter column profile_id set not null;
alter table report_day_loads add constraint report_day_loads_pkey primary key (profile_id, report_type, day);
drop index pending_reports_owner;
drop index pending_reports_one_in_flight;
alter table pending_amazon_reports drop constraint pending_reports_one_owner, drop column owner_key, drop column dsp_account_id,
  alter column profile_id set not null;
create unique index pending_reports_one_in_flight on pending_amazon_reports(profile_id, report_type, start_date, end_date, columns_hash)
  where status in ('requesting', 'pending', 'processing', 'completed');
create index pending_reports_profile on pending_amazon_reports(profile_id, report_type, created_at desc);
