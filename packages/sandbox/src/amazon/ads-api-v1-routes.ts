/**
 * Amazon Ads API v1's reads (AdsApiV1 model: POST /adsApi/v1/query/{campaigns,adGroups,ads,targets}),
 * as Amazon DSP's entities answer them: a DSP advertiser named by Amazon-Ads-AccountId (with
 * Amazon-Ads-ClientId) reads its campaigns (the reports' orders), ad groups (line items), ads
 * (creatives) and targets, filtered by `adProductFilter` (AMAZON_DSP), ids and state, a page of
 * `maxResults` at a time with an opaque `nextToken`. A filter on a field DSP's entities lack (goal,
 * portfolio, keyword, match type, product, language) matches none. The sandbox's v1 holds DSP
 * entities only: a
 * profile's sponsored ads are played by their own APIs, so a v1 read for another ad product or
 * under a profile scope answers an empty list (docs/amazon-contract.md).
 */
import type { SandboxState } from '../state.ts';
import type { DspAdvertiser } from '../dataset.ts';
import type { Ctx, Endpoint } from './endpoint.ts';
import { pageTokens, textMatcher } from './page-tokens.ts';

type Kind = 'campaigns' | 'adGroups' | 'ads' | 'targets';
type Row = Record<string, unknown>;

/** The model's largest page per read (QueryCampaignRequest and QueryTargetRequest 5000, the others 1000). */
const MAX_RESULTS: Record<Kind, number> = { campaigns: 5000, adGroups: 1000, ads: 1000, targets: 5000 };
const DEFAULT_RESULTS = 100;

/** The four kinds of one advertiser, rendered on the AdsApiV1 model's Campaign, AdGroup, Ad and Target. */
export function dspV1Entities(a: DspAdvertiser, epochMs: number): Record<Kind, Row[]> {
  const created = new Date(epochMs - 150 * 86_400_000).toISOString();
  const updated = new Date(epochMs - 2 * 86_400_000).toISOString();
  const common = {
    adProduct: 'AMAZON_DSP',
    creationDateTime: created,
    lastUpdatedDateTime: updated,
    marketplaceScope: 'SINGLE_MARKETPLACE',
  };
  const out: Record<Kind, Row[]> = { campaigns: [], adGroups: [], ads: [], targets: [] };
  for (const o of a.orders) {
    out.campaigns.push({
      ...common,
      campaignId: o.orderId,
      name: o.name,
      state: 'ENABLED',
      startDateTime: `${o.startDate}T00:00:00Z`,
      endDateTime: `${o.endDate}T23:59:59Z`,
    });
    for (const [l, li] of o.lineItems.entries()) {
      out.adGroups.push({
        ...common,
        adGroupId: li.lineItemId,
        campaignId: o.orderId,
        name: li.name,
        // The second line item of each order is paused: a state filter has something to leave out.
        state: l === 1 ? 'PAUSED' : 'ENABLED',
      });
      for (const c of li.creatives)
        out.ads.push({
          ...common,
          adId: c.creativeId,
          adGroupId: li.lineItemId,
          campaignId: o.orderId,
          name: c.name,
          state: 'ENABLED',
          adType: c.type === 'VIDEO' ? 'VIDEO' : 'DISPLAY',
          creative: c.type === 'VIDEO' ? { videoCreative: {} } : { displayCreative: {} },
        });
      // An ad-group-level target: the model uses campaignId "only for campaign-level targets".
      out.targets.push({
        ...common,
        targetId: `${li.lineItemId}1`,
        adGroupId: li.lineItemId,
        targetLevel: 'AD_GROUP',
        state: 'ENABLED',
        negative: false,
        targetType: 'AUDIENCE',
        targetDetails: { audienceTarget: { audienceId: { defaultValue: `${li.lineItemId}7` }, groupId: '1' } },
      });
    }
  }
  return out;
}

const ID_FIELD: Record<Kind, string> = {
  campaigns: 'campaignId',
  adGroups: 'adGroupId',
  ads: 'adId',
  targets: 'targetId',
};

/** `<field>Filter: {include: [...]}` filters the sandbox applies, by the entity field they name. */
const FILTERS: Record<string, string> = {
  campaignIdFilter: 'campaignId',
  adGroupIdFilter: 'adGroupId',
  adIdFilter: 'adId',
  targetIdFilter: 'targetId',
  stateFilter: 'state',
  targetTypeFilter: 'targetType',
  negativeFilter: 'negative',
  marketplaceScopeFilter: 'marketplaceScope',
};

const tokens = pageTokens('v1');

function query(state: SandboxState, kind: Kind, ctx: Ctx): void {
  const body = ctx.body as Record<string, { include?: unknown[] } | number | string | undefined>;
  const product = (body.adProductFilter as { include: string[] }).include;
  const advertiser =
    ctx.accountId && product.includes('AMAZON_DSP')
      ? state.dataset.dspAdvertisers(ctx.profile!).find((a) => a.advertiserId === ctx.accountId)
      : undefined;
  let rows = advertiser ? dspV1Entities(advertiser, state.dataset.epochMs)[kind] : [];
  for (const [name, field] of Object.entries(FILTERS)) {
    const include = (body[name] as { include?: unknown[] } | undefined)?.include;
    if (include) rows = rows.filter((r) => include.includes(r[field]));
  }
  const byName = textMatcher(body.nameFilter);
  if (byName) rows = rows.filter((r) => typeof r.name === 'string' && byName([r.name]));
  // The model's other filters (goal, portfolio, keyword, match type, product, language) name fields
  // DSP's entities do not have: none of them matches.
  for (const [name, f] of Object.entries(body))
    if (name.endsWith('Filter') && !(name in FILTERS) && name !== 'nameFilter' && name !== 'adProductFilter')
      if ((f as { include?: unknown[] } | undefined)?.include?.length) rows = [];
  const start = tokens.decode(body.nextToken);
  if (start === null || start > rows.length) return ctx.fail(400, `nextToken ${String(body.nextToken)} is not valid`);
  const size = Math.min((body.maxResults as number | undefined) ?? DEFAULT_RESULTS, MAX_RESULTS[kind]);
  const page = rows.slice(start, start + size);
  const next = start + size < rows.length ? { nextToken: tokens.encode(start + size) } : {};
  ctx.ok({ [kind]: page, ...next, ...(kind === 'targets' ? { totalResults: rows.length } : {}) });
}

export function adsApiV1Endpoints(state: SandboxState): Endpoint[] {
  return (['campaigns', 'adGroups', 'ads', 'targets'] as const).map((kind) => ({
    method: 'POST' as const,
    path: `/adsApi/v1/query/${kind}`,
    doc: 'Amazon Ads API v1 (AdsApiV1 model); amzn/ads-advanced-tools-docs unified-campaign-management-migration-skills',
    summary: `the ${kind} of an Amazon DSP advertiser (${ID_FIELD[kind]})`,
    handle: (ctx: Ctx) => query(state, kind, ctx),
  }));
}
