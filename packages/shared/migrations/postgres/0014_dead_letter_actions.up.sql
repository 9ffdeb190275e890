-- What an operator did with a dead letter (etl-loader/src/dead-letters.ts), keyed by the
-- letter's own place on Kafka: replayed to the topic it came from, or purged from the
-- list. A letter is replayed at most once; a purged one is no longer listed as active.
create table dead_letter_actions (
  topic text not null,
  dlq_partition int not null,
  dlq_offset text not null,
  action text not null check (action in ('replayed', 'purged')),
  acted_at timestamptz not null default now(),
  acted_by text,
  primary key (topic, dlq_partition, dlq_offset)
);
