/**
 * The event contracts: topic names, their payload types and their Avro schemas.
 * Topic names are the contract between services; change a schema only in a
 * backward-compatible way (add fields with defaults) — the registry enforces it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TOPICS = {
  reportRequested: 'report.requested',
  reportReady: 'report.ready',
  rowsParsed: 'rows.parsed',
  reportLoaded: 'report.loaded',
  jobCreated: 'job.created',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
export const ALL_TOPICS: TopicName[] = Object.values(TOPICS);

/** Every topic has a dead-letter topic next to it; poison messages land there with the reason. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** Fields every report-pipeline event carries, so a human can follow one report end to end. */
interface ReportEventBase {
  eventId: string;
  occurredAt: string;
  pendingReportId: string;
  profileId: string;
  reportId: string;
  reportType: string;
}

/**
 * A DSP advertiser reached only through a manager account owns its reports: their events carry
 * `profileId` '' and the advertiser in `dspAccountId` (absent or null: the profile owns it).
 */
interface OwnedByAdvertiserAccount {
  dspAccountId?: string | null;
}

export interface ReportRequested extends ReportEventBase, OwnedByAdvertiserAccount {
  adProduct: string;
  startDate: string;
  endDate: string;
  columns: string[];
  runId: string | null;
}

export interface ReportReady extends ReportEventBase, OwnedByAdvertiserAccount {
  startDate: string;
  endDate: string;
  downloadUrl: string;
  fileSize: number | null;
  runId: string | null;
}

export interface MetricRow {
  date: string;
  entityId: string;
  campaignId: string;
  adGroupId: string | null;
  currency: string;
  impressions: number;
  clicks: number;
  costMicros: number;
  salesMicros: number;
  orders: number;
  units: number;
  attributes: Record<string, string>;
  /**
   * Every additive metric the report returned, by ClickHouse column (money in micros); empty when
   * the batch names `measureColumns` and the row carries `measureValues` (what producers write).
   */
  measures: Record<string, number>;
  /** The values of the batch's `measureColumns`, in their order. */
  measureValues?: number[];
}

export interface RowsParsed extends ReportEventBase {
  entityLevel: string;
  batchIndex: number;
  lastBatch: boolean;
  pulledAt: string;
  /** The columns every row's `measureValues` hold, in order; absent or empty: rows carry `measures` maps. */
  measureColumns?: string[];
  rows: MetricRow[];
}

export interface ReportLoaded extends ReportEventBase, OwnedByAdvertiserAccount {
  entityLevel: string;
  startDate: string;
  endDate: string;
  rows: number;
  requestedAt: string | null;
  runId: string | null;
}

export type JobType = 'supplier_api' | 'inventory_update' | 'price_update' | 'order_sync';

export interface JobCreated {
  eventId: string;
  occurredAt: string;
  jobId: string;
  userId: string;
  supplierId: string | null;
  jobType: JobType;
  priority: number;
  attempt: number;
}

export interface EventMap {
  'report.requested': ReportRequested;
  'report.ready': ReportReady;
  'rows.parsed': RowsParsed;
  'report.loaded': ReportLoaded;
  'job.created': JobCreated;
}

const schemaDir = fileURLToPath(new URL('./schemas/', import.meta.url));

/** The Avro schema (parsed JSON) kept in the repo for a topic. */
export function schemaFor(topic: TopicName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${schemaDir}${topic}.avsc`, 'utf8')) as Record<string, unknown>;
}

/** Registry subject for a topic's values (Confluent's TopicNameStrategy). */
export const subjectFor = (topic: string): string => `${topic}-value`;
