DROP INDEX pending_amazon_reports_requesting;
ALTER TABLE pending_amazon_reports DROP COLUMN request_lease_until, DROP COLUMN request_holder;
