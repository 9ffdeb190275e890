/**
 * The Amazon Ads Exports API: one asynchronous request per entity kind produces a
 * gzip JSON file of every entity of the profile — far cheaper than paging through
 * lists for a full sync. POST /{campaigns|adGroups|ads|targets}/export answers 202
 * with an exportId; GET /{kind}/export/{exportId} moves PROCESSING → COMPLETED with
 * a presigned URL. Keywords and product targets come out of one targets export.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { route, send, jsonBody, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';

const KINDS = { campaigns: 'campaignsexport', adGroups: 'adgroupsexport', ads: 'adsexport', targets: 'targetsexport' } as const;
type Kind = keyof typeof KINDS;

export interface ExportRecord {
  exportId: string;
  kind: Kind;
  profileIndex: number;
  createdAt: number;
  durationMs: number;
  file?: Buffer;
}

function rowsOf(state: SandboxState, kind: Kind, p: number): Record<string, unknown>[] {
  const ds = state.dataset;
  const now = new Date(ds.epochMs);
  const sp = { adProduct: 'SPONSORED_PRODUCTS' };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  switch (kind) {
    case 'campaigns': return range(ds.count(p, 'campaigns')).map((i) => ({ ...ds.spCampaign(p, i, now), ...sp }));
    case 'adGroups': return range(ds.count(p, 'adGroups')).map((i) => ({ ...ds.spAdGroup(p, i, now), ...sp }));
    case 'ads': return range(ds.count(p, 'ads')).map((i) => ({ ...ds.spProductAd(p, i, now), ...sp }));
    case 'targets': return [
      ...range(ds.count(p, 'keywords')).map((i) => {
        const { keywordId, ...k } = ds.spKeyword(p, i, now);
        return { targetId: keywordId, targetType: 'KEYWORD', ...k, ...sp };
      }),
      ...range(ds.count(p, 'productTargets')).map((i) => ({ targetType: 'PRODUCT', ...ds.spProductTarget(p, i, now), ...sp })),
    ];
  }
}

export function exportRoutes(state: SandboxState, authorise: (req: Req, res: ServerResponse) => number | null | false): Route[] {
  const routes: Route[] = [];
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const mediaType = `application/vnd.${KINDS[kind]}.v1+json`;
    routes.push(route('POST', `/${kind}/export`, (req, res) => {
      const p = authorise(req, res);
      if (p === false || p === null) return;
      const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== mediaType) return send(res, 415, { code: 'UNSUPPORTED_MEDIA_TYPE', details: `Content-Type must be ${mediaType}` });
      const body = jsonBody<{ adProductFilter?: string[] }>(req);
      if (body?.adProductFilter && !body.adProductFilter.includes('SPONSORED_PRODUCTS')) return send(res, 400, { code: 'INVALID_ARGUMENT', details: 'the sandbox exports SPONSORED_PRODUCTS entities' });
      const e: ExportRecord = { exportId: `${randomUUID()}-${kind}`, kind, profileIndex: p, createdAt: state.now().getTime(), durationMs: state.faults.reportGenerationMs };
      state.exports.set(e.exportId, e);
      send(res, 202, { exportId: e.exportId, status: 'PROCESSING' }, mediaType);
    }));
    routes.push(route('GET', `/${kind}/export/{exportId}`, (req, res) => {
      const p = authorise(req, res);
      if (p === false || p === null) return;
      const e = state.exports.get(req.params.exportId!);
      if (!e || e.profileIndex !== p || e.kind !== kind) return send(res, 404, { code: 'NOT_FOUND', details: `export ${req.params.exportId} not found` });
      if (state.now().getTime() - e.createdAt < e.durationMs) return send(res, 200, { exportId: e.exportId, status: 'PROCESSING' }, mediaType);
      e.file ??= gzipSync(JSON.stringify(rowsOf(state, kind, p)));
      const sig = createHmac('sha256', state.signingKey).update(`export|${e.exportId}`).digest('hex');
      send(res, 200, {
        exportId: e.exportId, status: 'COMPLETED', fileSize: e.file.length, generatedAt: new Date(e.createdAt + e.durationMs).toISOString(),
        url: `${state.baseUrl()}/_download/exports/${e.exportId}.json.gz?X-Amz-Signature=${sig}`, urlExpiresAt: new Date(state.now().getTime() + 3600_000).toISOString(),
      }, mediaType);
    }));
  }
  routes.push(route('GET', '/_download/exports/{file}', (req, res) => {
    const id = req.params.file!.replace(/\.json\.gz$/, '');
    const e = state.exports.get(id);
    const sig = e ? createHmac('sha256', state.signingKey).update(`export|${e.exportId}`).digest('hex') : '';
    if (!e?.file || req.query.get('X-Amz-Signature') !== sig) return send(res, 403, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', 'application/xml');
    state.counters.downloads++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': e.file.length });
    res.end(e.file);
  }));
  return routes;
}
