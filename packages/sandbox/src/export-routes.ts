/**
 * The Exports API (en-us/guides/exports/get-started.md, Exports_prod_3p): one
 * asynchronous request per entity type produces a gzip JSON array of every
 * entity of the profile, in the common model, for every ad product asked for.
 * POST /{campaigns|adGroups|ads|targets}/export answers 202 PROCESSING with an
 * exportId; GET /exports/{exportId} — with the export type's media type in
 * Accept — moves to COMPLETED with a presigned URL. Filters default as Amazon
 * documents: every ad product, ENABLED and PAUSED only.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ServerResponse } from 'node:http';
import { route, send, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import type { ExportFilters, ExportRecord, ExportType } from './export-state.ts';
import type { AdProductKind, Entity, EntityKind } from './dataset.ts';
import type { Endpoint } from './amazon/endpoint.ts';
import { exported } from './amazon/views.ts';

export const EXPORT_TYPES: Record<ExportType, { media: string; letter: string }> = {
  campaigns: { media: 'application/vnd.campaignsexport.v1+json', letter: 'C' },
  adGroups: { media: 'application/vnd.adgroupsexport.v1+json', letter: 'A' },
  ads: { media: 'application/vnd.adsexport.v1+json', letter: 'AD' },
  targets: { media: 'application/vnd.targetsexport.v1+json', letter: 'T' },
};

const PRODUCTS: Record<string, AdProductKind> = {
  SPONSORED_PRODUCTS: 'sp',
  SPONSORED_BRANDS: 'sb',
  SPONSORED_DISPLAY: 'sd',
};
const TARGET_KINDS: EntityKind[] = [
  'keyword',
  'productTarget',
  'negativeKeyword',
  'negativeTarget',
  'campaignNegativeKeyword',
  'campaignNegativeTarget',
];

const gzipAsync = promisify(gzip);

/**
 * Builds an export's file in the background, as Amazon does between request and completion:
 * a slice of rows at a time so the sandbox keeps answering other calls meanwhile, and the
 * compression on libuv's threads.
 */
async function buildExport(state: SandboxState, e: ExportRecord): Promise<void> {
  // Unchanged data exports to the same file: made once, so a benchmark's (or a test's) second
  // full sync measures the client, not the sandbox rebuilding what Amazon would already hold.
  const key = `${e.profileIndex}|${e.type}|${JSON.stringify(e.filters)}|${state.dataset.revision}`;
  let files = BUILT.get(state);
  if (!files) BUILT.set(state, (files = new Map()));
  const built = files.get(key);
  if (built) {
    e.rows = built.rows;
    e.file = built.file;
    return;
  }
  const parts: string[] = [];
  for (const row of exportRows(state, e.type, e.profileIndex, e.filters)) {
    parts.push(JSON.stringify(row));
    if (parts.length % 2000 === 0) await new Promise((r) => setImmediate(r));
  }
  e.rows = parts.length;
  e.file = await gzipAsync(`[${parts.join(',')}]`);
  files.set(key, { rows: e.rows, file: e.file });
  // A few recent files are plenty (one per entity type and profile being synced).
  if (files.size > 32) files.delete(files.keys().next().value!);
}

const BUILT = new WeakMap<SandboxState, Map<string, { rows: number; file: Buffer }>>();

/** What an export contains, as the common-model objects it serialises. */
export function* exportRows(
  state: SandboxState,
  type: ExportType,
  p: number,
  f: ExportFilters,
): Generator<Record<string, unknown>> {
  const ds = state.dataset;
  const currency = ds.profiles()[p]!.currencyCode;
  for (const productName of f.adProductFilter) {
    const product = PRODUCTS[productName]!;
    const kinds: EntityKind[] =
      type === 'campaigns' ? ['campaign'] : type === 'adGroups' ? ['adGroup'] : type === 'ads' ? ['ad'] : TARGET_KINDS;
    for (const kind of kinds) {
      for (const e of ds.all(product, kind, p)) {
        if (!f.stateFilter.includes(e.state)) continue;
        const row = exported(e, currency);
        if (type === 'targets' && !targetMatches(e, row, f)) continue;
        yield row;
      }
    }
  }
}

function targetMatches(e: Entity, row: Record<string, unknown>, f: ExportFilters): boolean {
  if (f.negativeFilter && !f.negativeFilter.includes(Boolean(row.negative))) return false;
  if (f.targetLevelFilter && !f.targetLevelFilter.includes(e.kind.startsWith('campaign') ? 'CAMPAIGN' : 'AD_GROUP'))
    return false;
  if (f.targetTypeFilter && !f.targetTypeFilter.includes(String(row.targetType))) return false;
  return true;
}

export function exportEndpoints(state: SandboxState): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const type of Object.keys(EXPORT_TYPES) as ExportType[]) {
    endpoints.push({
      method: 'POST',
      path: `/${type}/export`,
      doc: 'en-us/guides/exports/get-started.md',
      summary: `export ${type}`,
      handle: (ctx) => {
        const b = ctx.body as Partial<ExportFilters>;
        const filters: ExportFilters = {
          adProductFilter: b.adProductFilter ?? Object.keys(PRODUCTS),
          stateFilter: b.stateFilter ?? ['ENABLED', 'PAUSED'],
          ...(type === 'targets'
            ? {
                negativeFilter: b.negativeFilter,
                targetLevelFilter: b.targetLevelFilter,
                targetTypeFilter: b.targetTypeFilter,
              }
            : {}),
        };
        // Export ids are base64 of "<uuid>,<type letter>" (as Amazon's are).
        const exportId = Buffer.from(`${randomUUID()},${EXPORT_TYPES[type].letter}`).toString('base64url');
        const e: ExportRecord = {
          exportId,
          type,
          profileIndex: ctx.profile!,
          createdAt: state.now().getTime(),
          durationMs: state.faults.reportGenerationMs,
          filters,
          failed: state.faults.failExports,
        };
        if (!e.failed) {
          e.building = buildExport(state, e);
          e.building.catch(() => undefined); // awaited by the status read
        }
        state.exports.set(exportId, e);
        state.counters.exportsCreated++;
        ctx.ok({ exportId, status: 'PROCESSING' });
      },
    });
  }
  endpoints.push({
    method: 'GET',
    path: '/exports/{exportId}',
    doc: 'en-us/guides/exports/get-started.md ("Checking export status")',
    summary: 'export status',
    handle: async (ctx) => {
      const e = state.exports.get(ctx.req.params.exportId!);
      if (!e || e.profileIndex !== ctx.profile) return ctx.fail(404, `export ${ctx.req.params.exportId} not found`);
      const media = EXPORT_TYPES[e.type].media;
      const accept = String(ctx.req.headers.accept ?? '').toLowerCase();
      // The export's own media type picks the representation; another type is not acceptable.
      if (!accept.split(',').some((a) => a.split(';')[0]!.trim() === media.toLowerCase()))
        return ctx.fail(406, `Accept must be ${media} for this export`);
      const base = { exportId: e.exportId, createdAt: new Date(e.createdAt).toISOString() };
      if (state.now().getTime() - e.createdAt < e.durationMs)
        return ctx.ok({ ...base, status: 'PROCESSING' }, { mediaType: media });
      if (e.failed)
        return ctx.ok(
          {
            ...base,
            status: 'FAILED',
            error: {
              errorCode: 'INTERNAL_ERROR',
              message: 'The export failed due to an internal error. Please retry.',
            },
          },
          { mediaType: media },
        );
      await (e.building ??= buildExport(state, e));
      // Every status read signs a fresh URL, valid for an hour.
      const signedAt = state.now().getTime();
      const sig = createHmac('sha256', state.signingKey).update(`export|${e.exportId}|${signedAt}`).digest('hex');
      ctx.ok(
        {
          ...base,
          status: 'COMPLETED',
          fileSize: e.file!.length,
          generatedAt: new Date(e.createdAt + e.durationMs).toISOString(),
          url: `${state.baseUrl()}/_download/exports/${e.exportId}.json.gz?X-Amz-Date=${signedAt}&X-Amz-Signature=${sig}`,
          urlExpiresAt: new Date(signedAt + 3600_000).toISOString(),
        },
        { mediaType: media },
      );
    },
  });
  return endpoints;
}

/** The presigned download (S3: no Amazon headers; an XML error when the signature or its hour is wrong). */
export function exportDownloadRoutes(state: SandboxState): Route[] {
  const denied = (res: ServerResponse, msg: string) =>
    send(
      res,
      403,
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${msg}</Message></Error>`,
      'application/xml',
    );
  return [
    route('GET', '/_download/exports/{file}', (req, res) => {
      const id = req.params.file!.replace(/\.json\.gz$/, '');
      const e = state.exports.get(id);
      const at = req.query.get('X-Amz-Date') ?? '';
      const sig = e ? createHmac('sha256', state.signingKey).update(`export|${e.exportId}|${at}`).digest('hex') : '';
      if (!e?.file || req.query.get('X-Amz-Signature') !== sig) return denied(res, 'Access Denied');
      if (state.now().getTime() > Number(at) + 3600_000) return denied(res, 'Request has expired');
      state.counters.downloads++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': e.file.length });
      res.end(e.file);
    }),
  ];
}
