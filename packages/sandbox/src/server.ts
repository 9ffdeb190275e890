/**
 * The sandbox server. `startSandbox()` runs it in-process for tests; `main.ts`
 * runs it standalone. Control endpoints under /_sandbox let a test (or a curious
 * human) set faults, revoke a token, move the clock, read exact totals and the
 * ground truth a third-party client's answers are compared with.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ModelOperation } from '@adsync/amazon-models/operations';
import { amcDownloadRoutes, amcEndpointRoutes, amcEndpoints, type AmcEndpoint } from './amc-routes.ts';
import { streamRoutes, type PublishOptions, type PublishResult } from './stream-routes.ts';
import type { StreamRecord } from './stream-data.ts';
import { supplierRoutes } from './supplier-routes.ts';
import { exportDownloadRoutes, exportEndpoints, exportRows } from './export-routes.ts';
import type { ExportFilters, ExportType } from './export-state.ts';
import { match, readBody, route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import { SandboxState } from './state.ts';
import { parseFaults, type Faults } from './faults.ts';
import type { AdProductKind, Change, EntityKind, Scale } from './dataset.ts';
import { authorise, lwaRoutes, LWA_DOCUMENTED } from './amazon/gateway.ts';
import { endpointRoutes, operationOf, sendError, type Endpoint, type Access } from './amazon/endpoint.ts';
import { sandboxOpenApi } from './amazon/openapi-document.ts';
import { entityEndpoints } from './amazon/entity-routes.ts';
import { dspAccountEndpoints } from './amazon/dsp-account-routes.ts';
import { attributionEndpoints, attributionRows, checkReportAsk } from './amazon/attribution-routes.ts';
import { adsApiV1Endpoints } from './amazon/ads-api-v1-routes.ts';
import { reportDownloadRoutes, reportingEndpoints } from './amazon/reporting-routes.ts';
import { checkCreateReport } from './amazon/report-contract.ts';
import { FINAL_GENERATION, reportRows, totalsOf } from './amazon/report-engine.ts';
import * as view from './amazon/views.ts';

export interface SandboxOptions {
  seed?: number;
  scale?: Partial<Scale>;
  faults?: Partial<Faults>;
  port?: number;
  host?: string;
  /**
   * Hold every answer of an Amazon operation to Amazon's model (default on). What is off
   * the model is recorded; close() then rejects, so the test that started the sandbox fails.
   */
  strict?: boolean;
  /** The SQS endpoint Marketing Stream delivers to (ElasticMQ locally); without it subscriptions fail provisioning. */
  sqsEndpoint?: string;
  /** The base URL others reach the sandbox at, for the URLs it hands out (downloads, SubscribeURL); default: where it listens. */
  publicUrl?: string;
}

export interface Sandbox {
  url: string;
  state: SandboxState;
  /** The Amazon endpoints the sandbox plays, as declared (method, path, media types, doc page). */
  endpoints: Endpoint[];
  setFaults(f: Partial<Faults>): void;
  /** Marketing Stream: send hours of dataset records to every ACTIVE subscription's queue, and what was sent. */
  stream: {
    publish(o: PublishOptions): Promise<PublishResult>;
    /** Announces changed entities (Dataset.mutate's answer) on the campaign management datasets. */
    announce(changes: Change[]): Promise<number>;
    expected(): StreamRecord[];
  };
  close(): Promise<void>;
}

/**
 * Paths that are never faulted: the control plane, presigned downloads (S3, not the
 * Ads API) and the consent page (a page in the advertiser's browser, not an API).
 */
const UNFAULTED = /^\/(_sandbox\/|_download\/|_sns\/|SimpleNotificationService-|ap\/oa$)/;

const VIEWS: Record<
  string,
  (state: SandboxState, p: number, product: AdProductKind | null, kind: EntityKind) => unknown[]
> = {
  spV3: (s, p, product, kind) => [...s.dataset.all(product, kind, p)].map((e) => view.spV3(e, true)),
  portfolio: (s, p) =>
    [...s.dataset.all(null, 'portfolio', p)].map((e) =>
      view.portfolioV3(e, s.dataset.profiles()[p]!.currencyCode, true),
    ),
  sbV4: (s, p, _product, kind) => [...s.dataset.all('sb', kind, p)].map((e) => view.sbV4(e, true)),
  sbV3: (s, p, _product, kind) => [...s.dataset.all('sb', kind, p)].map(view.sbV3),
  sd: (s, p, _product, kind) => [...s.dataset.all('sd', kind, p)].map((e) => view.sd(e, false)),
  sdExtended: (s, p, _product, kind) => [...s.dataset.all('sd', kind, p)].map((e) => view.sd(e, true)),
  budgetRule: (s, p, product) =>
    [...s.dataset.all(product, 'budgetRule', p)].map((e) => view.budgetRule(e, product as 'sp' | 'sb' | 'sd')),
};

function controlRoutes(
  state: SandboxState,
  endpoints: Endpoint[],
  amc: AmcEndpoint[],
  announce: (changes: Change[]) => Promise<number>,
): Route[] {
  const profileOf = (req: Req) => state.dataset.profileIndex(req.query.get('profileId') ?? '');
  return [
    route('GET', '/_sandbox/health', (_req, res) =>
      send(res, 200, { status: 'ok', seed: state.dataset.seed, scale: state.dataset.scale }),
    ),
    route('GET', '/_sandbox/faults', (_req, res) => send(res, 200, state.faults)),
    route('POST', '/_sandbox/faults', (req, res) => {
      const body = jsonBody(req);
      if (!body || typeof body !== 'object' || Array.isArray(body))
        return send(res, 400, { error: 'body is not a JSON object' });
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
    route('POST', '/_sandbox/mutate', async (req, res) => {
      const body = jsonBody<{ fraction?: number; round?: number }>(req);
      const fraction = Number(body?.fraction ?? 0.01);
      if (!(fraction > 0 && fraction <= 1)) return send(res, 400, { error: 'fraction must be in (0, 1]' });
      const changed = state.dataset.mutate(fraction, state.now(), Number(body?.round ?? 1));
      // Each change is announced on Marketing Stream's campaign management datasets, where subscribed.
      send(res, 200, { changed, announced: await announce(changed) });
    }),
    route('POST', '/_sandbox/suppliers/advance', (req, res) => {
      // `priceShare` (0–1): the share of products whose price moves in the new round; every one by default.
      const body = jsonBody<{ priceShare?: unknown }>(req);
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        return send(res, 400, { error: 'the body must be a JSON object' });
      const share = body.priceShare ?? 1;
      if (typeof share !== 'number' || !(share >= 0 && share <= 1))
        return send(res, 400, { error: 'priceShare must be a number in [0, 1]' });
      state.supplierRound++;
      state.supplierPriceShares.set(state.supplierRound, share);
      send(res, 200, { round: state.supplierRound, priceShare: share });
    }),
    route('GET', '/_sandbox/stats', (_req, res) =>
      send(res, 200, { ...state.counters, profileCalls: Object.fromEntries(state.profileCalls) }),
    ),
    route('GET', '/_sandbox/openapi.json', (_req, res) =>
      send(
        res,
        200,
        sandboxOpenApi(
          endpoints.map(operationOf),
          [...amc, LWA_DOCUMENTED],
          'Amazon Ads API as the adsync sandbox plays it',
        ),
      ),
    ),
    // Answers the sandbox gave outside Amazon's models (strict mode), newest last.
    route('GET', '/_sandbox/violations', (_req, res) => send(res, 200, { violations: state.violations })),
    route('GET', '/_sandbox/totals', (req, res) => {
      const r = state.reports.get(req.query.get('reportId') ?? '');
      if (!r?.totals) return send(res, 404, { error: 'no completed report with that id' });
      send(res, 200, { ...r.totals, badRows: r.badRows });
    }),
    // Ground truth: every entity of a kind, in one API family's wire shape.
    route('GET', '/_sandbox/entities', (req, res) => {
      const p = profileOf(req);
      const v = VIEWS[req.query.get('view') ?? ''];
      const product = (req.query.get('product') || null) as AdProductKind | null;
      const kind = (req.query.get('kind') ?? 'campaign') as EntityKind;
      if (p === null || !v)
        return send(res, 400, { error: `profileId and view (${Object.keys(VIEWS).join(', ')}) are required` });
      try {
        send(res, 200, v(state, p, product, kind));
      } catch (err) {
        send(res, 400, { error: (err as Error).message });
      }
    }),
    route('POST', '/_sandbox/expected/export', (req, res) => {
      const b = jsonBody<{ profileId?: string; type?: ExportType; filters?: Partial<ExportFilters> }>(req);
      const p = state.dataset.profileIndex(String(b?.profileId ?? ''));
      if (p === null || !b?.type) return send(res, 400, { error: 'profileId and type are required' });
      const f: ExportFilters = {
        adProductFilter: ['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY'],
        stateFilter: ['ENABLED', 'PAUSED'],
        ...b.filters,
      };
      send(res, 200, [...exportRows(state, b.type, p, f)]);
    }),
    // Ground truth: the rows (and totals) the sandbox serves for a report request, with every day final.
    route('POST', '/_sandbox/expected/report', (req, res) => {
      const b = jsonBody<{ profileId?: string; request?: unknown }>(req);
      const p = state.dataset.profileIndex(String(b?.profileId ?? ''));
      const checked = checkCreateReport(b?.request, state.now().toISOString().slice(0, 10));
      if (p === null || !checked.ok)
        return send(res, 400, { error: checked.ok ? 'profileId is required' : checked.detail });
      const rows = [
        ...reportRows(state.dataset, {
          profileIndex: p,
          startDate: checked.request.startDate,
          endDate: checked.request.endDate,
          configuration: checked.request.configuration,
          generationOf: () => FINAL_GENERATION,
          omitCampaigns: state.omittedCampaigns(checked.request.configuration.reportTypeId, p),
        }),
      ];
      send(res, 200, { rows, totals: totalsOf(rows) });
    }),
    // Ground truth of Amazon Attribution: the rows a report request is answered with, every day
    // final (all its restatements in), metrics as numbers (money in cents).
    route('POST', '/_sandbox/expected/attribution', (req, res) => {
      const b = jsonBody<{ profileId?: string; request?: Record<string, unknown> }>(req);
      const p = state.dataset.profileIndex(String(b?.profileId ?? ''));
      const checked = checkReportAsk(b?.request ?? {}, state.now().toISOString().slice(0, 10));
      if (p === null || 'problem' in checked)
        return send(res, 400, { error: 'problem' in checked ? checked.problem : 'profileId is required' });
      send(res, 200, { rows: attributionRows(state, p, checked.ask, () => true) });
    }),
    route('POST', '/_sandbox/profiles/view-only', (req, res) => {
      const b = jsonBody<{ profileIds?: string[] }>(req);
      state.viewOnlyProfiles.clear();
      for (const id of b?.profileIds ?? []) state.viewOnlyProfiles.add(String(id));
      send(res, 200, { viewOnly: [...state.viewOnlyProfiles] });
    }),
  ];
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState(opts.seed ?? 42, opts.scale ?? {}, opts.faults ?? {});
  state.strict = opts.strict ?? true;
  const gate = (req: Req, access: Access, clientIdHeader?: string) => authorise(state, req, access, clientIdHeader);
  const stream = streamRoutes(state, { sqsEndpoint: opts.sqsEndpoint });
  const endpoints = [
    ...entityEndpoints(state),
    ...dspAccountEndpoints(state),
    ...attributionEndpoints(state),
    ...adsApiV1Endpoints(state),
    ...exportEndpoints(state),
    ...reportingEndpoints(state),
    ...stream.endpoints,
  ];
  const amc = amcEndpoints(state);
  const routes = [
    ...controlRoutes(state, endpoints, amc, stream.announce),
    ...lwaRoutes(state),
    ...endpointRoutes(state, endpoints, gate),
    ...reportDownloadRoutes(state),
    ...exportDownloadRoutes(state),
    ...amcEndpointRoutes(state, amc, gate),
    ...amcDownloadRoutes(state),
    ...stream.routes,
    ...supplierRoutes(state),
  ];

  const server: Server = createServer(async (raw, res: ServerResponse) => {
    const url = new URL(raw.url ?? '/', 'http://sandbox');
    const requestId = randomUUID();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amzn-RequestId', requestId);
    const profileId =
      typeof raw.headers['amazon-advertising-api-scope'] === 'string'
        ? raw.headers['amazon-advertising-api-scope']
        : null;
    let injected: '429' | '5xx' | null = null;
    let op: ModelOperation | null = null;
    res.on('finish', () =>
      state.log({
        at: Date.now(),
        method: raw.method ?? 'GET',
        path: url.pathname,
        status: res.statusCode,
        profileId,
        injected,
      }),
    );
    try {
      let body: Buffer;
      try {
        body = await readBody(raw);
      } catch {
        return sendError(state, res, null, 413, 'request body too large');
      }
      const found = match(routes, raw.method ?? 'GET', url.pathname);
      state.counters.requests++;
      if (state.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, state.faults.latencyMs));
      if (!found) return sendError(state, res, null, 404, `no such resource: ${raw.method} ${url.pathname}`);
      op = found.route.op ?? null;
      if (!UNFAULTED.test(url.pathname)) {
        const roll = state.draw();
        if (roll < state.faults.rate429) {
          injected = '429';
          state.counters.injected429++;
          // Amazon's report creation throttles without telling when to come back.
          if (!(raw.method === 'POST' && url.pathname === '/reporting/reports'))
            res.setHeader('Retry-After', String(state.faults.retryAfterSec));
          return sendError(state, res, op, 429, 'Too Many Requests');
        }
        if (roll < state.faults.rate429 + state.faults.rate5xx) {
          injected = '5xx';
          state.counters.injected5xx++;
          const status = [500, 502, 503][Math.floor(state.draw() * 3)]!;
          return sendError(state, res, op, status, 'The server encountered an error. Please retry.');
        }
      }
      const req: Req = {
        method: raw.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: raw.headers,
        params: found.params,
        body,
        raw,
      };
      await found.route.handler(req, res);
    } catch (err) {
      // A handler that throws is a sandbox bug, whatever Amazon would say: always a violation.
      state.recordViolation({
        operation: op ? `${op.model}.${op.operationId}` : `${raw.method} ${url.pathname}`,
        status: 500,
        problems: [`the handler threw: ${(err as Error).stack ?? err}`],
      });
      if (!res.headersSent) sendError(state, res, op, 500, (err as Error).message);
      else res.destroy(err as Error);
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  state.setBaseUrl(opts.publicUrl ?? url);
  return {
    url,
    state,
    endpoints,
    setFaults: (f) => {
      state.faults = { ...state.faults, ...f };
    },
    stream: { publish: stream.publish, announce: stream.announce, expected: stream.expected },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      if (state.strict && state.violations.length > 0)
        throw new Error(
          `the sandbox answered outside Amazon's models ${state.violations.length} time(s):\n` +
            state.violations
              .slice(0, 10)
              .map((v) => `  ${v.operation} ${v.status}: ${v.problems.join('; ')}`)
              .join('\n'),
        );
    },
  };
}
