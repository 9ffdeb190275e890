/**
 * The Exports API: request a full export of one entity kind, wait for it (this runs
 * in background sync work, never in a request path), then stream the gzip JSON file.
 * One export replaces hundreds of list pages for a full sync.
 */
import { createGunzip } from 'node:zlib';
import type { AmazonAdsClient, PageHook } from './ads-client.ts';
import { AmazonApiError } from './errors.ts';
import { jsonArrayElements } from '../json-array-stream.ts';
import { sleep as realSleep, type Sleep } from '../backoff.ts';

export type ExportKind = 'campaigns' | 'adGroups' | 'ads' | 'targets';

const MEDIA: Record<ExportKind, string> = {
  campaigns: 'application/vnd.campaignsexport.v1+json',
  adGroups: 'application/vnd.adgroupsexport.v1+json',
  ads: 'application/vnd.adsexport.v1+json',
  targets: 'application/vnd.targetsexport.v1+json',
};

export async function* exportEntities<T = Record<string, unknown>>(
  client: AmazonAdsClient,
  profileId: string,
  kind: ExportKind,
  opts: { adProducts?: string[]; pollMs?: number; maxWaitMs?: number; sleep?: Sleep; onPage?: PageHook } = {},
): AsyncGenerator<T> {
  const sleep = opts.sleep ?? realSleep;
  const created = await client.call<{ exportId: string }>({
    method: 'POST', path: `/${kind}/export`, profileId, contentType: MEDIA[kind], accept: MEDIA[kind],
    body: { adProductFilter: opts.adProducts ?? ['SPONSORED_PRODUCTS'] }, what: `export ${kind}`,
  });
  opts.onPage?.({ requestId: created.requestId, count: 0 });
  const deadline = Date.now() + (opts.maxWaitMs ?? 30 * 60_000);
  let url: string | null = null;
  while (!url) {
    const s = await client.call<{ status: string; url?: string; failureReason?: string }>({ method: 'GET', path: `/${kind}/export/${created.body.exportId}`, profileId, accept: MEDIA[kind], what: `export ${kind} status` });
    if (s.body.status === 'COMPLETED' && s.body.url) url = s.body.url;
    else if (s.body.status === 'FAILED') throw new AmazonApiError('server', `export ${kind} failed: ${s.body.failureReason ?? 'no reason given'}`, { requestId: s.requestId, hint: 'run the sync again; a list-based sync is the fallback' });
    else if (Date.now() > deadline) throw new AmazonApiError('server', `export ${kind} still ${s.body.status} after ${Math.round((opts.maxWaitMs ?? 1_800_000) / 60_000)} minutes`, { requestId: s.requestId, hint: 'Amazon is slow; try again later' });
    else await sleep(opts.pollMs ?? 2_000);
  }
  const file = await client.download(url, `export ${kind} download`);
  const gunzip = file.body.pipe(createGunzip());
  file.body.on('error', (err) => gunzip.destroy(err));
  let n = 0;
  for await (const el of jsonArrayElements(gunzip)) {
    if (!el.ok) throw new AmazonApiError('bad_request', `export ${kind} has an unreadable element: ${el.error}`, { hint: 'the export file is damaged; run the sync again' });
    n++;
    yield el.value as T;
  }
  opts.onPage?.({ requestId: null, count: n });
}
