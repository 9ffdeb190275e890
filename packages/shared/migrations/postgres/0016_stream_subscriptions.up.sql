-- Amazon Marketing Stream subscriptions (stream-consumer's subscriptions.ts owns this table):
-- one per profile, dataset and destination queue while it lives. Recorded before Amazon is
-- asked, with the clientRequestToken Amazon dedupes on, so a crash in between asks nothing twice.
create table stream_subscriptions (
  id uuid primary key default gen_random_uuid(),
  profile_id text not null references profiles(profile_id) on delete cascade,
  dataset_id text not null,
  destination_arn text not null,
  client_request_token text not null unique,
  -- Amazon's id, once it answered.
  subscription_id text unique,
  -- requested: recorded, Amazon not yet answered; then Amazon's own statuses.
  status text not null default 'requested' check (status in ('requested', 'PROVISIONING', 'PENDING_CONFIRMATION',
    'ACTIVE', 'ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING', 'SUSPENDED')),
  status_reason text,
  notes text,
  confirmed_at timestamptz,
  status_checked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index stream_subscriptions_live on stream_subscriptions(profile_id, dataset_id, destination_arn)
  where status not in ('ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING');

-- Stream reconciled with the daily reports (packages/shared/src/streams/reconciliation.ts owns
-- both tables): each day compared, and each campaign metric whose hourly sum differs from the
-- daily report beyond the tolerance. A re-pulled report compares the day again and replaces both.
create table stream_reconciled_days (
  profile_id text not null references profiles(profile_id) on delete cascade,
  report_type text not null,
  day date not null,
  campaigns int not null,
  mismatches int not null,
  checked_at timestamptz not null default now(),
  primary key (profile_id, report_type, day)
);
create table stream_mismatches (
  profile_id text not null,
  report_type text not null,
  day date not null,
  campaign_id text not null,
  metric text not null,
  report_value bigint not null,
  stream_value bigint not null,
  primary key (profile_id, report_type, day, campaign_id, metric),
  foreign key (profile_id, report_type, day) references stream_reconciled_days(profile_id, report_type, day) on delete cascade
);
