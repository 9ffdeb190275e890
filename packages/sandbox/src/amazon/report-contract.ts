/**
 * What the Reporting API v3 accepts, as Amazon documents it — not as our client
 * happens to ask. The catalogue is Amazon's (contract/reporting-v3.json, copied
 * from the report-type pages); the refusal wordings are the ones Amazon answers
 * with, quoted in comments with where they were seen. Pure, so every rule has a
 * unit test.
 */
import { readFileSync } from 'node:fs';
import { addDays, daysBetween } from '@adsync/shared/calendar';
import { operationById } from '@adsync/amazon-models/operations';
import { modelDocument, resolvePointer } from '@adsync/amazon-models/models';
import { LENIENCIES } from './leniencies.ts';

export interface AmazonReportType {
  adProduct: string;
  source: string;
  maxDays: number;
  retentionDays: number;
  timeUnits: string[];
  formats: string[];
  baseColumns: string[];
  /** Columns the column dictionary (columns.md) gives the type although its page does not list them. */
  dictionaryColumns?: string[];
  /** Filters whose `values` are null take any value (DSP's advertiserId). */
  groupBys: Record<string, { columns: string[]; filters: { field: string; values: string[] | null }[] }>;
}

const contractFile = (name: string) => JSON.parse(readFileSync(new URL(`./contract/${name}`, import.meta.url), 'utf8'));

type ColumnSpec = { type: 'Integer' | 'Decimal' | 'String' | null; window?: string; basis?: string };

/**
 * Amazon's catalogue: the report-type pages and the column dictionary
 * (contract/reporting-v3.json), then what Amazon's own OpenAPI model shows it
 * accepting in its request examples (a column or filter an example sends is one
 * Amazon takes for that type and groupBy), then the documented leniencies.
 */
function catalogue(): { types: Record<string, AmazonReportType>; columns: Record<string, ColumnSpec> } {
  const types: Record<string, AmazonReportType> = contractFile('reporting-v3.json').reportTypes;
  const columns: Record<string, ColumnSpec> = contractFile('reporting-v3-columns.json').columns;
  for (const t of Object.values(types)) t.baseColumns = [...t.baseColumns, ...(t.dictionaryColumns ?? [])];
  const examples = operationById('OfflineReport', 'createAsyncReport')?.requestBody?.examples ?? [];
  for (const ex of examples) {
    const c = (ex.value as { configuration?: ReportConfiguration }).configuration;
    const t = c && types[c.reportTypeId];
    if (!c || !t) continue;
    const known = allowedColumns(t, c.groupBy);
    for (const g of c.groupBy) {
      const gb = (t.groupBys[g] ??= { columns: [], filters: [] });
      gb.columns.push(...c.columns.filter((col) => !known.has(col) && !gb.columns.includes(col)));
      for (const f of c.filters ?? []) {
        const have = gb.filters.find((x) => x.field === f.field);
        if (!have) gb.filters.push({ field: f.field, values: [...f.values] });
        else if (have.values) have.values = [...new Set([...have.values, ...f.values])];
      }
    }
    if (!t.timeUnits.includes(c.timeUnit)) t.timeUnits.push(c.timeUnit);
    if (!t.formats.includes(c.format)) t.formats.push(c.format);
  }
  for (const l of LENIENCIES)
    for (const rc of l.reportColumns ?? [])
      for (const id of rc.reportTypeIds) {
        const t = types[id];
        if (!t) throw new Error(`leniency ${l.id} names report type ${id}, which the catalogue lacks`);
        t.baseColumns.push(...rc.columns.filter((c) => !t.baseColumns.includes(c)));
        for (const c of rc.columns) columns[c] ??= { type: rc.type };
      }
  return { types, columns };
}

const CATALOGUE = catalogue();
export const AMAZON_REPORT_TYPES: Record<string, AmazonReportType> = CATALOGUE.types;
export const AMAZON_REPORT_COLUMNS: Record<string, ColumnSpec> = CATALOGUE.columns;

/** adProduct values the API knows: the Reporting model's enum (AsyncReportAdProduct). */
export const AD_PRODUCTS = (
  resolvePointer(modelDocument('OfflineReport'), '#/components/schemas/AsyncReportAdProduct') as { enum: string[] }
).enum;

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const realDate = (s: unknown): s is string => {
  if (typeof s !== 'string' || !DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
};

/** What a type's page requires of its groupBys together, beyond each being the type's: the problem, or null. */
const GROUP_BY_RULES: Record<string, ((groupBy: string[]) => string | null)[]> = {
  // reach.md: ["advertiser"] or ["advertiser", "supplySource"] or ["advertiser", "frequencyGroup"].
  dspReachFrequency: [
    (g) =>
      g.includes('advertiser') && g.length <= 2 && (g.length === 1 || g.some((x) => x !== 'advertiser'))
        ? null
        : 'must be advertiser, advertiser and supplySource, or advertiser and frequencyGroup',
  ],
  dspInventory: [
    (g) => (g.includes('supplySource') || g.includes('site') ? null : 'must include supplySource or site'),
    (g) => (!g.includes('placementSize') || g.includes('site') ? null : 'placementSize needs site'),
  ],
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
  // Groupings a type's page requires (inventory.md: "either supplySource or site is required";
  // columns.md: placementSize "only available when 'site' is a dimension"). Amazon's wording is
  // not documented; this names the rule.
  for (const rule of GROUP_BY_RULES[c.reportTypeId] ?? []) {
    const problem = rule(c.groupBy);
    if (problem) return fail(`configuration groupBy ${problem}`);
  }
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
            `Allowed filters for groupBy ${g}: (${spec.groupBys[g]!.filters.map((x) => `field: ${x.field}, values: ${x.values?.join(', ') ?? 'any'}`).join('; ') || 'none'})`,
        )
        .join('. ');
      // "configuration filters includes fields: (campaignStatus) which are invalid for groupBys: advertiser. Allowed filters for groupBy advertiser: (…)" (#73).
      return fail(
        `configuration filters includes fields: (${f.field}) which are invalid for groupBys: ${notFor.join(', ')}. ${allowedText}`,
      );
    }
    const known = spec.groupBys[c.groupBy[0]!]!.filters.find((x) => x.field === f.field)!.values;
    const badValues = known ? f.values.filter((v) => !known.includes(v)) : [];
    if (badValues.length || f.values.length === 0)
      return fail(
        `configuration filters includes invalid values for field ${f.field}: (${badValues.join(', ')}). Allowed values: (${known?.join(', ') ?? 'any'})`,
      );
  }
  if (!spec.timeUnits.includes(c.timeUnit))
    return fail(`configuration timeUnit is invalid. Allowed values: (${spec.timeUnits.join(', ')})`);
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
