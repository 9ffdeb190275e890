-- Work loops sleep until there is work: each queue table announces, on commit, a row that became
-- claimable (channel adsync_<table>), and the loops that claim from it LISTEN (db/notifications.ts).
-- Row-level triggers with WHEN conditions, so a claim (an UPDATE of zero or more rows that moves
-- them out of reach) never announces itself and wakes its own loop; Postgres sends one
-- notification per channel per transaction however many rows qualified.
create function adsync_notify_queue() returns trigger language plpgsql as $$
begin
  perform pg_notify('adsync_' || tg_table_name, '');
  return null;
end
$$;

create trigger event_outbox_notify after insert on event_outbox
  for each row execute function adsync_notify_queue();

create trigger ingestion_runs_notify_insert after insert on ingestion_runs
  for each row when (new.status = 'queued') execute function adsync_notify_queue();
create trigger ingestion_runs_notify_update after update of status on ingestion_runs
  for each row when (new.status = 'queued' and old.status is distinct from 'queued') execute function adsync_notify_queue();

create trigger sync_batches_notify_insert after insert on sync_batches
  for each row when (new.status = 'queued') execute function adsync_notify_queue();
create trigger sync_batches_notify_update after update of status on sync_batches
  for each row when (new.status = 'queued' and old.status is distinct from 'queued') execute function adsync_notify_queue();

-- A report to poll: new, back in flight, or asked to be polled now (a claim moves next_poll_at later).
create trigger pending_amazon_reports_notify_insert after insert on pending_amazon_reports
  for each row when (new.status in ('pending', 'processing')) execute function adsync_notify_queue();
create trigger pending_amazon_reports_notify_update after update of status, next_poll_at on pending_amazon_reports
  for each row when (
    new.status in ('pending', 'processing')
    and (old.status not in ('pending', 'processing') or (new.next_poll_at <= now() and old.next_poll_at > now()))
  ) execute function adsync_notify_queue();

create trigger amc_executions_notify_insert after insert on amc_executions
  for each row execute function adsync_notify_queue();
-- The tick's own steps (submitting, pending, running, and a refused submission put back in the
-- queue with its retry time) are not announced: it already knows them.
create trigger amc_executions_notify_update after update of status, next_poll_at, cancel_requested_at on amc_executions
  for each row when (
    (new.status = 'queued' and old.status not in ('queued', 'submitting'))
    or (new.next_poll_at <= now() and old.next_poll_at > now())
    or (new.cancel_requested_at is not null and old.cancel_requested_at is null)
  ) execute function adsync_notify_queue();
-- A new schedule means AMC is to be asked for the runs it starts.
create trigger amc_schedules_notify after insert on amc_schedules
  for each row execute function adsync_notify_queue();

create trigger import_jobs_notify_insert after insert on import_jobs
  for each row when (new.status = 'pending') execute function adsync_notify_queue();
create trigger import_jobs_notify_update after update of status on import_jobs
  for each row when (new.status = 'pending' and old.status is distinct from 'pending') execute function adsync_notify_queue();

create trigger webhook_deliveries_notify_insert after insert on webhook_deliveries
  for each row when (new.status = 'pending') execute function adsync_notify_queue();
create trigger webhook_deliveries_notify_update after update of status on webhook_deliveries
  for each row when (new.status = 'pending' and old.status is distinct from 'pending') execute function adsync_notify_queue();

create trigger marketplace_outbound_notify_insert after insert on marketplace_outbound
  for each row when (new.status = 'pending') execute function adsync_notify_queue();
create trigger marketplace_outbound_notify_update after update of status on marketplace_outbound
  for each row when (new.status = 'pending' and old.status is distinct from 'pending') execute function adsync_notify_queue();

create trigger stream_subscriptions_notify_insert after insert on stream_subscriptions
  for each row when (new.status in ('requested', 'PROVISIONING', 'PENDING_CONFIRMATION')) execute function adsync_notify_queue();
create trigger stream_subscriptions_notify_update after update of status on stream_subscriptions
  for each row when (
    new.status in ('requested', 'PROVISIONING', 'PENDING_CONFIRMATION')
    and old.status not in ('requested', 'PROVISIONING', 'PENDING_CONFIRMATION')
  ) execute function adsync_notify_queue();
