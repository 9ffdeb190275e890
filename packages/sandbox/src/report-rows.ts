/**
 * Report rows as the Reporting API v3 writes them: one object per entity and day
 * with the requested columns only, ids as JSON numbers (the entity API has
 * strings), money as decimals. Rows with no impressions are left out, as Amazon does.
 *
 * Restatement: conversions for a day grow with each later pull (generation 0 → 3),
 * the way attributed sales arrive over 1, 7 and 28 days.
 */
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { minorUnits } from '@adsync/shared/amazon/currency';
import { addDays } from '@adsync/shared/calendar';
import { Dataset, idOf } from './dataset.ts';
import { intBetween, unit } from './hash-random.ts';

export const FINAL_GENERATION = 3;
const RESTATEMENT_FACTOR = [0.6, 0.8, 0.9, 1];

export interface Metrics {
  impressions: number;
  clicks: number;
  cost: number;
  orders: number;
  sales: number;
  units: number;
}

/** Enabled entities deliver every day; paused and archived ones deliver nothing (no row, as Amazon omits it). */
export function metricsFor(ds: Dataset, entityKey: string, date: string, generation: number, state = 'ENABLED'): Metrics | null {
  const key = `${entityKey}@${date}`;
  if (state.toUpperCase() !== 'ENABLED') return null;
  const impressions = intBetween(ds.seed, `${key}:imp`, 1, 3000);
  const clicks = Math.floor(impressions * (0.002 + unit(ds.seed, `${key}:ctr`) * 0.05));
  const cost = Math.round(clicks * (0.2 + unit(ds.seed, `${key}:cpc`) * 2.8) * 100) / 100;
  const finalOrders = Math.floor(clicks * (0.04 + unit(ds.seed, `${key}:cvr`) * 0.2));
  const orders = Math.floor(finalOrders * RESTATEMENT_FACTOR[Math.min(generation, FINAL_GENERATION)]!);
  const price = 5 + unit(ds.seed, `${key}:price`) * 55;
  const sales = Math.round(orders * price * 100) / 100;
  const units = orders + (orders > 0 ? intBetween(ds.seed, `${key}:extra`, 0, Math.ceil(orders / 3)) : 0);
  return { impressions, clicks, cost, orders, sales, units };
}

export interface ReportRowSource {
  profileIndex: number;
  reportTypeId: string;
  startDate: string;
  endDate: string;
  columns: string[];
  generationOf: (date: string) => number;
}

type Row = Record<string, string | number | null>;

function daysOf(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Streams the rows of one report; nothing is held beyond the current row. */
export function* reportRows(ds: Dataset, src: ReportRowSource, now: Date): Generator<Row> {
  const spec = REPORT_TYPES[src.reportTypeId];
  if (!spec) throw new Error(`unknown report type ${src.reportTypeId}`);
  const p = src.profileIndex;
  const profile = ds.profiles()[p]!;
  const days = daysOf(src.startDate, src.endDate);
  const m = spec.metrics;

  const emit = (base: Record<string, string | number | null>, entityKey: string, date: string, state: string): Row | null => {
    const metrics = metricsFor(ds, entityKey, date, src.generationOf(date), state);
    if (!metrics) return null;
    if (minorUnits(profile.currencyCode) === 0) {
      // Amazon reports zero-decimal currencies (JPY) in whole units.
      metrics.cost = Math.round(metrics.cost);
      metrics.sales = Math.round(metrics.sales);
    }
    const all: Record<string, string | number | null> = {
      ...base,
      date,
      startDate: date,
      endDate: date,
      campaignBudgetCurrencyCode: profile.currencyCode,
      impressions: metrics.impressions,
      clicks: metrics.clicks,
      cost: metrics.cost,
      [m.sales]: metrics.sales,
      [m.orders]: metrics.orders,
      [m.units]: metrics.units,
    };
    const row: Row = {};
    for (const c of src.columns) row[c] = all[c] ?? null;
    return row;
  };

  const s = ds.scale;
  for (const date of days) {
    if (spec.reportTypeId === 'spCampaigns' || spec.reportTypeId === 'sbCampaigns' || spec.reportTypeId === 'sdCampaigns') {
      const kind = spec.reportTypeId.slice(0, 2) as 'sp' | 'sb' | 'sd';
      const n = kind === 'sp' ? s.campaignsPerProfile : kind === 'sb' ? s.sbCampaignsPerProfile : s.sdCampaignsPerProfile;
      for (let c = 0; c < n; c++) {
        const camp = kind === 'sp' ? ds.spCampaign(p, c, now) : kind === 'sb' ? ds.sbCampaign(p, c, now) : null;
        const sd = kind === 'sd' ? ds.sdCampaign(p, c, now) : null;
        const id = idOf.campaign(kind, p, c);
        const row = emit({ campaignId: Number(id), campaignName: camp?.name ?? sd!.name, campaignStatus: (camp?.state ?? sd!.state).toUpperCase(), campaignBudgetAmount: kind === 'sp' ? (camp as ReturnType<Dataset['spCampaign']>).budget.budget : (camp as { budget: number } | null)?.budget ?? sd!.budget, campaignBudgetType: 'DAILY_BUDGET' }, id, date, String(camp?.state ?? sd!.state));
        if (row) yield row;
      }
    } else if (spec.reportTypeId === 'spAdvertisedProduct') {
      for (let a = 0; a < ds.count(p, 'ads'); a++) {
        const ad = ds.spProductAd(p, a, now);
        const row = emit({ campaignId: Number(ad.campaignId), adGroupId: Number(ad.adGroupId), adId: Number(ad.adId), advertisedAsin: ad.asin, advertisedSku: ad.sku }, ad.adId, date, ad.state);
        if (row) yield row;
      }
    } else if (spec.reportTypeId === 'spTargeting' || spec.reportTypeId === 'spSearchTerm') {
      for (let k = 0; k < ds.count(p, 'keywords'); k++) {
        const kw = ds.spKeyword(p, k, now);
        const base = { campaignId: Number(kw.campaignId), adGroupId: Number(kw.adGroupId), keywordId: Number(kw.keywordId), keyword: kw.keywordText, matchType: kw.matchType, targeting: kw.keywordText, keywordType: kw.matchType };
        if (spec.reportTypeId === 'spTargeting') {
          const row = emit(base, kw.keywordId, date, kw.state);
          if (row) yield row;
        } else {
          for (let t = 0; t < s.searchTermsPerKeyword; t++) {
            const row = emit({ ...base, searchTerm: `${kw.keywordText} ${['best', 'cheap', 'for men', 'for women', 'bulk'][t % 5]}` }, `${kw.keywordId}:st${t}`, date, kw.state);
            if (row) yield row;
          }
        }
      }
      if (spec.reportTypeId === 'spTargeting') {
        for (let t = 0; t < ds.count(p, 'productTargets'); t++) {
          const pt = ds.spProductTarget(p, t, now);
          const expr = `asin="${pt.expression[0]!.value}"`;
          const row = emit({ campaignId: Number(pt.campaignId), adGroupId: Number(pt.adGroupId), keywordId: Number(pt.targetId), keyword: expr, matchType: 'TARGETING_EXPRESSION', targeting: expr, keywordType: 'TARGETING_EXPRESSION' }, pt.targetId, date, pt.state);
          if (row) yield row;
        }
      }
    }
  }
}

export interface ReportTotals {
  rows: number;
  impressions: number;
  clicks: number;
  costMicros: number;
  salesMicros: number;
  orders: number;
  units: number;
}

/** Exact totals of a report, in the units the loader stores (money as micros, rounded per row). */
export function totalsOf(rows: Iterable<Row>, reportTypeId: string): ReportTotals {
  const m = REPORT_TYPES[reportTypeId]!.metrics;
  const t: ReportTotals = { rows: 0, impressions: 0, clicks: 0, costMicros: 0, salesMicros: 0, orders: 0, units: 0 };
  for (const r of rows) {
    t.rows++;
    t.impressions += Number(r.impressions ?? 0);
    t.clicks += Number(r.clicks ?? 0);
    t.costMicros += Math.round(Number(r.cost ?? 0) * 1e6);
    t.salesMicros += Math.round(Number(r[m.sales] ?? 0) * 1e6);
    t.orders += Number(r[m.orders] ?? 0);
    t.units += Number(r[m.units] ?? 0);
  }
  return t;
}
