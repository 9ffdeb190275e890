/**
 * What ClickHouse must hold, computed from the sandbox: for one profile, report type
 * and day, the sums of the rows Amazon (the sandbox) serves for the request our client
 * sends. Tests and the chaos judge compare against this, never against our own output.
 */
import assert from 'node:assert/strict';
import { checkCreateReport, reportRows, totalsOf, type Sandbox } from '@adsync/sandbox';
import { reportRequestBody } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';

export interface DayTotals {
  impressions: number;
  clicks: number;
  cost: number;
  sales: number;
  orders: number;
  units: number;
  rows: number;
}

export const ZERO: DayTotals = { impressions: 0, clicks: 0, cost: 0, sales: 0, orders: 0, units: 0, rows: 0 };

/** The sandbox's totals for one day, at the data generation it served last (restatement). */
export function expectedDayTotals(
  sandbox: Sandbox,
  profileId: string,
  reportTypeId: string,
  day: string,
  generation: number,
): DayTotals {
  const p = sandbox.state.dataset.profileIndex(profileId);
  assert.ok(p !== null, `the sandbox has no profile ${profileId}`);
  // The request our client sends, through the sandbox's own engine.
  const checked = checkCreateReport(
    reportRequestBody({ reportTypeId, startDate: day, endDate: day }),
    new Date().toISOString().slice(0, 10),
  );
  assert.ok(checked.ok, `${reportTypeId}: ${!checked.ok && checked.detail}`);
  const t = totalsOf(
    reportRows(sandbox.state.dataset, {
      profileIndex: p,
      startDate: day,
      endDate: day,
      configuration: checked.request.configuration,
      generationOf: () => generation,
    }),
  );
  const m = REPORT_TYPES[reportTypeId]!.metrics;
  const s = (c: string) => t.sums[c] ?? 0;
  return {
    impressions: s('impressions'),
    clicks: s('clicks'),
    cost: s('cost'),
    sales: s(m.sales),
    orders: s(m.orders),
    units: s(m.units),
    rows: t.rows,
  };
}
