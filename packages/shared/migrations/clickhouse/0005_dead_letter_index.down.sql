-- statement
CREATE TABLE IF NOT EXISTS dead_letters_v1
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
-- statement
INSERT INTO dead_letters_v1
SELECT at, topic, consumer_group, step, reason, toUInt32(greatest(source_partition, 0)), source_offset, message_key
FROM dead_letters FINAL
-- statement
RENAME TABLE dead_letters TO dead_letters_indexed, dead_letters_v1 TO dead_letters
-- statement
DROP TABLE IF EXISTS dead_letters_indexed
