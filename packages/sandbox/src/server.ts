/**
 * The sandbox server. `startSandbox()` runs it in-process for tests; `main.ts`
 * runs it standalone. Control endpoints under /_sandbox let a test (or a curious
 * human) set faults, revoke a token, move the clock and read exact totals.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { amazonAdsRoutes, authorise } from './amazon-ads-routes.ts';
import { amcRoutes } from './amc-routes.ts';
import { supplierRoutes } from './supplier-routes.ts';
import { exportRoutes } from './export-routes.ts';
import { match, readBody, route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import { SandboxState } from './state.ts';
import { parseFaults, type Faults } from './faults.ts';
import type { Scale } from './dataset.ts';
import { reportRows, totalsOf, FINAL_GENERATION } from './report-rows.ts';

export interface SandboxOptions {
  seed?: number;
  scale?: Partial<Scale>;
  faults?: Partial<Faults>;
  port?: number;
  host?: string;
}

export interface Sandbox {
  url: string;
  state: SandboxState;
  setFaults(f: Partial<Faults>): void;
  close(): Promise<void>;
}

/** Paths that are never faulted: the control plane and presigned downloads (S3, not the Ads API). */
const UNFAULTED = /^\/(_sandbox|_download)\//;

function controlRoutes(state: SandboxState): Route[] {
  return [
    route('GET', '/_sandbox/health', (_req, res) => send(res, 200, { status: 'ok', seed: state.dataset.seed, scale: state.dataset.scale })),
    route('GET', '/_sandbox/faults', (_req, res) => send(res, 200, state.faults)),
    route('POST', '/_sandbox/faults', (req, res) => {
      const body = jsonBody(req);
      if (!body) return send(res, 400, { error: 'body is not JSON' });
      try {
        state.faults = { ...state.faults, ...parseFaults(body) };
      } catch (err) {
        return send(res, 400, { error: (err as Error).message });
      }
      send(res, 200, state.faults);
    }),
    route('POST', '/_sandbox/revoke', (req, res) => {
      const body = jsonBody<{ refreshToken?: string }>(req);
      if (!body?.refreshToken) return send(res, 400, { error: 'refreshToken is required' });
      state.revokedRefreshTokens.add(body.refreshToken);
      send(res, 200, { revoked: true });
    }),
    route('POST', '/_sandbox/clock', (req, res) => {
      const body = jsonBody<{ advanceMs?: number }>(req);
      state.clockOffsetMs += Number(body?.advanceMs ?? 0);
      send(res, 200, { now: state.now().toISOString() });
    }),
    route('POST', '/_sandbox/mutate', (req, res) => {
      const body = jsonBody<{ fraction?: number; round?: number }>(req);
      const fraction = Number(body?.fraction ?? 0.01);
      if (!(fraction > 0 && fraction <= 1)) return send(res, 400, { error: 'fraction must be in (0, 1]' });
      send(res, 200, { changed: state.dataset.mutate(fraction, state.now(), Number(body?.round ?? 1)) });
    }),
    route('POST', '/_sandbox/suppliers/advance', (_req, res) => {
      state.supplierRound++;
      send(res, 200, { round: state.supplierRound });
    }),
    route('GET', '/_sandbox/stats', (_req, res) => send(res, 200, state.counters)),
    route('GET', '/_sandbox/totals', (req, res) => {
      const reportId = req.query.get('reportId');
      if (reportId) {
        const r = state.reports.get(reportId);
        if (!r?.totals) return send(res, 404, { error: 'no completed report with that id' });
        return send(res, 200, { ...r.totals, badRows: r.badRows ?? 0 });
      }
      const profileId = req.query.get('profileId') ?? '';
      const reportTypeId = req.query.get('reportTypeId') ?? '';
      const start = req.query.get('startDate') ?? '';
      const end = req.query.get('endDate') ?? start;
      const p = state.dataset.profileIndex(profileId);
      const spec = REPORT_TYPES[reportTypeId];
      if (p === null || !spec || !start) return send(res, 400, { error: 'profileId, reportTypeId and startDate are required' });
      // Totals at the latest generation served for each day (final when restatement is off).
      const generationOf = (d: string) => (state.faults.restatement ? Math.min(Math.max((state.pulls.get(`${profileId}|${reportTypeId}|${d}`) ?? 1) - 1, 0), FINAL_GENERATION) : FINAL_GENERATION);
      send(res, 200, totalsOf(reportRows(state.dataset, { profileIndex: p, reportTypeId, startDate: start, endDate: end, columns: spec.columns, generationOf }, state.now()), reportTypeId));
    }),
  ];
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState(opts.seed ?? 42, opts.scale ?? {}, opts.faults ?? {});
  const routes = [...controlRoutes(state), ...amazonAdsRoutes(state), ...amcRoutes(state, (req, res) => authorise(state, req, res, false) !== false), ...supplierRoutes(state), ...exportRoutes(state, (req, res) => authorise(state, req, res, true))];
  const extra: Route[] = [];

  const server: Server = createServer(async (raw, res: ServerResponse) => {
    const url = new URL(raw.url ?? '/', 'http://sandbox');
    const requestId = randomUUID();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amzn-RequestId', requestId);
    const profileId = typeof raw.headers['amazon-advertising-api-scope'] === 'string' ? raw.headers['amazon-advertising-api-scope'] : null;
    let injected: '429' | '5xx' | null = null;
    res.on('finish', () => state.log({ at: Date.now(), method: raw.method ?? 'GET', path: url.pathname, status: res.statusCode, profileId, injected }));
    try {
      const body = await readBody(raw);
      const found = match([...routes, ...extra], raw.method ?? 'GET', url.pathname);
      state.counters.requests++;
      if (state.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, state.faults.latencyMs));
      if (!found) return send(res, 404, { code: 'NOT_FOUND', details: `no such resource: ${raw.method} ${url.pathname}` });
      if (!UNFAULTED.test(url.pathname)) {
        const roll = state.draw();
        if (roll < state.faults.rate429) {
          injected = '429';
          state.counters.injected429++;
          // Amazon's report creation throttles without telling when to come back.
          if (!(raw.method === 'POST' && url.pathname === '/reporting/reports')) res.setHeader('Retry-After', String(state.faults.retryAfterSec));
          return send(res, 429, { code: '429', details: 'Too Many Requests' });
        }
        if (roll < state.faults.rate429 + state.faults.rate5xx) {
          injected = '5xx';
          state.counters.injected5xx++;
          const status = [500, 502, 503][Math.floor(state.draw() * 3)]!;
          return send(res, status, { code: status === 500 ? 'INTERNAL_ERROR' : 'SERVICE_UNAVAILABLE', details: 'The server encountered an error. Please retry.' });
        }
      }
      const req: Req = { method: raw.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: raw.headers, params: found.params, body, raw };
      await found.route.handler(req, res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, { code: 'INTERNAL_ERROR', details: (err as Error).message });
      else res.destroy(err as Error);
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  state.setBaseUrl(url);
  return {
    url,
    state,
    setFaults: (f) => {
      state.faults = { ...state.faults, ...f };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
