/**
 * The services' HTTP APIs as the console calls them: through the console's /api/<service>/ with the
 * operator's key, which the services check (an account key sees its account only). An error comes
 * back as an ApiError whose message a person can act on.
 */
export type Service =
  | 'entity-sync'
  | 'report-requester'
  | 'report-poller'
  | 'etl-loader'
  | 'amc-runner'
  | 'supplier-sync'
  | 'stream-consumer';

const KEY = 'adsync.apiKey';
export const getKey = (): string | null => sessionStorage.getItem(KEY);
export const setKey = (key: string | null): void => {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** What a person is told for an answer that is not a success. Pure. */
export function explain(status: number, body: { error?: string; message?: string } | null, service: Service): string {
  const said = body?.message?.trim();
  if (status === 401)
    return `This API key is not known or was revoked${said ? ` (${said})` : ''}. Sign in with another key.`;
  if (status === 403) return `This key may not do that${said ? `: ${said}` : ''}.`;
  if (status === 404) return said ?? 'Not found.';
  if (status === 409 || status === 400 || status === 422) return said ?? 'The request was refused.';
  if (status === 429) return 'Too many requests just now; try again in a moment.';
  if (status === 502 || status === 503 || status === 504)
    return `The ${service} service is not answering. Is it running? (deploy/local/stack status says.)`;
  return said ? `${said} (HTTP ${status})` : `The ${service} service answered HTTP ${status}.`;
}

const parsed = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};

export async function api<T>(
  service: Service,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const key = getKey();
  let res: Response;
  try {
    res = await fetch(`/api/${service}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      'The console cannot be reached. Check your connection and that adsync is running.',
    );
  }
  const body = parsed(await res.text());
  if (!res.ok) {
    const b = body as { error?: string; message?: string } | null;
    throw new ApiError(res.status, b?.error ?? `HTTP_${res.status}`, explain(res.status, b, service));
  }
  return body as T;
}

// What the pages read: the services' answers as their OpenAPI documents describe them, in the
// types scripts/gen-console-api-types.ts generates from those documents (pnpm run build).
import type { paths as EntitySync } from './generated/entity-sync.ts';
import type { paths as ReportPoller } from './generated/report-poller.ts';
import type { paths as EtlLoader } from './generated/etl-loader.ts';
import type { paths as AmcRunner } from './generated/amc-runner.ts';
import type { paths as SupplierSync } from './generated/supplier-sync.ts';
import type { paths as StreamConsumer } from './generated/stream-consumer.ts';

type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The JSON a service answers `method` on `path` with, for `status`. */
export type Answer<P, K extends keyof P, M extends 'get' | 'post' | 'put' = 'get', S extends number = 200> =
  P[K] extends Record<M, { responses: infer R }> ? (S extends keyof R ? Json<R[S]> : never) : never;
type Item<L> = L extends readonly (infer I)[] ? I : never;

export type Account = Answer<EntitySync, '/v1/accounts/{id}'>;
export type CredentialState = NonNullable<Account['credentials']>;
export type Profile = Item<Answer<EntitySync, '/v1/accounts/{id}/profiles'>['profiles']>;
export type Selection = Answer<EntitySync, '/v1/accounts/{id}/profile-selection'>;
export type DspAdvertiser = Item<Answer<EntitySync, '/v1/accounts/{id}/dsp-advertisers'>['advertisers']>;
export type IngestionRun = Answer<EntitySync, '/v1/ingestion/runs/{id}'>;
export type Gap = Item<Answer<ReportPoller, '/v1/reports/gaps'>['gaps']>;
export type DeadLetter = Item<Answer<EtlLoader, '/v1/dead-letters'>['letters']>;
export type AmcInstance = Item<Answer<AmcRunner, '/v1/amc/instances'>['instances']>;
export type Workflow = Item<Answer<AmcRunner, '/v1/amc/workflows'>['items']>;
export type AmcExecution = Answer<AmcRunner, '/v1/amc/executions/{id}'>;
export type AmcResults = Answer<AmcRunner, '/v1/amc/executions/{id}/results'>;
export type AmcSchedule = Item<Answer<AmcRunner, '/v1/amc/schedules'>['items']>;
export type Supplier = Item<Answer<SupplierSync, '/v1/suppliers'>['suppliers']>;
export type SupplierJob = Item<Answer<SupplierSync, '/v1/jobs'>['jobs']>;
export type Webhook = Item<Answer<SupplierSync, '/v1/webhooks'>['webhooks']>;
export type StreamSubscription = Item<Answer<StreamConsumer, '/v1/streams/subscriptions'>['items']>;

/** A page of a list: limit and offset asked, the next offset while there is more. */
export interface Page {
  limit: number;
  offset: number;
  nextOffset: number | null;
}

// The choices a form offers, as the services' schemas enumerate them.
export const OUTPUT_FORMATS = ['CSV', 'PARQUET'] as const;
export const DATA_GAP_POLICIES = ['run_anyway', 'wait_and_rerun', 'fail'] as const;
export const TIME_WINDOW_TYPES = [
  'EXPLICIT',
  'MOST_RECENT_DAY',
  'MOST_RECENT_WEEK',
  'CURRENT_MONTH',
  'PREVIOUS_MONTH',
] as const;
export const JOB_TYPES = ['supplier_api', 'inventory_update', 'price_update', 'order_sync'] as const;
export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
