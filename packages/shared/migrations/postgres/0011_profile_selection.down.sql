update profiles set status = 'paused' where status = 'excluded';
alter table profiles drop constraint profiles_status_check;
alter table profiles add constraint profiles_status_check check (status in ('active', 'inaccessible', 'paused'));
alter table accounts drop column profile_selection;
