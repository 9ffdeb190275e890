-- Transactional outbox: an event is written in the same transaction as the state
-- it announces, then relayed to Kafka. A crash can delay an event, never lose it
-- or announce something that was not recorded.
create table event_outbox (
  id bigserial primary key,
  topic text not null,
  event_key text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  published_at timestamptz
);
create index event_outbox_unpublished on event_outbox(id) where published_at is null;

-- Every Amazon report we asked for, from request to load.
create table pending_amazon_reports (
  id uuid primary key default gen_random_uuid(),
  profile_id text not null references profiles(profile_id) on delete cascade,
  report_type text not null,
  ad_product text not null,
  start_date date not null,
  end_date date not null,
  columns text[] not null,
  columns_hash text not null,
  -- requesting: recorded, Amazon not yet answered; pending/processing: Amazon's status;
  -- completed: report.ready published; loaded: rows in ClickHouse; failed: see failure_reason.
  status text not null default 'requesting' check (status in ('requesting', 'pending', 'processing', 'completed', 'loaded', 'failed')),
  amazon_report_id text,
  duplicate_of_existing boolean not null default false,
  tier text not null default 'manual',
  run_id uuid,
  poll_count integer not null default 0,
  request_attempts integer not null default 0,
  last_polled_at timestamptz,
  next_poll_at timestamptz not null default now(),
  download_url text,
  file_size bigint,
  row_count integer,
  failure_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  loaded_at timestamptz
);
-- Ask once: one report in flight per (profile, type, window, columns).
create unique index pending_reports_one_in_flight on pending_amazon_reports(profile_id, report_type, start_date, end_date, columns_hash)
  where status in ('requesting', 'pending', 'processing', 'completed');
create index pending_reports_due on pending_amazon_reports(next_poll_at) where status in ('pending', 'processing');
create index pending_reports_profile on pending_amazon_reports(profile_id, report_type, created_at desc);

-- Completeness: which pull loaded each profile, report type and day, with how many rows.
create table report_day_loads (
  profile_id text not null references profiles(profile_id) on delete cascade,
  report_type text not null,
  day date not null,
  pending_report_id uuid not null references pending_amazon_reports(id) on delete cascade,
  rows integer not null,
  pulled_at timestamptz not null,
  primary key (profile_id, report_type, day)
);
