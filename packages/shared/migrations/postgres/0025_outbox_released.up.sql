-- A relay that has published rows it claimed says so on adsync_event_outbox_released. Another
-- relay that found every waiting row leased sleeps until the lease runs out (its holder may have
-- died); told the rows are out, it looks once now, while work is under way, instead of a minute
-- into an idle stretch. One notification per statement (and per transaction), not per row.
create function adsync_notify_released() returns trigger language plpgsql as $$
begin
  perform pg_notify('adsync_' || tg_table_name || '_released', '');
  return null;
end
$$;

create trigger event_outbox_notify_released after update of published_at on event_outbox
  for each statement execute function adsync_notify_released();
