/**
 * The Exports API (en-us/guides/exports/get-started.md): request a full export of
 * one entity type across ad products, wait for it (this runs in background sync
 * work, never in a request path), then stream the gzip JSON file. One export
 * replaces hundreds of list pages for a full sync.
 *
 * Contract points that matter: the status lives at GET /exports/{exportId} and is
 * read with the export type's media type in Accept; the filters default to
 * ENABLED and PAUSED only, so we always ask for ARCHIVED too (archived entities
 * are kept); exported entities are in the common model, not the list shapes.
 */
import { createGunzip } from 'node:zlib';
import type { AmazonAdsClient, PageHook } from './ads-client.ts';
import { AmazonApiError } from './errors.ts';
import { jsonArrayRuns } from '../json-array-stream.ts';
import { sleep as realSleep, type Sleep } from '../backoff.ts';
import type { ExportCreated, ExportStatus, TargetExportRequest } from './model-types.ts';

export type ExportKind = 'campaigns' | 'adGroups' | 'ads' | 'targets';
export type ExportAdProduct = 'SPONSORED_PRODUCTS' | 'SPONSORED_BRANDS' | 'SPONSORED_DISPLAY';

export const EXPORT_MEDIA_TYPES: Record<ExportKind, string> = {
  campaigns: 'application/vnd.campaignsexport.v1+json',
  adGroups: 'application/vnd.adgroupsexport.v1+json',
  ads: 'application/vnd.adsexport.v1+json',
  targets: 'application/vnd.targetsexport.v1+json',
};

export interface ExportRequest {
  adProducts: ExportAdProduct[];
  /** Targets only: negative targets (true), positive ones (false) or both. */
  negative?: boolean[];
  /** Targets only: AD_GROUP and/or CAMPAIGN level. */
  targetLevels?: ('AD_GROUP' | 'CAMPAIGN')[];
}

/** The request body: every state, the ad products asked for, and the target filters when given. */
export function exportBody(kind: ExportKind, r: ExportRequest): TargetExportRequest {
  const body: TargetExportRequest = {
    adProductFilter: r.adProducts,
    stateFilter: ['ENABLED', 'PAUSED', 'ARCHIVED'],
  };
  if (kind === 'targets' && r.negative) body.negativeFilter = r.negative;
  if (kind === 'targets' && r.targetLevels) body.targetLevelFilter = r.targetLevels;
  return body;
}

export interface RequestedExport {
  exportId: string;
  requestId: string | null;
}

/** Asks Amazon for an export; reading it (exportEntities) can come later, once Amazon has built it. */
export async function requestExport(
  client: AmazonAdsClient,
  profileId: string,
  kind: ExportKind,
  r: ExportRequest,
): Promise<RequestedExport> {
  const media = EXPORT_MEDIA_TYPES[kind];
  const created = await client.call<ExportCreated>({
    method: 'POST',
    path: `/${kind}/export`,
    profileId,
    contentType: media,
    accept: media,
    body: exportBody(kind, r),
    what: `export ${kind}`,
  });
  return { exportId: created.body.exportId, requestId: created.requestId };
}

/**
 * Every entity of an export, streamed from its file once Amazon has built it, in runs as the
 * file is read (jsonArrayRuns: an async step per entity cost more than parsing it). `requested`
 * is an export asked for earlier (requestExport), so a sync can have Amazon build all of
 * its exports while it reads the first; without it the export is asked for here.
 */
export async function* exportEntities<T = Record<string, unknown>>(
  client: AmazonAdsClient,
  profileId: string,
  kind: ExportKind,
  opts: ExportRequest & {
    pollMs?: number;
    maxWaitMs?: number;
    sleep?: Sleep;
    onPage?: PageHook;
    requested?: Promise<RequestedExport>;
  },
): AsyncGenerator<T[]> {
  const sleep = opts.sleep ?? realSleep;
  const media = EXPORT_MEDIA_TYPES[kind];
  const created = await (opts.requested ?? requestExport(client, profileId, kind, opts));
  opts.onPage?.({ requestId: created.requestId, count: 0 });
  const deadline = Date.now() + (opts.maxWaitMs ?? 30 * 60_000);
  let url: string | null = null;
  while (!url) {
    const s = await client.call<ExportStatus>({
      method: 'GET',
      path: `/exports/${encodeURIComponent(created.exportId)}`,
      profileId,
      accept: media,
      what: `export ${kind} status`,
    });
    if (s.body.status === 'COMPLETED' && s.body.url) url = s.body.url;
    else if (s.body.status === 'FAILED') {
      const reason = s.body.error
        ? `${s.body.error.errorCode ?? 'ERROR'}: ${s.body.error.message ?? ''}`
        : 'no reason given';
      throw new AmazonApiError('server', `export ${kind} failed: ${reason}`, {
        requestId: s.requestId,
        amazonCode: s.body.error?.errorCode ?? null,
        hint: 'run the sync again; a list-based sync is the fallback',
      });
    } else if (Date.now() > deadline)
      throw new AmazonApiError(
        'server',
        `export ${kind} still ${s.body.status} after ${Math.round((opts.maxWaitMs ?? 1_800_000) / 60_000)} minutes`,
        { requestId: s.requestId, hint: 'Amazon is slow; try again later' },
      );
    else await sleep(opts.pollMs ?? 2_000);
  }
  const file = await client.download(url, `export ${kind} download`);
  const gunzip = file.body.pipe(createGunzip());
  file.body.on('error', (err) => gunzip.destroy(err));
  let n = 0;
  for await (const run of jsonArrayRuns(gunzip)) {
    const entities: T[] = [];
    for (const el of run) {
      if (!el.ok)
        throw new AmazonApiError('bad_request', `export ${kind} has an unreadable element: ${el.error}`, {
          hint: 'the export file is damaged; run the sync again',
        });
      entities.push(el.value as T);
    }
    n += entities.length;
    yield entities;
  }
  opts.onPage?.({ requestId: null, count: n });
}
