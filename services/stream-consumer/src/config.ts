import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { bool, loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';

export const streamConfigShape = {
  ...baseConfigShape,
  STREAM_CONSUMER_HOST: z.string().default('127.0.0.1'),
  STREAM_CONSUMER_PORT: port.default(8087),
  /** The SQS endpoint (ElasticMQ in the stack); empty: AWS's own endpoint for SQS_REGION. */
  SQS_ENDPOINT: z.string().default('http://127.0.0.1:19324'),
  SQS_REGION: z.string().default('us-east-1'),
  /** Credentials for SQS; ElasticMQ accepts any. On AWS leave them unset to use the default chain (role, env). */
  SQS_ACCESS_KEY_ID: z.string().default(''),
  SQS_SECRET_ACCESS_KEY: z.string().default(''),
  /** The queue Amazon Marketing Stream delivers to (a Standard queue: FIFO is not supported by Stream). */
  STREAM_QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .default('adsync-marketing-stream'),
  /** Create the queue when it does not exist (the local stack); on AWS it is made with its access policy, outside adsync. */
  STREAM_CREATE_QUEUE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Receives in flight at once, each of up to 10 messages. */
  STREAM_RECEIVERS: positiveInt.default(4),
  /** Long-poll wait of one receive, seconds (SQS allows 0–20). */
  STREAM_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(5),
  /** How long a received message stays invisible; one not deleted by then (the process died) is delivered again. */
  STREAM_VISIBILITY_TIMEOUT_SEC: positiveInt.default(60),
  /**
   * Hosts an SNS message's SubscribeURL and SigningCertURL may name (comma-separated; `*` is one
   * label). Only SNS's: the local sandbox is reached through OUTBOUND_TRUSTED_ORIGINS. Anything
   * else is a dead letter, never fetched.
   */
  STREAM_SUBSCRIBE_URL_HOSTS: z.string().default('sns.*.amazonaws.com'),
  /** How many times a confirmation that fails (SNS down, an answer not 2xx) is tried before it is a dead letter. */
  STREAM_CONFIRM_ATTEMPTS: positiveInt.default(5),
  /** Act on records that arrive without their SNS envelope (raw delivery): unsigned, so off by default. */
  STREAM_ACCEPT_RAW_RECORDS: bool.default(false),
  /**
   * How far a day's Stream sum may differ from its daily report (share of the report's value) before it is a gap.
   * Amazon documents none ("small discrepancies are normal"); conversions keep being revised for weeks.
   */
  STREAM_RECONCILE_TOLERANCE: z.coerce.number().min(0).max(1).default(0.01),
};

export type StreamConfig = z.infer<z.ZodObject<typeof streamConfigShape>>;
export const loadStreamConfig = (env: Record<string, string | undefined> = process.env): StreamConfig =>
  loadConfig(streamConfigShape, env);

/** The queue as the config names it; against ElasticMQ any credentials do. */
export const queueOptions = (cfg: StreamConfig) => ({
  endpoint: cfg.SQS_ENDPOINT,
  region: cfg.SQS_REGION,
  accessKeyId: cfg.SQS_ACCESS_KEY_ID || (cfg.SQS_ENDPOINT ? 'local' : ''),
  secretAccessKey: cfg.SQS_SECRET_ACCESS_KEY || (cfg.SQS_ENDPOINT ? 'local' : ''),
  name: cfg.STREAM_QUEUE_NAME,
  create: cfg.STREAM_CREATE_QUEUE,
});

/** How each tick reads the queue. */
export const receiveShape = (cfg: StreamConfig) => ({
  receivers: cfg.STREAM_RECEIVERS,
  waitSeconds: cfg.STREAM_WAIT_SECONDS,
  visibilitySec: cfg.STREAM_VISIBILITY_TIMEOUT_SEC,
});
