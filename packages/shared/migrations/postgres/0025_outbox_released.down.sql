drop trigger if exists event_outbox_notify_released on event_outbox;
drop function if exists adsync_notify_released();
