-- What Amazon drops silently: a campaign enabled (per the entity tables) that spent on a
-- day in one report type of its ad product but is absent from that day's campaign report.
-- Written by report-poller's reconciliation when a report loads; listed as gaps.
create table report_reconciliation (
  profile_id text not null references profiles(profile_id) on delete cascade,
  missing_from text not null,
  day date not null,
  campaign_id text not null,
  campaign_name text,
  seen_in text[] not null,
  cost_micros bigint not null,
  detected_at timestamptz not null default now(),
  primary key (profile_id, missing_from, day, campaign_id)
);
