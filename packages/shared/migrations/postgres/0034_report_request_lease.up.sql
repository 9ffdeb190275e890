-- A `requesting` report belongs to the process asking Amazon for it until request_lease_until.
-- A process that dies mid-request lets the lease lapse, and report-requester asks again (a 425
-- names the report if Amazon had made it). Rows without a lease count as lapsed.
ALTER TABLE pending_amazon_reports
  ADD COLUMN request_lease_until timestamptz,
  ADD COLUMN request_holder text;
CREATE INDEX pending_amazon_reports_requesting ON pending_amazon_reports (request_lease_until)
  WHERE status = 'requesting';
