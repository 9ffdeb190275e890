/**
 * Prometheus metrics, one registry per process, served at /metrics by every service.
 * Labels stay few and bounded (topic, group, partition, table, operation, status,
 * queue, report type): never an account, profile or report id, so a scrape stays small
 * and tells nothing about tenants.
 */
import client from 'prom-client';
import type { Knex } from '../db/postgres.ts';
import { queueDepth, type QueueSpec } from './work-queue.ts';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const counter = (name: string, help: string, labelNames: string[]) =>
  new client.Counter({ name, help, labelNames, registers: [registry] });
const gauge = (name: string, help: string, labelNames: string[]) =>
  new client.Gauge({ name, help, labelNames, registers: [registry] });
const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) =>
  new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });

export const metrics = {
  messages: counter('adsync_messages_total', 'Messages a consumer finished, by outcome: ok, retry, dlq', [
    'topic',
    'group',
    'outcome',
  ]),
  consumerLag: gauge('adsync_consumer_lag', 'Messages behind the end of the partition after the last batch', [
    'group',
    'topic',
    'partition',
  ]),
  rowsLoaded: counter('adsync_rows_loaded_total', 'Rows written to ClickHouse, by table', ['table']),
  restatedRowsRemoved: counter(
    'adsync_restated_rows_removed_total',
    'Rows deleted from ClickHouse because a re-pull of their days no longer has them, by table',
    ['table'],
  ),
  clickhouseInsertSeconds: histogram(
    'adsync_clickhouse_insert_seconds',
    'Time of one ClickHouse insert, by table',
    ['table'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
  amazonCalls: counter('adsync_amazon_calls_total', 'Amazon Ads API calls, by operation and HTTP status', [
    'operation',
    'status',
  ]),
  tokenRefreshes: counter('adsync_lwa_token_refreshes_total', 'Login with Amazon token grants, by outcome', [
    'outcome',
  ]),
  queueDepth: gauge('adsync_queue_depth', 'Rows waiting in a work queue', ['queue']),
  queueOldestAge: gauge('adsync_queue_oldest_age_seconds', 'Age of the oldest row waiting in a work queue', ['queue']),
  profilesFailing: gauge(
    'adsync_profiles_failing_for_a_day',
    'Active profiles with a failed entity sync in the last day and no successful one since',
    [],
  ),
  reportToQueryable: histogram(
    'adsync_report_requested_to_queryable_seconds',
    'From a report being requested to its rows being queryable in ClickHouse',
    ['report_type'],
    [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400],
  ),
};

/**
 * The path of an Amazon call with its ids taken out, so the label stays bounded:
 * /sp/budgetRules/123/campaigns → /sp/budgetRules/{id}/campaigns.
 */
export function operationOf(path: string): string {
  return (
    path
      .split('?')[0]!
      .split('/')
      .map((seg) => (/^(\d+|[0-9a-f-]{20,}|amzn1\.[\w.-]+|[A-Za-z0-9_-]{24,})$/i.test(seg) ? '{id}' : seg))
      .join('/') || '/'
  );
}

const queues: { name: string; db: Knex; spec: QueueSpec }[] = [];

/** Reports a work queue's depth and oldest age at every scrape (read from Postgres then). */
export function watchQueue(name: string, db: Knex, spec: QueueSpec): void {
  if (!queues.some((q) => q.name === name)) queues.push({ name, db, spec });
}

const onScrape: (() => Promise<void>)[] = [];

/** Work to do just before each scrape (e.g. a gauge read from Postgres); a failure leaves the last value. */
export function beforeScrape(fn: () => Promise<void>): void {
  onScrape.push(fn);
}

/** The text Prometheus scrapes; queue gauges are read fresh first (a failed read leaves the last value). */
export async function scrape(): Promise<string> {
  await Promise.all(onScrape.map((fn) => fn().catch(() => undefined)));
  await Promise.all(
    queues.map(async (q) => {
      try {
        const d = await queueDepth(q.db, q.spec);
        metrics.queueDepth.set({ queue: q.name }, d.depth);
        metrics.queueOldestAge.set({ queue: q.name }, d.oldestAgeSeconds);
      } catch {
        // The database is down: /ready says so; the scrape still answers.
      }
    }),
  );
  return registry.metrics();
}

export const metricsContentType = registry.contentType;
