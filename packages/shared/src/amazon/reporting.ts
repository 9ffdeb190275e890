/** Reporting API v3 calls: create (a 425 duplicate takes over Amazon's report id), status. */
import type { AmazonAdsClient } from './ads-client.ts';
import { AmazonApiError } from './errors.ts';
import { REPORT_TYPES } from './report-catalog.ts';

export const CREATE_REPORT_MEDIA_TYPE = 'application/vnd.createasyncreportrequest.v3+json';

export interface ReportRequestSpec {
  reportTypeId: string;
  startDate: string;
  endDate: string;
  columns?: string[];
  timeUnit?: 'DAILY' | 'SUMMARY';
  name?: string;
}

export interface AmazonReportStatus {
  reportId: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
  url: string | null;
  urlExpiresAt?: string | null;
  fileSize: number | null;
  failureReason: string | null;
  startDate: string;
  endDate: string;
}

/** The exact body Amazon expects for a report type, with the columns it accepts. */
export function reportRequestBody(spec: ReportRequestSpec) {
  const t = REPORT_TYPES[spec.reportTypeId];
  if (!t) throw new Error(`unknown report type ${spec.reportTypeId}`);
  return {
    name: spec.name ?? `adsync ${spec.reportTypeId} ${spec.startDate}..${spec.endDate}`,
    startDate: spec.startDate,
    endDate: spec.endDate,
    configuration: {
      adProduct: t.adProduct,
      groupBy: t.groupBy,
      columns: spec.columns ?? t.columns,
      reportTypeId: t.amazonReportTypeId,
      timeUnit: spec.timeUnit ?? 'DAILY',
      format: 'GZIP_JSON',
    },
  };
}

const DUPLICATE = /duplicate of\s*:\s*([\w-]+)/i;

/** Creates a report, or adopts the one Amazon says this request duplicates. */
export async function createReport(
  client: AmazonAdsClient,
  profileId: string,
  spec: ReportRequestSpec,
): Promise<{ reportId: string; duplicate: boolean; requestId: string | null }> {
  try {
    const res = await client.call<{ reportId: string }>({
      method: 'POST',
      path: '/reporting/reports',
      profileId,
      contentType: CREATE_REPORT_MEDIA_TYPE,
      accept: CREATE_REPORT_MEDIA_TYPE,
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
  profileId: string,
  reportId: string,
): Promise<AmazonReportStatus> {
  const res = await client.call<AmazonReportStatus>({
    method: 'GET',
    path: `/reporting/reports/${reportId}`,
    profileId,
    what: `report ${reportId} status`,
  });
  return res.body;
}
