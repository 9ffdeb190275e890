-- statement
ALTER TABLE dead_letters DROP COLUMN message_headers
-- statement
ALTER TABLE dead_letters DROP COLUMN message_value
