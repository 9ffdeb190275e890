/** Reporting API v3 calls: create (a 425 duplicate takes over Amazon's report id), status. */
import type { AmazonAdsClient } from './ads-client.ts';
import { AmazonApiError } from './errors.ts';
import { REPORT_TYPES } from './report-catalog.ts';
import type { AnswerOf, AsyncReport, CreateReportRequest } from './model-types.ts';
import type { operations as Reporting } from '@adsync/amazon-models/types/OfflineReport';
import { PermanentError } from '../runtime/errors.ts';
import type { ReportOwner } from '../reports/report-owner.ts';

/**
 * Who a report is asked as: a profile id (Amazon-Advertising-API-Scope), or a DSP advertiser
 * account (Amazon-Ads-AccountId, no scope; guides/reporting/dsp/creating-reports.md).
 */
export type ReportScope = string | ReportOwner;

const scopeHeaders = (scope: ReportScope): { profileId?: string; accountId?: string } =>
  typeof scope === 'string'
    ? { profileId: scope }
    : scope.profileId !== undefined
      ? { profileId: scope.profileId }
      : { accountId: scope.dspAccountId };

/** The media types of the Reporting v3 model (OfflineReport_prod_3p): one for the request, one per answer. */
export const CREATE_REPORT_MEDIA_TYPE = 'application/vnd.createasyncreportrequest.v3+json';
const CREATED_MEDIA_TYPE = 'application/vnd.createasyncreportresponse.v3+json';
const REPORT_MEDIA_TYPE = 'application/vnd.getasyncreportresponse.v3+json';

export interface ReportRequestSpec {
  reportTypeId: string;
  startDate: string;
  endDate: string;
  columns?: string[];
  timeUnit?: 'DAILY' | 'SUMMARY';
  name?: string;
  /** DSP: the advertisers the report covers (filter advertiserId); required for DSP types. */
  advertiserIds?: string[];
  /** GZIP_JSON (the default); CSV for DSP types, which Amazon also gives as CSV. */
  format?: 'GZIP_JSON' | 'CSV';
}

/** A report as GET /reporting/reports/{reportId} answers it (the model's AsyncReport). */
export type AmazonReportStatus = AsyncReport;

/** The exact body Amazon expects for a report type, with the columns it accepts. */
export function reportRequestBody(spec: ReportRequestSpec): CreateReportRequest {
  const t = REPORT_TYPES[spec.reportTypeId];
  if (!t) throw new PermanentError(`unknown report type ${spec.reportTypeId}`, { code: 'ADSYNC_UNKNOWN_REPORT_TYPE' });
  const dsp = t.adProduct === 'DEMAND_SIDE_PLATFORM';
  if (dsp && !spec.advertiserIds?.length)
    throw new PermanentError(`${spec.reportTypeId} needs the DSP advertisers it is for`, {
      code: 'ADSYNC_DSP_ADVERTISERS_REQUIRED',
    });
  if (spec.format === 'CSV' && !dsp)
    throw new PermanentError(`${spec.reportTypeId} comes as GZIP_JSON only; CSV is DSP's`, {
      code: 'ADSYNC_REPORT_FORMAT',
    });
  return {
    name: spec.name ?? `adsync ${spec.reportTypeId} ${spec.startDate}..${spec.endDate}`,
    startDate: spec.startDate,
    endDate: spec.endDate,
    configuration: {
      adProduct: t.adProduct,
      groupBy: t.groupBy,
      columns: spec.columns ?? t.columns,
      reportTypeId: t.amazonReportTypeId,
      timeUnit: spec.timeUnit ?? t.timeUnit,
      // The model's enum names GZIP_JSON only; its DSP examples and guides also send CSV.
      format: (spec.format ?? 'GZIP_JSON') as 'GZIP_JSON',
      ...(dsp ? { filters: [{ field: 'advertiserId', values: spec.advertiserIds! }] } : {}),
    },
  } satisfies CreateReportRequest;
}

const DUPLICATE = /duplicate of\s*:\s*([\w-]+)/i;

/** Creates a report, or adopts the one Amazon says this request duplicates. */
export async function createReport(
  client: AmazonAdsClient,
  scope: ReportScope,
  spec: ReportRequestSpec,
): Promise<{ reportId: string; duplicate: boolean; requestId: string | null }> {
  try {
    const res = await client.call<AnswerOf<Reporting['createAsyncReport']>>({
      method: 'POST',
      path: '/reporting/reports',
      ...scopeHeaders(scope),
      contentType: CREATE_REPORT_MEDIA_TYPE,
      accept: CREATED_MEDIA_TYPE,
      body: reportRequestBody(spec),
      what: `create ${spec.reportTypeId} ${spec.startDate}..${spec.endDate}`,
      noRetryAfter: true,
    });
    return { reportId: res.body.reportId, duplicate: false, requestId: res.requestId };
  } catch (err) {
    if (err instanceof AmazonApiError && err.kind === 'duplicate') {
      const detail = String((err.body as { detail?: string } | null)?.detail ?? '');
      const m = DUPLICATE.exec(detail);
      if (m?.[1]) return { reportId: m[1], duplicate: true, requestId: err.requestId };
    }
    throw err;
  }
}

export async function getReportStatus(
  client: AmazonAdsClient,
  scope: ReportScope,
  reportId: string,
): Promise<AmazonReportStatus> {
  const res = await client.call<AmazonReportStatus>({
    method: 'GET',
    path: `/reporting/reports/${reportId}`,
    ...scopeHeaders(scope),
    accept: REPORT_MEDIA_TYPE,
    what: `report ${reportId} status`,
  });
  return res.body;
}
