-- Dead-lettered messages, for the pipeline-health dashboard (count by topic, reason, day).
-- The message bytes stay on the <topic>.dlq Kafka topic; this is the queryable index.
CREATE TABLE IF NOT EXISTS dead_letters
(
    at DateTime,
    topic String,
    consumer_group String,
    step String,
    reason String,
    source_partition UInt32,
    source_offset String,
    message_key String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (topic, at)
