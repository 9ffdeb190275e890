/**
 * Login with Amazon, profiles, entity lists (SP v3 and v2, SB v4, SD) and the
 * Reporting API v3, in Amazon's wire formats.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { MAX_REPORT_DAYS, REPORT_TYPES as OUR_CATALOG } from '@adsync/shared/amazon/report-catalog';

// Amazon's catalog, not ours: a copy taken at start, so a client that asks for
// columns we wrongly believe are accepted is refused, as Amazon would.
const REPORT_TYPES = structuredClone(OUR_CATALOG);
const rejectedColumns = (reportTypeId: string, columns: string[]) => {
  const spec = REPORT_TYPES[reportTypeId];
  const ok = new Set([...(spec?.columns ?? []), ...(spec?.alsoAccepted ?? [])]);
  return columns.filter((c) => !ok.has(c));
};
import { route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import { reportRows, totalsOf, FINAL_GENERATION, type ReportTotals } from './report-rows.ts';
import { addDays, daysBetween } from '@adsync/shared/calendar';

export const SANDBOX_CLIENT_ID = 'amzn1.application-oa2-client.sandbox';
export const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';
export const SANDBOX_REFRESH_TOKEN = 'Atzr|sandbox-refresh-token';

const amazonError = (res: ServerResponse, status: number, code: string, details: string) => send(res, status, { code, details });

/** Which callers hold which access tokens, and when those expire. */
export function authorise(state: SandboxState, req: Req, res: ServerResponse, needScope: boolean): number | null | false {
  const auth = req.headers.authorization;
  const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : null;
  const t = token ? state.accessTokens.get(token) : undefined;
  if (!t || t.expiresAt <= state.now().getTime()) {
    amazonError(res, 401, 'UNAUTHORIZED', t ? 'Access token expired' : 'Not authorized to access this resource');
    return false;
  }
  if (req.headers['amazon-advertising-api-clientid'] !== t.clientId) {
    amazonError(res, 400, 'INVALID_ARGUMENT', 'Amazon-Advertising-API-ClientId header is missing or does not match the access token');
    return false;
  }
  if (!needScope) return null;
  const scope = req.headers['amazon-advertising-api-scope'];
  if (typeof scope !== 'string' || !scope) {
    amazonError(res, 400, 'INVALID_ARGUMENT', 'Amazon-Advertising-API-Scope header is missing');
    return false;
  }
  const p = state.dataset.profileIndex(scope);
  if (p === null) {
    amazonError(res, 404, 'NOT_FOUND', `profile ${scope} not found`);
    return false;
  }
  if (state.faults.forbiddenProfiles.includes(scope)) {
    amazonError(res, 403, 'FORBIDDEN', `Not authorized to access profile ${scope}`);
    return false;
  }
  return p;
}

function requireMediaType(req: Req, res: ServerResponse, mediaType: string): boolean {
  const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== mediaType.toLowerCase()) {
    amazonError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${mediaType}`);
    return false;
  }
  return true;
}

const encodeToken = (i: number) => Buffer.from(`o:${i}`).toString('base64url');
function decodeToken(t: unknown): number | null {
  if (t === undefined || t === null || t === '') return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(String(t), 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}

type EntityAt = (p: number, i: number, now: Date) => Record<string, unknown>;

/** v3 list: POST with {maxResults, nextToken, stateFilter}, answers {<key>, nextToken, totalResults}. */
function v3List(state: SandboxState, key: string, mediaType: string, counter: (p: number) => number, at: EntityAt, maxAllowed = 5000) {
  return async (req: Req, res: ServerResponse) => {
    const p = authorise(state, req, res, true);
    if (p === false || p === null) return;
    if (!requireMediaType(req, res, mediaType)) return;
    const body = jsonBody<{ maxResults?: number; nextToken?: string; stateFilter?: { include?: string[] }; includeExtendedDataFields?: boolean }>(req);
    if (!body) return amazonError(res, 400, 'INVALID_ARGUMENT', 'request body is not valid JSON');
    const max = body.maxResults ?? 1000;
    if (!Number.isInteger(max) || max < 1 || max > maxAllowed) return amazonError(res, 400, 'INVALID_ARGUMENT', `maxResults must be between 1 and ${maxAllowed}`);
    const start = decodeToken(body.nextToken);
    if (start === null) return amazonError(res, 400, 'INVALID_ARGUMENT', 'nextToken is invalid');
    const include = body.stateFilter?.include?.map((s) => s.toUpperCase());
    const total = counter(p);
    const now = state.now();
    const items: Record<string, unknown>[] = [];
    let i = start;
    for (; i < total && items.length < max; i++) {
      const e = at(p, i, now);
      if (include && !include.includes(String(e.state))) continue;
      if (!body.includeExtendedDataFields) delete e.extendedData;
      items.push(e);
    }
    const out: Record<string, unknown> = { [key]: items, totalResults: include ? undefined : total };
    if (i < total) out.nextToken = encodeToken(i);
    res.setHeader('content-type', mediaType);
    send(res, 200, out, mediaType);
  };
}

/** v2 list: GET with startIndex/count, answers a bare JSON array. */
function v2List(state: SandboxState, counter: (p: number) => number, at: EntityAt) {
  return async (req: Req, res: ServerResponse) => {
    const p = authorise(state, req, res, true);
    if (p === false || p === null) return;
    const startIndex = Number(req.query.get('startIndex') ?? 0);
    const count = Number(req.query.get('count') ?? 100);
    if (!Number.isInteger(startIndex) || startIndex < 0) return amazonError(res, 400, 'INVALID_ARGUMENT', 'startIndex must be a non-negative integer');
    if (!Number.isInteger(count) || count < 1 || count > 5000) return amazonError(res, 400, 'INVALID_ARGUMENT', 'count must be between 1 and 5000');
    const states = req.query.get('stateFilter')?.split(',').map((s) => s.trim().toLowerCase());
    const now = state.now();
    const total = counter(p);
    const items: Record<string, unknown>[] = [];
    // v2 pages over the filtered list, so the filter is applied before paging.
    let seen = 0;
    for (let i = 0; i < total && items.length < count; i++) {
      const e = at(p, i, now);
      if (states && !states.includes(String(e.state))) continue;
      if (seen++ >= startIndex) items.push(e);
    }
    send(res, 200, items);
  };
}

export interface ReportRecord {
  reportId: string;
  profileId: string;
  profileIndex: number;
  name: string | null;
  startDate: string;
  endDate: string;
  configuration: { adProduct: string; reportTypeId: string; groupBy: string[]; columns: string[]; timeUnit: string; format: string; filters?: unknown[] };
  createdAt: number;
  failed: boolean;
  /** Fixed at completion, so a download always matches the totals reported for it. */
  generations: Record<string, number> | null;
  file: Buffer | null;
  totals: ReportTotals | null;
  badRows?: number;
  dedupeKey: string;
}

function reportStatus(state: SandboxState, r: ReportRecord): 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' {
  const age = state.now().getTime() - r.createdAt;
  const gen = state.faults.reportGenerationMs;
  if (age < gen) return 'PENDING';
  if (age < gen * 2) return 'PROCESSING';
  return r.failed ? 'FAILED' : 'COMPLETED';
}

function completeReport(state: SandboxState, r: ReportRecord): void {
  if (r.file) return;
  const generations: Record<string, number> = {};
  for (let d = r.startDate; d <= r.endDate; d = addDays(d, 1)) {
    const key = `${r.profileId}|${r.configuration.reportTypeId}|${d}`;
    const g = state.faults.restatement ? Math.min(state.pulls.get(key) ?? 0, FINAL_GENERATION) : FINAL_GENERATION;
    generations[d] = g;
    state.pulls.set(key, (state.pulls.get(key) ?? 0) + 1);
  }
  r.generations = generations;
  const src = { profileIndex: r.profileIndex, reportTypeId: r.configuration.reportTypeId, startDate: r.startDate, endDate: r.endDate, columns: r.configuration.columns, generationOf: (d: string) => generations[d] ?? FINAL_GENERATION };
  const rows: Record<string, unknown>[] = [...reportRows(state.dataset, src, state.now())];
  const every = state.faults.badRowEvery;
  // Totals count only the rows a loader can use; corrupted ones must be dead-lettered.
  r.totals = totalsOf(every ? rows.filter((_, i) => (i + 1) % every !== 0) as never : (rows as never), r.configuration.reportTypeId);
  r.badRows = every ? Math.floor(rows.length / every) : 0;
  if (every) for (let i = every - 1; i < rows.length; i += every) rows[i] = { ...rows[i], date: 'not-a-date' };
  r.file = gzipSync(JSON.stringify(rows));
}

function presign(state: SandboxState, reportId: string): string {
  const now = state.now();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const expires = state.faults.downloadUrlTtlSec;
  const sig = createHmac('sha256', state.signingKey).update(`${reportId}|${amzDate}|${expires}`).digest('hex');
  return `${state.baseUrl()}/_download/reports/${reportId}.json.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${amzDate}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
}

function reportView(state: SandboxState, r: ReportRecord) {
  const status = reportStatus(state, r);
  if (status === 'COMPLETED') completeReport(state, r);
  const ts = (ms: number) => new Date(ms).toISOString();
  const gen = state.faults.reportGenerationMs;
  return {
    reportId: r.reportId,
    name: r.name,
    status,
    startDate: r.startDate,
    endDate: r.endDate,
    configuration: r.configuration,
    createdAt: ts(r.createdAt),
    updatedAt: ts(status === 'PENDING' ? r.createdAt : r.createdAt + gen * (status === 'PROCESSING' ? 1 : 2)),
    generatedAt: status === 'COMPLETED' ? ts(r.createdAt + gen * 2) : null,
    url: status === 'COMPLETED' ? presign(state, r.reportId) : null,
    urlExpiresAt: status === 'COMPLETED' ? ts(state.now().getTime() + state.faults.downloadUrlTtlSec * 1000) : null,
    fileSize: status === 'COMPLETED' ? r.file!.length : null,
    failureReason: status === 'FAILED' ? 'Report generation failed due to an internal error. Please retry.' : null,
  };
}


export function amazonAdsRoutes(state: SandboxState): Route[] {
  const ds = state.dataset;
  return [
    route('POST', '/auth/o2/token', async (req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const grant = form.get('grant_type');
      if (grant !== 'refresh_token') return send(res, 400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server' });
      const clientId = form.get('client_id');
      if (clientId !== SANDBOX_CLIENT_ID || form.get('client_secret') !== SANDBOX_CLIENT_SECRET) {
        return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      const refresh = form.get('refresh_token') ?? '';
      if (!refresh.startsWith('Atzr|') || state.revokedRefreshTokens.has(refresh)) {
        return send(res, 400, { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' });
      }
      const token = `Atza|${randomBytes(24).toString('base64url')}`;
      const ttl = state.faults.tokenTtlSec;
      state.accessTokens.set(token, { clientId, expiresAt: state.now().getTime() + ttl * 1000 });
      state.counters.tokenGrants++;
      send(res, 200, { access_token: token, refresh_token: refresh, token_type: 'bearer', expires_in: ttl });
    }),

    route('GET', '/v2/profiles', async (req, res) => {
      if (authorise(state, req, res, false) === false) return;
      send(res, 200, ds.profiles().map((p) => ({ profileId: Number(p.profileId), countryCode: p.countryCode, currencyCode: p.currencyCode, dailyBudget: 999999999, timezone: p.timezone, accountInfo: p.accountInfo })));
    }),

    route('POST', '/sp/campaigns/list', v3List(state, 'campaigns', 'application/vnd.spCampaign.v3+json', (p) => ds.count(p, 'campaigns'), (p, i, n) => ds.spCampaign(p, i, n))),
    route('POST', '/sp/adGroups/list', v3List(state, 'adGroups', 'application/vnd.spAdGroup.v3+json', (p) => ds.count(p, 'adGroups'), (p, i, n) => ds.spAdGroup(p, i, n))),
    route('POST', '/sp/productAds/list', v3List(state, 'productAds', 'application/vnd.spProductAd.v3+json', (p) => ds.count(p, 'ads'), (p, i, n) => ds.spProductAd(p, i, n))),
    route('POST', '/sp/keywords/list', v3List(state, 'keywords', 'application/vnd.spKeyword.v3+json', (p) => ds.count(p, 'keywords'), (p, i, n) => ds.spKeyword(p, i, n))),
    route('POST', '/sp/targets/list', v3List(state, 'targetingClauses', 'application/vnd.spTargetingClause.v3+json', (p) => ds.count(p, 'productTargets'), (p, i, n) => ds.spProductTarget(p, i, n))),
    route('POST', '/sb/v4/campaigns/list', v3List(state, 'campaigns', 'application/vnd.sbcampaignresource.v4+json', (p) => ds.count(p, 'sbCampaigns'), (p, i, n) => ds.sbCampaign(p, i, n), 100)),

    route('GET', '/v2/sp/campaigns', v2List(state, (p) => ds.count(p, 'campaigns'), (p, i, n) => ds.spCampaignV2(p, i, n))),
    route('GET', '/v2/sp/adGroups', v2List(state, (p) => ds.count(p, 'adGroups'), (p, i, n) => ds.spAdGroupV2(p, i, n))),
    route('GET', '/v2/sp/productAds', v2List(state, (p) => ds.count(p, 'ads'), (p, i, n) => ds.spProductAdV2(p, i, n))),
    route('GET', '/v2/sp/keywords', v2List(state, (p) => ds.count(p, 'keywords'), (p, i, n) => ds.spKeywordV2(p, i, n))),
    route('GET', '/sd/campaigns', v2List(state, (p) => ds.count(p, 'sdCampaigns'), (p, i, n) => ds.sdCampaign(p, i, n))),

    route('POST', '/reporting/reports', async (req, res) => {
      const p = authorise(state, req, res, true);
      if (p === false || p === null) return;
      if (!requireMediaType(req, res, 'application/vnd.createasyncreportrequest.v3+json')) return;
      const body = jsonBody<{ name?: string; startDate?: string; endDate?: string; configuration?: ReportRecord['configuration'] }>(req);
      if (!body) return amazonError(res, 400, '400', 'request body is not valid JSON');
      const cfg = body.configuration;
      if (!cfg || typeof cfg.reportTypeId !== 'string') return send(res, 400, { code: '400', detail: 'configuration.reportTypeId is required' });
      const spec = REPORT_TYPES[cfg.reportTypeId];
      if (!spec) return send(res, 400, { code: '400', detail: `Invalid reportTypeId: ${cfg.reportTypeId}` });
      if (cfg.adProduct !== spec.adProduct) return send(res, 400, { code: '400', detail: `adProduct ${cfg.adProduct} is not valid for ${cfg.reportTypeId}; expected ${spec.adProduct}` });
      if (JSON.stringify(cfg.groupBy) !== JSON.stringify(spec.groupBy)) return send(res, 400, { code: '400', detail: `groupBy must be ${JSON.stringify(spec.groupBy)} for ${cfg.reportTypeId}` });
      if (!Array.isArray(cfg.columns) || cfg.columns.length === 0) return send(res, 400, { code: '400', detail: 'configuration.columns is required' });
      const bad = rejectedColumns(cfg.reportTypeId, cfg.columns);
      if (bad.length) return send(res, 400, { code: '400', detail: `configuration columns includes invalid values: (${bad.join(', ')}). Allowed values: (${[...spec.columns, ...spec.alsoAccepted].join(', ')})` });
      if (cfg.timeUnit !== 'DAILY' && cfg.timeUnit !== 'SUMMARY') return send(res, 400, { code: '400', detail: 'configuration.timeUnit must be DAILY or SUMMARY' });
      if (cfg.format !== 'GZIP_JSON') return send(res, 400, { code: '400', detail: 'configuration.format must be GZIP_JSON' });
      const { startDate, endDate } = body;
      if (!startDate || !endDate || !/^\d{4}-\d{2}-\d{2}$/.test(startDate) || !/^\d{4}-\d{2}-\d{2}$/.test(endDate) || endDate < startDate) {
        return send(res, 400, { code: '400', detail: 'startDate and endDate must be YYYY-MM-DD with startDate <= endDate' });
      }
      if (daysBetween(startDate, endDate) + 1 > MAX_REPORT_DAYS) return send(res, 400, { code: '400', detail: `Report date range must be ${MAX_REPORT_DAYS} days or fewer` });
      const today = state.now().toISOString().slice(0, 10);
      if (daysBetween(startDate, today) > spec.retentionDays) return send(res, 400, { code: '400', detail: `startDate must be within the last ${spec.retentionDays} days for ${spec.adProduct}` });
      const profileId = String(req.headers['amazon-advertising-api-scope']);
      const dedupeKey = JSON.stringify([profileId, startDate, endDate, cfg.reportTypeId, [...cfg.columns].sort(), cfg.timeUnit, cfg.filters ?? null]);
      const dup = state.reportsByKey.get(dedupeKey);
      if (dup) {
        const st = reportStatus(state, dup);
        if (st === 'PENDING' || st === 'PROCESSING') return send(res, 425, { code: '425', detail: `The Request is a duplicate of : ${dup.reportId}` });
      }
      const r: ReportRecord = {
        reportId: randomUUID(),
        profileId,
        profileIndex: p,
        name: body.name ?? null,
        startDate,
        endDate,
        configuration: cfg,
        createdAt: state.now().getTime(),
        failed: state.faults.failReportTypes.includes(cfg.reportTypeId),
        generations: null,
        file: null,
        totals: null,
        dedupeKey,
      };
      state.reports.set(r.reportId, r);
      state.reportsByKey.set(dedupeKey, r);
      state.counters.reportsCreated++;
      send(res, 200, reportView(state, r));
    }),

    route('GET', '/reporting/reports/{reportId}', async (req, res) => {
      const p = authorise(state, req, res, true);
      if (p === false || p === null) return;
      const r = state.reports.get(req.params.reportId!);
      if (!r || r.profileIndex !== p) return send(res, 404, { code: '404', detail: `Report ${req.params.reportId} not found` });
      send(res, 200, reportView(state, r));
    }),

    route('GET', '/_download/reports/{file}', async (req, res) => {
      const reportId = req.params.file!.replace(/\.json\.gz$/, '');
      const r = state.reports.get(reportId);
      const xml = (code: string, msg: string) => send(res, 403, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${msg}</Message></Error>`, 'application/xml');
      const amzDate = req.query.get('X-Amz-Date') ?? '';
      const expires = req.query.get('X-Amz-Expires') ?? '';
      const sig = createHmac('sha256', state.signingKey).update(`${reportId}|${amzDate}|${expires}`).digest('hex');
      if (!r || !r.file || req.query.get('X-Amz-Signature') !== sig) return xml('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
      const signedAt = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : 0;
      if (state.now().getTime() > signedAt + Number(expires) * 1000) return xml('AccessDenied', 'Request has expired');
      state.counters.downloads++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': r.file.length, etag: `"${r.reportId}"` });
      res.end(r.file);
    }),
  ];
}
