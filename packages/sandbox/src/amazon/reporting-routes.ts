/**
 * Reporting API v3 (en-us/guides/reporting/v3/get-started.md): POST /reporting/reports
 * validates against Amazon's catalogue and answers 200 with the report in PENDING;
 * an identical request while one is generating answers 425 naming it; GET moves
 * PENDING → PROCESSING → COMPLETED (or FAILED) with a presigned S3 URL that expires;
 * DELETE cancels a PENDING report. Files are gzip JSON arrays (or gzip CSV where the
 * type allows CSV), ids as JSON numbers.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { route, send, type Route } from '../http-kit.ts';
import type { SandboxState } from '../state.ts';
import type { ReportRecord } from './reporting-state.ts';
import { addDays } from '@adsync/shared/calendar';
import type { Ctx, Endpoint } from './endpoint.ts';
import { xlsxOf } from './xlsx.ts';
import { checkCreateReport } from './report-contract.ts';
import { FINAL_GENERATION, reportRows, totalsOf, type Row } from './report-engine.ts';

export const CREATE_REPORT_MEDIA_TYPE = 'application/vnd.createasyncreportrequest.v3+json';

type Status = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';

function statusOf(state: SandboxState, r: ReportRecord): Status {
  if (r.cancelled) return 'FAILED';
  const age = state.now().getTime() - r.createdAt;
  const gen = state.faults.reportGenerationMs;
  if (age < gen) return 'PENDING';
  if (age < gen * 2) return 'PROCESSING';
  return r.failed ? 'FAILED' : 'COMPLETED';
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function complete(state: SandboxState, r: ReportRecord): void {
  if (r.file) return;
  const cfg = r.request.configuration;
  const generations: Record<string, number> = {};
  for (let d = r.request.startDate; d <= r.request.endDate; d = addDays(d, 1)) {
    // The sandbox has no clock: a report's n-th pull of a day is its n-th look at that day, counted
    // per type and grouping, so two groupings of one type asked in the same run see the same day.
    const key = `${r.owner}|${cfg.reportTypeId}|${[...cfg.groupBy].sort().join('+')}|${d}`;
    generations[d] = state.faults.restatement
      ? Math.min(state.pulls.get(key) ?? 0, FINAL_GENERATION)
      : FINAL_GENERATION;
    state.pulls.set(key, (state.pulls.get(key) ?? 0) + 1);
  }
  r.generations = generations;
  const rows: Row[] = [
    ...reportRows(state.dataset, {
      profileIndex: r.profileIndex,
      startDate: r.request.startDate,
      endDate: r.request.endDate,
      configuration: cfg,
      generationOf: (d) => generations[d] ?? FINAL_GENERATION,
      omitCampaigns: state.omittedCampaigns(cfg.reportTypeId, r.profileIndex),
      restateAwayEvery: state.faults.restateAwayEvery,
      dspAccountId: r.dspAccountId,
    }),
  ];
  const every = state.faults.badRowEvery;
  // Totals count only the rows a loader can use; corrupted ones must be dead-lettered.
  r.totals = totalsOf(every ? rows.filter((_, i) => (i + 1) % every !== 0) : rows);
  r.badRows = every ? Math.floor(rows.length / every) : 0;
  if (every) for (let i = every - 1; i < rows.length; i += every) rows[i] = { ...rows[i], date: 'not-a-date' };
  // XLSX is a zip already; the other formats are gzipped text (GZIP_JSON, and CSV as DSP delivers it).
  r.file =
    cfg.format === 'XLSX'
      ? xlsxOf(cfg.columns, rows)
      : gzipSync(
          cfg.format === 'CSV'
            ? [cfg.columns.join(','), ...rows.map((row) => cfg.columns.map((c) => csvCell(row[c])).join(','))].join(
                '\n',
              ) + '\n'
            : JSON.stringify(rows),
        );
}

/** The file name a report downloads as, by its format. */
const FILE_SUFFIX: Record<string, string> = { GZIP_JSON: '.json.gz', CSV: '.csv.gz', XLSX: '.xlsx' };
const fileOf = (r: ReportRecord) => `${r.reportId}${FILE_SUFFIX[r.request.configuration.format] ?? '.json.gz'}`;

function presign(state: SandboxState, r: ReportRecord): string {
  const reportId = r.reportId;
  const amzDate = state
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const expires = state.faults.downloadUrlTtlSec;
  const sig = createHmac('sha256', state.signingKey).update(`${reportId}|${amzDate}|${expires}`).digest('hex');
  return `${state.baseUrl()}/_download/reports/${fileOf(r)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${amzDate}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
}

/** The report as GET /reporting/reports/{id} answers it: every key present, null where empty. */
export function reportView(state: SandboxState, r: ReportRecord) {
  const status = statusOf(state, r);
  if (status === 'COMPLETED') complete(state, r);
  const ts = (ms: number) => new Date(ms).toISOString();
  const gen = state.faults.reportGenerationMs;
  return {
    configuration: r.request.configuration,
    createdAt: ts(r.createdAt),
    endDate: r.request.endDate,
    failureReason:
      status === 'FAILED'
        ? r.cancelled
          ? 'Report was cancelled'
          : 'Report generation failed due to an internal error. Please retry.'
        : null,
    fileSize: status === 'COMPLETED' ? r.file!.length : null,
    generatedAt: status === 'COMPLETED' ? ts(r.createdAt + gen * 2) : null,
    name: r.request.name,
    reportId: r.reportId,
    startDate: r.request.startDate,
    status,
    updatedAt: ts(status === 'PENDING' ? r.createdAt : r.createdAt + gen * (status === 'PROCESSING' ? 1 : 2)),
    url: status === 'COMPLETED' ? presign(state, r) : null,
    urlExpiresAt: status === 'COMPLETED' ? ts(state.now().getTime() + state.faults.downloadUrlTtlSec * 1000) : null,
  };
}

const ownerOf = (ctx: Ctx) => (ctx.accountId ? `account ${ctx.accountId}` : `profile ${ctx.profileId}`);

export function reportingEndpoints(state: SandboxState): Endpoint[] {
  const doc = 'en-us/guides/reporting/v3/get-started.md';
  return [
    {
      method: 'POST',
      path: '/reporting/reports',
      doc,
      summary: 'create a report',
      handle: (ctx) => {
        const checked = checkCreateReport(ctx.body, state.now().toISOString().slice(0, 10));
        if (!checked.ok) return ctx.fail(checked.status, checked.detail);
        const request = checked.request;
        const cfg = request.configuration;
        // Amazon-Ads-AccountId names a DSP advertiser account: it reaches DSP reports only.
        if (ctx.accountId && cfg.adProduct !== 'DEMAND_SIDE_PLATFORM')
          return ctx.fail(
            400,
            `configuration.adProduct ${cfg.adProduct} needs Amazon-Advertising-API-Scope naming a profile; Amazon-Ads-AccountId names a DSP advertiser account`,
          );
        if (cfg.adProduct === 'DEMAND_SIDE_PLATFORM') {
          // guides/reporting/dsp/creating-reports.md: with Amazon-Ads-AccountId, the advertiser goes
          // "in the Amazon-Ads-AccountId header AND in the configuration.filters.values array", one
          // advertiser per report; under a profile's scope, "up to 100 advertiserIds".
          const ids = cfg.filters?.find((f) => f.field === 'advertiserId')?.values ?? [];
          if (ctx.accountId && (ids.length !== 1 || ids[0] !== ctx.accountId))
            return ctx.fail(
              400,
              `configuration.filters advertiserId must name exactly the advertiser of Amazon-Ads-AccountId (${ctx.accountId}): one advertiser per report`,
            );
          if (ids.length > 100)
            return ctx.fail(
              400,
              `configuration.filters advertiserId names ${ids.length} advertisers; at most 100 per report`,
            );
        }
        const owner = ownerOf(ctx);
        const dedupeKey = JSON.stringify([
          owner,
          request.startDate,
          request.endDate,
          cfg.reportTypeId,
          [...cfg.groupBy].sort(),
          [...cfg.columns].sort(),
          cfg.timeUnit,
          cfg.format,
          cfg.filters,
        ]);
        const dup = state.reportsByKey.get(dedupeKey);
        if (dup && ['PENDING', 'PROCESSING'].includes(statusOf(state, dup))) {
          // Seen identically in many clients' logs; the reportId sits only inside "detail".
          return ctx.fail(425, `The Request is a duplicate of : ${dup.reportId}`);
        }
        const r: ReportRecord = {
          reportId: randomUUID(),
          owner,
          profileIndex: ctx.profile!,
          dspAccountId: ctx.accountId,
          request,
          createdAt: state.now().getTime(),
          failed: state.faults.failReportTypes.includes(cfg.reportTypeId),
          cancelled: false,
          generations: null,
          file: null,
          totals: null,
          badRows: 0,
          dedupeKey,
        };
        state.reports.set(r.reportId, r);
        state.reportsByKey.set(dedupeKey, r);
        state.counters.reportsCreated++;
        ctx.ok(reportView(state, r));
      },
    },
    {
      method: 'GET',
      path: '/reporting/reports/{reportId}',
      doc,
      summary: 'report status',
      handle: (ctx) => {
        const r = state.reports.get(ctx.req.params.reportId!);
        if (!r || r.owner !== ownerOf(ctx)) return ctx.fail(404, `Report ${ctx.req.params.reportId} not found`);
        ctx.ok(reportView(state, r));
      },
    },
    {
      method: 'DELETE',
      path: '/reporting/reports/{reportId}',
      doc: 'offline-report-prod-3p deleteAsyncReport',
      summary: 'cancel a pending report',
      handle: (ctx) => {
        const r = state.reports.get(ctx.req.params.reportId!);
        if (!r || r.owner !== ownerOf(ctx)) return ctx.fail(404, `Report ${ctx.req.params.reportId} not found`);
        if (statusOf(state, r) !== 'PENDING')
          return ctx.fail(400, `Report ${r.reportId} is ${statusOf(state, r)}; only a PENDING report can be cancelled`);
        r.cancelled = true;
        ctx.ok({ code: '200', detail: 'Report cancelled', reportId: r.reportId });
      },
    },
  ];
}

/** The presigned S3 download: no Amazon headers; an XML error when the signature is wrong or the URL has expired. */
export function reportDownloadRoutes(state: SandboxState): Route[] {
  return [
    route('GET', '/_download/reports/{file}', async (req, res) => {
      const reportId = req.params.file!.replace(/\.(json\.gz|csv\.gz|xlsx)$/, '');
      const r = state.reports.get(reportId);
      const xml = (code: string, msg: string) =>
        send(
          res,
          403,
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${msg}</Message></Error>`,
          'application/xml',
        );
      const amzDate = req.query.get('X-Amz-Date') ?? '';
      const expires = req.query.get('X-Amz-Expires') ?? '';
      const sig = createHmac('sha256', state.signingKey).update(`${reportId}|${amzDate}|${expires}`).digest('hex');
      if (!r || !r.file || req.query.get('X-Amz-Signature') !== sig)
        return xml(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        );
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
      const signedAt = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : 0;
      if (state.now().getTime() > signedAt + Number(expires) * 1000) return xml('AccessDenied', 'Request has expired');
      state.counters.downloads++;
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': r.file.length,
        etag: `"${r.reportId}"`,
      });
      res.end(r.file);
    }),
  ];
}
