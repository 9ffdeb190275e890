drop table if exists stream_subscriptions;
