// The shared surface services import from '@adsync/shared'.
export * from './config/load-config.ts';
export * from './config/base-config.ts';
export * from './logger.ts';
export * from './backoff.ts';
export * from './events/contracts.ts';
export * from './kafka/codec.ts';
export * from './kafka/event-bus.ts';
export * from './kafka/transient.ts';
export * from './db/postgres.ts';
export * from './db/clickhouse.ts';
export * from './db/migrations.ts';
export * from './http/errors.ts';
export * from './http/api-keys.ts';
export * from './http/server.ts';
