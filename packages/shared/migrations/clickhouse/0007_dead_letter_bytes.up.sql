-- Dead letters keep their message (value in base64, headers as JSON) so a letter can be
-- replayed to the topic it came from after its cause is fixed (etl-loader's
-- /v1/dead-letters/replay), without reading the <topic>.dlq partition back. Letters
-- indexed before this have none and are listed as not replayable.
-- statement
ALTER TABLE dead_letters ADD COLUMN message_value String DEFAULT ''
-- statement
ALTER TABLE dead_letters ADD COLUMN message_headers String DEFAULT ''
