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

// What the pages read, as the services' OpenAPI documents describe them.
export interface Account {
  id: string;
  company_name: string;
  primary_contact_email: string | null;
  status: string;
  created_at: string;
  profiles?: number;
  last_ingestion?: { status: string; started_at: string; finished_at: string | null } | null;
  credentials?: CredentialState;
}
/** A page of a list: limit and offset asked, the next offset while there is more. */
export interface Page {
  limit: number;
  offset: number;
  nextOffset: number | null;
}
export interface Profile {
  profile_id: string;
  account_id: string;
  country_code: string;
  currency_code: string;
  timezone: string;
  account_name: string | null;
  status: string;
}
export interface Selection {
  accountId: string;
  selection: { excludeProfileIds?: string[]; includeProfileIds?: string[]; [k: string]: unknown };
  included: string[];
  excluded: { profileId: string; reason: string }[];
}
export interface IngestionRun {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
  account_id: string | null;
  attempt: number;
  stages: Record<string, Record<string, unknown>>;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}
export interface CredentialState {
  state: 'not_connected' | 'connected' | 'expired' | 'refused';
  reason: string | null;
  since: string | null;
}
export interface DspAdvertiser {
  advertiser_id: string;
  name: string;
  country_code: string | null;
  access: 'profile' | 'account';
  status: 'active' | 'excluded' | 'inaccessible';
  status_reason: string | null;
}
export interface AmcInstance {
  instanceId: string;
  accountId: string;
  advertiserId: string;
  marketplaceId: string;
  createdAt: string;
}
export const OUTPUT_FORMATS = ['CSV', 'PARQUET'] as const;
export const DATA_GAP_POLICIES = ['run_anyway', 'wait_and_rerun', 'fail'] as const;
export const TIME_WINDOW_TYPES = [
  'EXPLICIT',
  'MOST_RECENT_DAY',
  'MOST_RECENT_WEEK',
  'CURRENT_MONTH',
  'PREVIOUS_MONTH',
] as const;
export interface Workflow {
  instanceId: string;
  workflowId: string;
  sqlQuery: string;
  inputParameters: { name: string; dataType: unknown; defaultValue?: unknown; description?: string }[];
  outputFormat: (typeof OUTPUT_FORMATS)[number];
  dataGapPolicy: (typeof DATA_GAP_POLICIES)[number];
  drift: string | null;
  updatedAt: string;
}
export interface AmcExecution {
  id: string;
  workflowId: string;
  instanceId: string;
  status: 'queued' | 'submitting' | 'pending' | 'running' | 'completed' | 'failed' | 'replaced';
  origin: string;
  scheduleId: string | null;
  timeWindowStart: string | null;
  timeWindowEnd: string | null;
  partial: boolean;
  amcStatus: string | null;
  request: { timeWindowType?: string; timeWindowTimeZone?: string; outputFormat?: string } | null;
  warnings: string[];
  failureReason: string | null;
  row_count: number | null;
  columns: string[] | null;
  createdAt: string;
  completedAt: string | null;
}
export interface AmcResults {
  columns: unknown;
  rows: Record<string, unknown>[];
  total: number | null;
  nextOffset: number | null;
}
export interface AmcSchedule {
  instanceId: string;
  scheduleId: string;
  workflowId: string;
  aggregationPeriod: 'Daily' | 'Weekly';
  aggregationHourUtc: number;
  aggregationStartDay: string | null;
  enabled: boolean;
  updatedAt: string;
}
export interface Supplier {
  id: string;
  account_id: string;
  kind: string;
  name: string;
  active: boolean;
  created_at: string;
}
export const JOB_TYPES = ['supplier_api', 'inventory_update', 'price_update', 'order_sync'] as const;
export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export interface SupplierJob {
  id: string;
  account_id: string;
  supplier_id: string;
  job_type: string;
  status: (typeof JOB_STATUSES)[number];
  attempt: number;
  max_attempts: number;
  trigger: string;
  counts: Record<string, unknown> | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}
export interface Webhook {
  id: string;
  account_id: string;
  url: string;
  active: boolean;
  created_at: string;
  pending: number;
  delivered: number;
  failed: number;
  last_error: string | null;
}
export interface StreamSubscription {
  id: string;
  profileId: string | null;
  dspAdvertiserId: string | null;
  dataSetId: string;
  subscriptionId: string | null;
  status: string;
  statusReason: string | null;
  confirmedAt: string | null;
  createdAt: string;
}
