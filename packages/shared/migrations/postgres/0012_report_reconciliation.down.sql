drop table if exists report_reconciliation;
