drop table if exists sync_batches;
