/** The services' HTTP APIs as the CLI reaches them: one base URL per service, one key. */
export const SERVICE_NAMES = [
  'entity-sync',
  'report-requester',
  'report-poller',
  'etl-loader',
  'amc-runner',
  'supplier-sync',
  'stream-consumer',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where each service listens unless its <SERVICE>_PORT moves it (the demo's, `stack serve`'s and compose's). */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  'entity-sync': 8081,
  'report-requester': 8082,
  'report-poller': 8083,
  'etl-loader': 8084,
  'amc-runner': 8085,
  'supplier-sync': 8086,
  'stream-consumer': 8087,
};

export interface ApiConfig {
  urls: Record<ServiceName, string>;
  key: string;
}

/** The variable that says where a service's API answers, for whoever calls it (the CLI, the console). */
export const urlVariable = (s: ServiceName): string => `ADSYNC_${s.toUpperCase().replace(/-/g, '_')}_URL`;

/** ADSYNC_<SERVICE>_URL (e.g. ADSYNC_ENTITY_SYNC_URL) moves a service; ADSYNC_API_KEY is the key. */
export function apiConfigFrom(env: Record<string, string | undefined>): ApiConfig {
  const urls = {} as Record<ServiceName, string>;
  for (const s of SERVICE_NAMES) {
    urls[s] = (env[urlVariable(s)] ?? `http://127.0.0.1:${DEFAULT_PORTS[s]}`).replace(/\/+$/, '');
  }
  // The demo's admin key, so the CLI works against the demo with no setup.
  return { urls, key: env.ADSYNC_API_KEY ?? env.ADMIN_API_KEY ?? 'adsk_local_demo_admin_key_change_me_in_production' };
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export type Api = <T = Record<string, unknown>>(
  service: ServiceName,
  method: string,
  path: string,
  body?: unknown,
) => Promise<T>;

export function createApi(cfg: ApiConfig, fetchImpl: typeof fetch = fetch): Api {
  return async <T>(service: ServiceName, method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetchImpl(`${cfg.urls[service]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cfg.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(
        0,
        `${service} does not answer at ${cfg.urls[service]} (${(err as Error).message}); is it running? ` +
          `Move it with ADSYNC_${service.toUpperCase().replace(/-/g, '_')}_URL`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { message: text.slice(0, 500) };
    }
    if (!res.ok) {
      const m = (json as { message?: string } | null)?.message ?? text.slice(0, 300);
      throw new ApiError(res.status, `${service} ${method} ${path}: ${res.status} ${m}`);
    }
    return json as T;
  };
}
