drop table if exists stream_mismatches;
drop table if exists stream_reconciled_days;
drop table if exists stream_subscriptions;
