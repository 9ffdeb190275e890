/**
 * Amazon Attribution (the Attribution model: GET /attribution/advertisers, /publishers,
 * /tags/macroTag, /tags/nonMacroTemplateTag and POST /attribution/report), played per its model
 * and the guides en-us/guides/amazon-attribution/{how-to,troubleshooting}.md:
 * - a profile Amazon Attribution does not serve is refused 403 (troubleshooting.md: "I get a 403
 *   error … This advertiser profile may not be eligible");
 * - the tag resources take publisher ids (repeated, the model's form style) and refuse a publisher
 *   of the other kind or an advertiser not the profile's (the model's 400 "publisher not
 *   supported, or invalid advertiser identifier");
 * - the report is synchronous and paged by count (1 to 5,000) and cursorId; PRODUCTS takes no
 *   groupBy and starts within 90 days, PERFORMANCE within 13 months; brb_bonus_amount only when
 *   asked for, and then only with groupBy CAMPAIGN or ADGROUP (all the model's ReportRequestBody).
 */
import { createHash } from 'node:crypto';
import type { SandboxState } from '../state.ts';
import { hash32 } from '../hash-random.ts';
import type { Ctx, Endpoint } from './endpoint.ts';
import {
  PERFORMANCE_METRICS,
  PRODUCTS_METRICS,
  PUBLISHERS,
  attributionAdvertisers,
  attributionCreatives,
  attributionEligible,
  attributionTag,
  creativeDay,
  metricText,
  productsOf,
  type Creative,
} from '../attribution-data.ts';

const DOC = 'en-us/guides/amazon-attribution/how-to.md';

function requireAttribution(ctx: Ctx): boolean {
  if (attributionEligible(ctx.state.dataset, ctx.profile!)) return true;
  ctx.fail(403, 'This profileID is not authorized to use Amazon Attribution');
  return false;
}

/** A query list as the model sends it: the key repeated (form style, explode true). */
const listOf = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => String(x));

function tagEndpoint(macro: boolean): Endpoint {
  return {
    method: 'GET',
    path: macro ? '/attribution/tags/macroTag' : '/attribution/tags/nonMacroTemplateTag',
    doc: `${DOC} (Attribution tags resource)`,
    summary: macro ? 'macro tags for publishers that support macros' : 'template tags for publishers without macros',
    handle: (ctx) => {
      if (!requireAttribution(ctx)) return;
      const advertisers = attributionAdvertisers(ctx.state.dataset, ctx.profile!);
      const pubIds = listOf(ctx.query.publisherIds);
      for (const id of pubIds) {
        const pub = PUBLISHERS.find((x) => x.id === id);
        if (!pub) return ctx.fail(400, `Invalid publisher identifier: ${id}`);
        if (pub.macroEnabled !== macro)
          return ctx.fail(
            400,
            `Publisher ${id} (${pub.name}) is not supported by this resource: use ${pub.macroEnabled ? 'macroTag' : 'nonMacroTemplateTag'}`,
          );
      }
      const wanted = listOf(ctx.query.advertiserIds);
      for (const id of wanted)
        if (!advertisers.some((a) => a.advertiserId === id))
          return ctx.fail(400, `Invalid advertiser identifier: ${id}`);
      const map: Record<string, Record<string, string>> = {};
      for (const a of advertisers) {
        if (wanted.length && !wanted.includes(a.advertiserId)) continue;
        map[a.advertiserId] = Object.fromEntries(
          pubIds.map((id) => [
            id,
            attributionTag(
              a.advertiserId,
              PUBLISHERS.find((x) => x.id === id)!,
            ),
          ]),
        );
      }
      // Calling a tag resource is what turns measurement on for the profile (how-to.md's warning).
      ctx.state.attributionTagged.add(ctx.profileId!);
      ctx.ok({ advertiserAttributionTagMap: map });
    },
  };
}

type ReportType = 'PERFORMANCE' | 'PRODUCTS';
type GroupBy = 'CAMPAIGN' | 'ADGROUP' | 'CREATIVE';

export interface AttributionReportAsk {
  reportType: ReportType;
  groupBy: GroupBy | null;
  metrics: string[];
  startDate: string;
  endDate: string;
  advertiserIds: Set<string> | null;
}

const ymd = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
const compact = (iso: string) => iso.replaceAll('-', '');

function daysBetween(startIso: string, endIso: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${startIso}T00:00:00Z`); t <= Date.parse(`${endIso}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The rows of a report, metrics as numbers (cents for money); `final(day)`: every restatement in. */
export function attributionRows(
  state: SandboxState,
  p: number,
  ask: AttributionReportAsk,
  final: (day: string) => boolean,
): Record<string, string | number>[] {
  const ds = state.dataset;
  // Nothing is measured for a profile whose tags were never retrieved.
  if (!state.attributionTagged.has(ds.profiles()[p]!.profileId)) return [];
  const away = state.faults.restateAwayEvery;
  const today = state.now().toISOString().slice(0, 10);
  const end = ymd(ask.endDate) < today ? ymd(ask.endDate) : today;
  const creatives = attributionCreatives(ds, p, ask.advertiserIds ?? undefined);
  const profile = ds.profiles()[p]!;
  const rows = new Map<string, Record<string, string | number>>();
  const add = (key: string, dims: Record<string, string>, values: Record<string, number>) => {
    const row = rows.get(key) ?? { ...dims, ...Object.fromEntries(ask.metrics.map((m) => [m, 0])) };
    for (const m of ask.metrics) row[m] = (row[m] as number) + (values[m] ?? 0);
    rows.set(key, row);
  };
  for (const day of daysBetween(ymd(ask.startDate), end)) {
    const date = compact(day);
    for (const cr of creatives) {
      if (
        away > 0 &&
        final(day) &&
        hash32(ds.seed, `attr-away|${cr.advertiserId}|${cr.creativeId}|${cr.campaignId}`) % away === 0
      )
        continue;
      const v = creativeDay(ds, cr, day, final(day));
      if (ask.reportType === 'PERFORMANCE') {
        const level = ask.groupBy ?? 'CREATIVE';
        const dims: Record<string, string> = { date, advertiserName: cr.advertiserName, campaignId: cr.campaignId };
        if (level !== 'CAMPAIGN') Object.assign(dims, { adGroupId: cr.adGroupId, publisher: cr.publisher.name });
        if (level === 'CREATIVE') dims.creativeId = cr.creativeId;
        add(Object.values(dims).join('|'), dims, v);
      } else {
        for (const prod of productsOf(ds, cr)) {
          const dims = productDims(cr, prod, date, profile.marketplaceStringId);
          const promoted = prod.type === 'PROMOTED';
          // A promoted ASIN's row carries the promoted measures, a halo ASIN's the brand-halo ones.
          const values = Object.fromEntries(
            PRODUCTS_METRICS.map((m) => [m, /^brandHalo/.test(m) === !promoted ? (v[m] ?? 0) : 0]),
          );
          add(Object.values(dims).join('|'), dims, values);
        }
      }
    }
  }
  return [...rows.values()];
}

function productDims(cr: Creative, prod: { asin: string; type: string }, date: string, marketplace: string) {
  return {
    date,
    advertiserName: cr.advertiserName,
    brandName: cr.advertiserName.replace(/ \(brand \d+\)$/, ''),
    marketplace,
    campaignId: cr.campaignId,
    adGroupId: cr.adGroupId,
    publisher: cr.publisher.name,
    productAsin: prod.asin,
    productName: `Sandbox product ${prod.asin}`,
    productGroup: 'Home',
    productCategory: 'Kitchen',
    productSubcategory: 'Storage',
    productConversionType: prod.type === 'PROMOTED' ? 'Promoted' : 'Brand Halo',
  };
}

/** A report request checked as Amazon checks it, or the 400 it answers. */
export function checkReportAsk(
  body: Record<string, unknown>,
  today: string,
): { ask: AttributionReportAsk } | { problem: string } {
  const reportType = (body.reportType ?? 'PERFORMANCE') as string;
  if (reportType !== 'PERFORMANCE' && reportType !== 'PRODUCTS')
    return { problem: `Invalid reportType ${reportType}: PERFORMANCE or PRODUCTS` };
  if (reportType === 'PRODUCTS' && body.groupBy !== undefined)
    return { problem: 'groupBy applies to PERFORMANCE reports only: a PRODUCTS request must not include it' };
  const groupBy = reportType === 'PERFORMANCE' ? ((body.groupBy as GroupBy | undefined) ?? 'CREATIVE') : null;
  for (const k of ['startDate', 'endDate'] as const) {
    const v = body[k];
    if (typeof v !== 'string' || !/^\d{8}$/.test(v) || Number.isNaN(Date.parse(`${ymd(v)}T00:00:00Z`)))
      return { problem: `${k} must be a date written YYYYMMDD (got ${JSON.stringify(v)})` };
  }
  const start = ymd(body.startDate as string);
  const end = ymd(body.endDate as string);
  if (end < start) return { problem: `endDate ${body.endDate} is before startDate ${body.startDate}` };
  // Products: the last 90 days; performance: the last 13 months, by the calendar.
  const back = new Date(`${today}T00:00:00Z`);
  if (reportType === 'PRODUCTS') back.setUTCDate(back.getUTCDate() - 90);
  else back.setUTCMonth(back.getUTCMonth() - 13);
  const earliest = back.toISOString().slice(0, 10);
  if (start < earliest)
    return {
      problem:
        reportType === 'PRODUCTS'
          ? 'For reportType PRODUCTS, startDate can only be within last 90 days from current date'
          : 'startDate is outside the available reporting dates (last 13 months)',
    };
  const allowed: readonly string[] = reportType === 'PRODUCTS' ? PRODUCTS_METRICS : PERFORMANCE_METRICS;
  const asked =
    typeof body.metrics === 'string' && body.metrics.trim()
      ? body.metrics.split(',').map((s) => s.trim())
      : allowed.filter((m) => m !== 'brb_bonus_amount');
  const bad = asked.find((m) => !allowed.includes(m));
  if (bad !== undefined) return { problem: `Invalid metric ${bad} for reportType ${reportType}` };
  if (asked.includes('brb_bonus_amount') && groupBy === 'CREATIVE')
    return { problem: 'brb_bonus_amount requires groupBy ADGROUP or CAMPAIGN' };
  const advertiserIds =
    typeof body.advertiserIds === 'string' && body.advertiserIds.trim()
      ? new Set(body.advertiserIds.split(',').map((s) => s.trim()))
      : null;
  return {
    ask: {
      reportType,
      groupBy,
      metrics: [...new Set(asked)],
      startDate: compact(start),
      endDate: compact(end),
      advertiserIds,
    },
  };
}

interface Cursor {
  request: string;
  offset: number;
  finalDays: Set<string>;
}

const cursors = new WeakMap<SandboxState, Map<string, Cursor>>();
let cursorSeq = 0;

export function attributionEndpoints(state: SandboxState): Endpoint[] {
  const open = cursors.get(state) ?? new Map<string, Cursor>();
  cursors.set(state, open);
  return [
    {
      method: 'GET',
      path: '/attribution/advertisers',
      doc: `${DOC} (Advertisers resource)`,
      summary: 'the Amazon Attribution advertisers of a profile',
      handle: (ctx) => {
        if (!requireAttribution(ctx)) return;
        ctx.ok({ advertisers: attributionAdvertisers(state.dataset, ctx.profile!) });
      },
    },
    {
      method: 'GET',
      path: '/attribution/publishers',
      doc: `${DOC} (Publishers resource)`,
      summary: 'every publisher Amazon Attribution supports',
      handle: (ctx) => {
        if (!requireAttribution(ctx)) return;
        ctx.ok({ publisher: PUBLISHERS.map((p) => ({ ...p })) });
      },
    },
    tagEndpoint(true),
    tagEndpoint(false),
    {
      method: 'POST',
      path: '/attribution/report',
      doc: `${DOC} (Reports resource); en-us/guides/amazon-attribution/troubleshooting.md`,
      summary: 'an Amazon Attribution performance or products report, a page at a time',
      handle: (ctx) => {
        if (!requireAttribution(ctx)) return;
        const body = ctx.body as Record<string, unknown>;
        const today = state.now().toISOString().slice(0, 10);
        const checked = checkReportAsk(body, today);
        if ('problem' in checked) return ctx.fail(400, checked.problem);
        const { ask } = checked;
        // A fault: Amazon refuses this report (failReportTypes names it as
        // attribution:<reportType>[:<groupBy>], optionally @<advertiserId> for one advertiser's only).
        const name = `attribution:${ask.reportType}${ask.groupBy ? `:${ask.groupBy}` : ''}`;
        const named = [name, `attribution:${ask.reportType}`];
        for (const id of ask.advertiserIds ?? []) named.push(...named.slice(0, 2).map((n) => `${n}@${id}`));
        if (state.faults.failReportTypes.some((t) => named.includes(t)))
          return ctx.fail(400, `Invalid request: ${name} could not be generated (sandbox fault)`);
        const advertisers = attributionAdvertisers(state.dataset, ctx.profile!);
        for (const id of ask.advertiserIds ?? [])
          if (!advertisers.some((a) => a.advertiserId === id))
            return ctx.fail(400, `Invalid advertiser identifier: ${id}`);
        const { cursorId: _c, count: _n, ...rest } = body;
        const request = createHash('sha256')
          .update(`${ctx.profileId}|${JSON.stringify(rest)}`)
          .digest('hex');
        let cursor: Cursor;
        const cursorId = typeof body.cursorId === 'string' ? body.cursorId : '';
        if (cursorId) {
          const found = open.get(cursorId);
          if (!found || found.request !== request) return ctx.fail(400, `Invalid cursorId ${cursorId}`);
          cursor = found;
        } else {
          // A new pull: each day's pull counted, its first pull carrying what was measured so far.
          const finalDays = new Set<string>();
          for (const day of daysBetween(ymd(ask.startDate), ymd(ask.endDate))) {
            const key = `attribution|${ctx.profileId}|${[...(ask.advertiserIds ?? ['*'])].sort().join(',')}|${ask.reportType}|${ask.groupBy ?? '-'}|${day}`;
            if ((state.pulls.get(key) ?? 0) > 0) finalDays.add(day);
            state.pulls.set(key, (state.pulls.get(key) ?? 0) + 1);
          }
          cursor = { request, offset: 0, finalDays };
        }
        // brb_bonus_amount is omitted for an advertiser not enrolled in Brand Referral Bonus (sellers are, here).
        const seller = state.dataset.profiles()[ctx.profile!]!.accountInfo.type === 'seller';
        const metrics = seller ? ask.metrics : ask.metrics.filter((m) => m !== 'brb_bonus_amount');
        const rows = attributionRows(state, ctx.profile!, { ...ask, metrics }, (d) => cursor.finalDays.has(d));
        const count = typeof body.count === 'number' ? body.count : 5000;
        const page = rows.slice(cursor.offset, cursor.offset + count);
        const more = cursor.offset + page.length < rows.length;
        if (cursorId) open.delete(cursorId);
        let next = '';
        if (more) {
          next = createHash('sha256')
            .update(`${request}|${cursor.offset + count}|${++cursorSeq}`)
            .digest('base64url');
          open.set(next, { ...cursor, offset: cursor.offset + count });
        }
        ctx.ok({
          reports: page.map((r) =>
            Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? metricText(k, v) : v])),
          ),
          size: page.length,
          // Empty on the last page: python-amazon-ad-api pops cursorId from every answer (ad_api/api/attribution.py).
          cursorId: next,
        });
      },
    },
  ];
}
