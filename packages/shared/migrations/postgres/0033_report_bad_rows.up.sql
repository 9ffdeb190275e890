-- Rows of a report's file that did not parse (each dead-lettered): a pull with any is not the
-- whole truth for its days, so rows it lacks are not taken as restated away.
ALTER TABLE pending_amazon_reports ADD COLUMN bad_row_count integer;
