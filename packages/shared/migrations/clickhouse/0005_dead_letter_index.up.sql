-- The dead-letter index is fed from the <topic>.dlq topics by one consumer (etl-loader),
-- whatever service dead-lettered the message, and at least once: keyed by the dead
-- letter's own place on Kafka, a letter indexed twice is one row (read with FINAL).
-- statement
CREATE TABLE IF NOT EXISTS dead_letters_v2
(
    at DateTime,
    topic String,
    consumer_group String,
    step String,
    reason String,
    source_partition Int32,
    source_offset String,
    message_key String,
    dlq_partition UInt32,
    dlq_offset String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (topic, dlq_partition, dlq_offset)
-- statement
INSERT INTO dead_letters_v2
SELECT at, topic, consumer_group, step, reason, toInt32(source_partition), source_offset, message_key,
       0, concat('legacy-', toString(rowNumberInAllBlocks()))
FROM dead_letters
-- statement
RENAME TABLE dead_letters TO dead_letters_before_index, dead_letters_v2 TO dead_letters
-- statement
DROP TABLE IF EXISTS dead_letters_before_index
