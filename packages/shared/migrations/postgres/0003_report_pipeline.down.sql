drop table if exists report_day_loads;
drop table if exists pending_amazon_reports;
drop table if exists event_outbox;
