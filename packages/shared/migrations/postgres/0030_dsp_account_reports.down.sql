-- Reports of advertiser accounts have no profile to stay under: they go.
delete from report_day_loads where dsp_account_id is not null;
delete from pending_amazon_reports where dsp_account_id is not null;
drop index report_day_loads_dsp_account_day;
alter table report_day_loads drop constraint report_day_loads_one_owner, drop column dsp_account_id,
  alter column profile_id set not null;
drop index report_day_loads_profile_day;
alter table report_day_loads add constraint report_day_loads_pkey primary key (profile_id, report_type, day);
drop index pending_reports_dsp_account;
drop index pending_reports_one_in_flight_dsp;
alter table pending_amazon_reports drop constraint pending_reports_one_owner, drop column dsp_account_id,
  alter column profile_id set not null;
