/**
 * What the Reporting API v3 accepts, as Amazon documents it — not as our client
 * happens to ask. The catalogue is Amazon's (contract/reporting-v3.json, copied
 * from the report-type pages); the refusal wordings are the ones Amazon answers
 * with, quoted in comments with where they were seen. Pure, so every rule has a
 * unit test.
 */
import { readFileSync } from 'node:fs';
import { addDays, daysBetween } from '@adsync/shared/calendar';

export interface AmazonReportType {
  adProduct: string;
  source: string;
  maxDays: number;
  retentionDays: number;
  timeUnits: string[];
  formats: string[];
  baseColumns: string[];
  groupBys: Record<string, { columns: string[]; filters: { field: string; values: string[] }[] }>;
}

const contractFile = (name: string) => JSON.parse(readFileSync(new URL(`./contract/${name}`, import.meta.url), 'utf8'));

export const AMAZON_REPORT_TYPES: Record<string, AmazonReportType> = contractFile('reporting-v3.json').reportTypes;
export const AMAZON_REPORT_COLUMNS: Record<
  string,
  { type: 'Integer' | 'Decimal' | 'String' | null; window?: string; basis?: string }
> = contractFile('reporting-v3-columns.json').columns;

/** adProduct values the API knows (the enum of AsyncReportConfiguration.adProduct). */
export const AD_PRODUCTS = [
  'ALL',
  'DEMAND_SIDE_PLATFORM',
  'SPONSORED_BRANDS',
  'SPONSORED_DISPLAY',
  'SPONSORED_PRODUCTS',
  'SPONSORED_TELEVISION',
];

export interface ReportFilter {
  field: string;
  values: string[];
}

export interface ReportConfiguration {
  adProduct: string;
  reportTypeId: string;
  groupBy: string[];
  columns: string[];
  timeUnit: 'DAILY' | 'SUMMARY';
  format: string;
  filters: ReportFilter[] | null;
}

export interface CreateReportRequest {
  name: string | null;
  startDate: string;
  endDate: string;
  configuration: ReportConfiguration;
}

export type Checked = { ok: true; request: CreateReportRequest } | { ok: false; status: number; detail: string };

/** Reporting answers errors as {"code": "<status>", "detail": "..."} (a string code, singular "detail"). */
export const reportingError = (status: number, detail: string) => ({ code: String(status), detail });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const realDate = (s: unknown): s is string => {
  if (typeof s !== 'string' || !DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
};

/** Every column a configuration may ask for: the type's base columns and those of each of its groupBys. */
export function allowedColumns(spec: AmazonReportType, groupBy: string[]): Set<string> {
  return new Set([...spec.baseColumns, ...groupBy.flatMap((g) => spec.groupBys[g]?.columns ?? [])]);
}

/**
 * Validates a create-report body against Amazon's rules, in the order Amazon
 * reports them: missing or mistyped required fields, the report type, the ad
 * product, groupBy, columns, filters, time unit, format, then the dates.
 */
export function checkCreateReport(body: unknown, today: string): Checked {
  const fail = (detail: string, status = 400): Checked => ({ ok: false, status, detail });
  if (!isObject(body)) return fail('Request body must be a JSON object');
  const cfg = body.configuration;
  // "Required fields are invalid or missing: configuration adProduct" (amzn/ads-advanced-tools-docs#231).
  const missing: string[] = [];
  if (!realDate(body.startDate)) missing.push('startDate');
  if (!realDate(body.endDate)) missing.push('endDate');
  if (body.name !== undefined && body.name !== null && typeof body.name !== 'string') missing.push('name');
  if (!isObject(cfg)) missing.push('configuration');
  else {
    if (typeof cfg.adProduct !== 'string' || !AD_PRODUCTS.includes(cfg.adProduct))
      missing.push('configuration adProduct');
    if (typeof cfg.reportTypeId !== 'string' || !cfg.reportTypeId) missing.push('configuration reportTypeId');
    // groupBy and columns: "This field cannot be null or empty." (offline-report-prod-3p, AsyncReportConfiguration)
    if (!isStringArray(cfg.groupBy) || cfg.groupBy.length === 0) missing.push('configuration groupBy');
    if (!isStringArray(cfg.columns) || cfg.columns.length === 0) missing.push('configuration columns');
    if (typeof cfg.timeUnit !== 'string') missing.push('configuration timeUnit');
    if (typeof cfg.format !== 'string') missing.push('configuration format');
    if (
      cfg.filters !== undefined &&
      cfg.filters !== null &&
      !(
        Array.isArray(cfg.filters) &&
        cfg.filters.every((f) => isObject(f) && typeof f.field === 'string' && isStringArray(f.values))
      )
    )
      missing.push('configuration filters');
  }
  if (missing.length) return fail(`Required fields are invalid or missing: ${missing.join(', ')}`);
  const c = cfg as unknown as ReportConfiguration & { filters?: ReportFilter[] | null };

  // "configuration reportTypeId is unknown or invalid" (amzn/ads-advanced-tools-docs#375).
  const spec = AMAZON_REPORT_TYPES[c.reportTypeId];
  if (!spec) return fail('configuration reportTypeId is unknown or invalid');
  // "configuration adProduct is not supported for this report type" (amzn/ads-advanced-tools-docs#231).
  if (c.adProduct !== spec.adProduct) return fail('configuration adProduct is not supported for this report type');
  // "configuration invalid groupBy values: (campaigns). Allowed values: (campaign, adGroup, targeting)" (#175).
  const badGroups = c.groupBy.filter((g) => !spec.groupBys[g]);
  if (badGroups.length)
    return fail(
      `configuration invalid groupBy values: (${badGroups.join(', ')}). Allowed values: (${Object.keys(spec.groupBys).join(', ')})`,
    );
  // "configuration columns includes invalid values: (lineItemName, …)" (#278).
  const allowed = allowedColumns(spec, c.groupBy);
  const badColumns = [...new Set(c.columns.filter((col) => !allowed.has(col)))];
  if (badColumns.length)
    return fail(
      `configuration columns includes invalid values: (${badColumns.join(', ')}). Allowed values: (${[...allowed].join(', ')})`,
    );
  // A filter must be supported by every groupBy of the request (get-started.md, "filters").
  for (const f of c.filters ?? []) {
    const notFor = c.groupBy.filter((g) => !spec.groupBys[g]!.filters.some((x) => x.field === f.field));
    if (notFor.length) {
      const allowedText = notFor
        .map(
          (g) =>
            `Allowed filters for groupBy ${g}: (${spec.groupBys[g]!.filters.map((x) => `field: ${x.field}, values: ${x.values.join(', ')}`).join('; ') || 'none'})`,
        )
        .join('. ');
      // "configuration filters includes fields: (campaignStatus) which are invalid for groupBys: advertiser. Allowed filters for groupBy advertiser: (…)" (#73).
      return fail(
        `configuration filters includes fields: (${f.field}) which are invalid for groupBys: ${notFor.join(', ')}. ${allowedText}`,
      );
    }
    const known = spec.groupBys[c.groupBy[0]!]!.filters.find((x) => x.field === f.field)!.values;
    const badValues = f.values.filter((v) => !known.includes(v));
    if (badValues.length || f.values.length === 0)
      return fail(
        `configuration filters includes invalid values for field ${f.field}: (${badValues.join(', ')}). Allowed values: (${known.join(', ')})`,
      );
  }
  if (!spec.timeUnits.includes(c.timeUnit))
    return fail(`configuration timeUnit is invalid. Allowed values: (${spec.timeUnits.join(', ')})`);
  // DAILY rows carry `date`; SUMMARY rows cover the window and carry startDate/endDate (get-started.md, "timeUnit and supported columns").
  if (c.timeUnit === 'SUMMARY' && c.columns.includes('date'))
    return fail(
      'configuration columns includes date, which is not a supported column for the SUMMARY time unit; use startDate and endDate',
    );
  if (!spec.formats.includes(c.format))
    return fail(`configuration format is invalid. Allowed values: (${spec.formats.join(', ')})`);

  const startDate = body.startDate as string;
  const endDate = body.endDate as string;
  if (endDate < startDate) return fail(`endDate (${endDate}) must not be before startDate (${startDate})`);
  const days = daysBetween(startDate, endDate) + 1;
  // "startDate to endDate range (32 days) must not exceed maximum range (31 days)" (observed answer).
  if (days > spec.maxDays)
    return fail(`startDate to endDate range (${days} days) must not exceed maximum range (${spec.maxDays} days)`);
  const oldest = addDays(today, -(spec.retentionDays - 1));
  if (startDate < oldest)
    return fail(
      `startDate (${startDate}) is older than the ${spec.retentionDays} days of data kept for ${c.reportTypeId}; the earliest startDate is ${oldest}`,
    );
  if (startDate > today) return fail(`startDate (${startDate}) must not be in the future`);
  return {
    ok: true,
    request: {
      name: typeof body.name === 'string' ? body.name : null,
      startDate,
      endDate,
      configuration: {
        adProduct: c.adProduct,
        reportTypeId: c.reportTypeId,
        groupBy: [...c.groupBy],
        columns: [...c.columns],
        timeUnit: c.timeUnit,
        format: c.format,
        filters: c.filters ?? null,
      },
    },
  };
}
