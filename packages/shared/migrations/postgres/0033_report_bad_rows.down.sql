ALTER TABLE pending_amazon_reports DROP COLUMN bad_row_count;
