-- Which profiles of an account adsync syncs (accounts/profile-selection.ts); a profile the
-- selection leaves out is kept, as `excluded` with the reason, and never called.
alter table accounts add column profile_selection jsonb not null default '{}';
alter table profiles drop constraint profiles_status_check;
alter table profiles add constraint profiles_status_check check (status in ('active', 'inaccessible', 'paused', 'excluded'));
