/**
 * The metrics of Amazon Attribution's two reports, as the Attribution model lists them: its
 * ReportRequestBody.metrics description holds a table per reportType (AmazonAttribution_prod_3p.json
 * has no enum for them). Read once from the model, so the sandbox and the client share Amazon's list.
 */
import { modelDocument, resolvePointer } from './models.ts';

export type AttributionReportType = 'PERFORMANCE' | 'PRODUCTS';

function metricsOf(reportType: AttributionReportType): readonly string[] {
  const node = resolvePointer(
    modelDocument('Attribution'),
    '#/components/schemas/ReportRequestBody/properties/metrics',
  ) as { description: string };
  const sections = node.description.split(/\|Metrics for reportType`(\w+)`\|/);
  const at = sections.indexOf(reportType);
  if (at < 0) throw new Error(`the Attribution model lists no metrics for ${reportType}`);
  const metrics = sections[at + 1]!.split('\n')
    .map((line) => /^\|\s*([A-Za-z][\w-]*)\s*\|/.exec(line)?.[1])
    .filter((m): m is string => m !== undefined && m !== 'Metric');
  if (!metrics.length) throw new Error(`no ${reportType} metrics read from the Attribution model`);
  return metrics;
}

/** Every metric of the PERFORMANCE report, brb_bonus_amount (asked for by name only) among them. */
export const ATTRIBUTION_PERFORMANCE_METRICS = metricsOf('PERFORMANCE');
export const ATTRIBUTION_PRODUCTS_METRICS = metricsOf('PRODUCTS');
