/**
 * Entity reads, in each family's wire format: profiles; Portfolios v3; the SP v3
 * lists (campaigns … campaign negative targets); SB v4 lists and the SB v3
 * keyword and target reads; Sponsored Display's startIndex/count lists; budget
 * rules. What each accepts and answers is summarised, with its source page, in
 * docs/amazon-contract.md.
 */
import type { AdProductKind, Entity, EntityKind } from '../dataset.ts';
import type { SandboxState } from '../state.ts';
import type { Ctx, Endpoint } from './endpoint.ts';
import * as view from './views.ts';
import { pageTokens, textMatcher } from './page-tokens.ts';

const { encode: encodeToken, decode: decodeToken } = pageTokens('o');

/** An entity field among listed values, or a test of its own (text, ASIN and parent filters). */
type Filter = { field: keyof Entity; include: string[]; lower?: boolean } | { test: (e: Entity) => boolean };
type Filters = Filter[];

const passes = (f: Filter, e: Entity) =>
  'test' in f
    ? f.test(e)
    : f.include.includes(f.lower ? String(e[f.field] ?? '').toLowerCase() : String(e[f.field] ?? ''));

/** A text filter of SP v3 over some of an entity's values (page-tokens.ts textMatcher). */
function textFilter(f: unknown, valuesOf: (e: Entity) => string[]): Filter | null {
  const matches = textMatcher(f);
  return matches ? { test: (e) => matches(valuesOf(e)) } : null;
}

/** Pages over the entities of some kinds, applying filters, from a raw position. */
function page(
  state: SandboxState,
  p: number,
  product: AdProductKind | null,
  kinds: EntityKind[],
  filters: Filters,
  start: number,
  max: number,
): { items: Entity[]; next: number | null } {
  const ds = state.dataset;
  const sizes = kinds.map((k) => ds.count(product, k));
  const total = sizes.reduce((a, b) => a + b, 0);
  const items: Entity[] = [];
  let pos = start;
  for (; pos < total && items.length < max; pos++) {
    let i = pos;
    let k = 0;
    while (i >= sizes[k]!) i -= sizes[k++]!;
    const e = ds.entity(product, kinds[k]!, p, i);
    if (filters.every((f) => passes(f, e))) items.push(e);
  }
  return { items, next: pos < total ? pos : null };
}

function bodyFilters(body: Record<string, unknown>, map: Record<string, keyof Entity>): Filters {
  const out: Filters = [];
  for (const [name, field] of Object.entries(map)) {
    const f = body[name] as { include?: string[] } | undefined;
    if (f?.include && (f.include.length > 0 || name === 'stateFilter')) out.push({ field, include: f.include });
  }
  return out;
}

interface V3ListSpec {
  path: string;
  key: string;
  product: AdProductKind | null;
  kinds: EntityKind[];
  doc: string;
  /** Body filter name → entity field. */
  filters: Record<string, keyof Entity>;
  render: (e: Entity, ctx: Ctx, extended: boolean) => Record<string, unknown>;
  /** The page size when the request names none. */
  pageSize: number;
  /** Filters that are more than a field among values (text, ASIN, the campaign's targeting type). */
  more?: (body: Record<string, unknown>) => (Filter | null)[];
}

const invalidToken = (ctx: Ctx, token: unknown) =>
  ctx.fail(400, { message: 'nextToken is invalid', keyword: 'token', location: '$.nextToken', trigger: String(token) });

/** POST …/list with body filters and nextToken: SP v3, Portfolios v3, SB v4. */
function v3List(state: SandboxState, s: V3ListSpec): Endpoint {
  return {
    method: 'POST',
    path: s.path,
    doc: s.doc,
    summary: `list ${s.key}`,
    handle: (ctx) => {
      const body = ctx.body as Record<string, unknown>;
      const start = decodeToken(body.nextToken);
      if (start === null) return invalidToken(ctx, body.nextToken);
      const filters = [...bodyFilters(body, s.filters), ...(s.more?.(body) ?? []).filter((f) => f !== null)];
      const nameF = body.nameFilter as { include?: string[]; queryTermMatchType?: string } | undefined;
      const { items, next } = page(
        state,
        ctx.profile!,
        s.product,
        s.kinds,
        filters,
        start,
        Number(body.maxResults ?? s.pageSize),
      );
      const named = nameF?.include?.length
        ? items.filter((e) =>
            nameF.include!.some((n) =>
              nameF.queryTermMatchType === 'EXACT_MATCH'
                ? e.name === n
                : String(e.name ?? '')
                    .toLowerCase()
                    .includes(n.toLowerCase()),
            ),
          )
        : items;
      const extended = body.includeExtendedDataFields === true || body.includeExtendedDataFields === 'true';
      const out: Record<string, unknown> = { [s.key]: named.map((e) => s.render(e, ctx, extended)) };
      if (filters.length === 0 && !nameF?.include?.length)
        out.totalResults = s.kinds.reduce((a, k) => a + state.dataset.count(s.product, k), 0);
      if (next !== null) out.nextToken = encodeToken(next);
      ctx.ok(out);
    },
  };
}

const csv = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

interface V2ListSpec {
  path: string;
  product: AdProductKind;
  kinds: EntityKind[];
  doc: string;
  /** Query filter name → entity field (comma lists). */
  filters: Record<string, keyof Entity>;
  /** States listed when the request names none (lower case). */
  defaultStates: string[] | null;
  render: (e: Entity) => Record<string, unknown>;
  pageSize: number;
  /** Query filters that are more than a field among listed values. */
  more?: (query: Record<string, unknown>) => (Filter | null)[];
}

/** GET with startIndex/count answering a bare array: Sponsored Display, SB v3 keywords. */
function v2List(state: SandboxState, s: V2ListSpec): Endpoint {
  return {
    method: 'GET',
    path: s.path,
    doc: s.doc,
    summary: `list ${s.kinds.join(', ')}`,
    handle: (ctx) => {
      const startIndex = Number(ctx.query.startIndex ?? 0);
      const count = Number(ctx.query.count ?? s.pageSize);
      const states = csv(ctx.query.stateFilter as string | undefined)?.map((x) => x.toLowerCase()) ?? s.defaultStates;
      const filters: Filters = states ? [{ field: 'state', include: states, lower: true }] : [];
      for (const [name, field] of Object.entries(s.filters)) {
        const v = csv(ctx.query[name] as string | undefined);
        if (v) filters.push({ field, include: v });
      }
      for (const f of s.more?.(ctx.query) ?? []) if (f) filters.push(f);
      // v2 pages over the filtered list, so the filter applies before paging.
      const all = page(state, ctx.profile!, s.product, s.kinds, filters, 0, startIndex + count).items;
      ctx.ok(all.slice(startIndex, startIndex + count).map(s.render));
    },
  };
}

/** POST …/list with {filters: [{filterType, values}], maxResults, nextToken}: SB v3 targets and negative targets. */
function sbTargetList(state: SandboxState, path: string, key: string, kind: EntityKind): Endpoint {
  return {
    method: 'POST',
    path,
    doc: 'en-us/guides/sponsored-brands/targeting/product-targeting.md',
    summary: `list SB ${key}`,
    handle: (ctx) => {
      const body = ctx.body as {
        nextToken?: string;
        maxResults?: number;
        filters?: { filterType: string; values: string[] }[];
      };
      const start = decodeToken(body.nextToken);
      if (start === null) return invalidToken(ctx, body.nextToken);
      const filters: Filters = [];
      for (const f of body.filters ?? []) {
        if (f.filterType === 'TARGETING_STATE')
          filters.push({ field: 'state', include: f.values.map((v) => v.toLowerCase()), lower: true });
        if (f.filterType === 'CAMPAIGN_ID') filters.push({ field: 'campaignId', include: f.values });
        if (f.filterType === 'AD_GROUP_ID') filters.push({ field: 'adGroupId', include: f.values });
        if (f.filterType === 'CREATIVE_TYPE')
          filters.push({ test: (e) => f.values.includes(state.dataset.sbCreativeType(e.campaignId!)) });
      }
      const { items, next } = page(state, ctx.profile!, 'sb', [kind], filters, start, body.maxResults ?? 100);
      ctx.ok({ [key]: items.map(view.sbV3), ...(next !== null ? { nextToken: encodeToken(next) } : {}) });
    },
  };
}

function budgetRuleEndpoints(state: SandboxState, product: 'sp' | 'sb' | 'sd'): Endpoint[] {
  const doc = `BudgetRules API (${product.toUpperCase()}), GetSPBudgetRulesForAdvertiser and friends`;
  const rules = (p: number) => [...state.dataset.all(product, 'budgetRule', p)];
  const ruleOf = (ctx: Ctx) => {
    const id = String(ctx.req.params.budgetRuleId);
    const rule = rules(ctx.profile!).find((r) => r.id === id);
    if (!rule) ctx.fail(404, `budget rule ${id} not found`);
    return rule ?? null;
  };
  return [
    {
      method: 'GET',
      path: `/${product}/budgetRules`,
      doc,
      summary: 'budget rules of the advertiser',
      handle: (ctx) => {
        const start = decodeToken(ctx.query.nextToken);
        if (start === null) return invalidToken(ctx, ctx.query.nextToken);
        const all = rules(ctx.profile!);
        const size = Number(ctx.query.pageSize);
        ctx.ok({
          budgetRulesForAdvertiserResponse: all.slice(start, start + size).map((r) => view.budgetRule(r, product)),
          ...(start + size < all.length ? { nextToken: encodeToken(start + size) } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: `/${product}/budgetRules/{budgetRuleId}`,
      doc,
      summary: 'one budget rule',
      handle: (ctx) => {
        const rule = ruleOf(ctx);
        if (rule) ctx.ok({ budgetRule: view.budgetRule(rule, product) });
      },
    },
    {
      method: 'GET',
      path: `/${product}/budgetRules/{budgetRuleId}/campaigns`,
      doc,
      summary: 'campaigns a rule is associated with',
      handle: (ctx) => {
        const rule = ruleOf(ctx);
        if (!rule) return;
        const start = decodeToken(ctx.query.nextToken);
        if (start === null) return invalidToken(ctx, ctx.query.nextToken);
        const ids = state.dataset.budgetRuleCampaigns(product, ctx.profile!, rule.index);
        const size = Number(ctx.query.pageSize);
        const campaigns = ids.slice(start, start + size).map((id) => {
          const c = state.dataset.entity(product, 'campaign', ctx.profile!, state.dataset.indexOf(id));
          // Every model (SP, SB v4, SD) writes the campaign id of an association as a string.
          return {
            campaignId: id,
            campaignName: c.name,
            ruleStatus: 'ACTIVE',
          };
        });
        ctx.ok({
          associatedCampaigns: campaigns,
          ...(start + size < ids.length ? { nextToken: encodeToken(start + size) } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: `/${product}/campaigns/{campaignId}/budgetRules`,
      doc,
      summary: 'budget rules associated with a campaign',
      handle: (ctx) => {
        const id = String(ctx.req.params.campaignId);
        const associated = rules(ctx.profile!).filter((r) =>
          state.dataset.budgetRuleCampaigns(product, ctx.profile!, r.index).includes(id),
        );
        ctx.ok({ associatedRules: associated.map((r) => view.budgetRule(r, product)) });
      },
    },
  ];
}

export function entityEndpoints(state: SandboxState): Endpoint[] {
  const ds = state.dataset;
  const currency = (ctx: Ctx) => ds.profiles()[ctx.profile!]!.currencyCode;
  const sp = (
    path: string,
    key: string,
    kind: EntityKind,
    idFilter: string,
    extra: Record<string, keyof Entity> = {},
    more?: V3ListSpec['more'],
  ) =>
    v3List(state, {
      path,
      key,
      product: 'sp',
      kinds: [kind],
      doc: `SponsoredProducts_prod_3p ${path}`,
      pageSize: 5000,
      filters: { stateFilter: 'state', [idFilter]: 'id', ...extra },
      more,
      render: (e, _ctx, x) => view.spV3(e, x),
    });
  // SP's match types (BROAD, NEGATIVE_EXACT) and SB v3's (broad, negativeExact) compared as one spelling.
  const matchKey = (v: string) => v.replace(/_/g, '').toLowerCase();
  const matchTypes = (values: string[] | undefined): Filter | null =>
    values?.length ? { test: (e) => values.map(matchKey).includes(matchKey(e.matchType ?? '')) } : null;
  const keywordText = (f: unknown) => textFilter(f, (e) => [e.keywordText ?? '']);
  const asins = (f: unknown) => textFilter(f, (e) => (e.expression ?? []).flatMap((x) => (x.value ? [x.value] : [])));
  const included = (f: unknown) => (f as { include?: string[] } | undefined)?.include ?? [];
  const campaignOf = (e: Entity) => ds.entity(e.product!, 'campaign', e.profileIndex, ds.indexOf(e.campaignId!));
  const sdName = (q: Record<string, unknown>): (Filter | null)[] => [
    typeof q.name === 'string' && q.name ? { test: (e) => e.name === q.name } : null,
  ];
  const sbKeywordQuery = (q: Record<string, unknown>): (Filter | null)[] => [
    matchTypes(csv(q.matchTypeFilter as string | undefined)),
    typeof q.keywordText === 'string' && q.keywordText ? { test: (e) => e.keywordText === q.keywordText } : null,
    typeof q.creativeType === 'string' && q.creativeType
      ? { test: (e) => ds.sbCreativeType(e.campaignId!) === q.creativeType }
      : null,
  ];
  const sdGet = (path: string, kind: EntityKind, filters: Record<string, keyof Entity>, more?: V2ListSpec['more']) =>
    [false, true].map((extended) =>
      v2List(state, {
        path: `${path}${extended ? '/extended' : ''}`,
        product: 'sd',
        kinds: [kind],
        doc: `Sponsored Display ${path}${extended ? '/extended' : ''}`,
        filters,
        more,
        // The model's default: "enabled, paused, archived".
        defaultStates: ['enabled', 'paused', 'archived'],
        pageSize: 5000,
        render: (e) => view.sd(e, extended),
      }),
    );
  const sbV4 = (path: string, key: string, kind: EntityKind, idFilter: string) =>
    v3List(state, {
      path,
      key,
      product: 'sb',
      kinds: [kind],
      doc: 'en-us/guides/sponsored-brands/campaigns/managing-multi-ad-group-campaigns.md',
      pageSize: 100,
      filters: {
        stateFilter: 'state',
        [idFilter]: 'id',
        campaignIdFilter: 'campaignId',
        portfolioIdFilter: 'portfolioId',
        ...(kind !== 'campaign' ? { adGroupIdFilter: 'adGroupId' } : {}),
      },
      // Every sandbox SB campaign's goal is BRAND_IMPRESSION_SHARE (views.ts).
      more: (b) => [
        included(b.goalTypeFilter).length
          ? { test: () => included(b.goalTypeFilter).includes('BRAND_IMPRESSION_SHARE') }
          : null,
      ],
      render: (e, _ctx, x) => view.sbV4(e, x),
    });
  return [
    {
      method: 'GET',
      path: '/v2/profiles',
      scope: false,
      doc: 'en-us/guides/account-management/authorization/profiles.md',
      summary: 'profiles of the authorised user',
      handle: (ctx) => {
        const types = csv(ctx.query.profileTypeFilter as string | undefined);
        const access = ctx.query.accessLevel ?? 'edit';
        const profiles = ds
          .profiles()
          .filter(
            (p) =>
              (!types || types.includes(p.accountInfo.type)) &&
              (access === 'view' || !state.viewOnlyProfiles.has(p.profileId)),
          );
        ctx.ok(
          profiles.map((p) => ({
            profileId: Number(p.profileId),
            countryCode: p.countryCode,
            currencyCode: p.currencyCode,
            dailyBudget: 999999999,
            timezone: p.timezone,
            accountInfo: p.accountInfo,
          })),
        );
      },
    },
    v3List(state, {
      path: '/portfolios/list',
      key: 'portfolios',
      product: null,
      kinds: ['portfolio'],
      doc: 'Portfolios v3 (POST /portfolios/list)',
      pageSize: 1000,
      filters: { stateFilter: 'state', portfolioIdFilter: 'id' },
      render: (e, ctx, x) => view.portfolioV3(e, currency(ctx), x),
    }),
    sp(
      '/sp/campaigns/list',
      'campaigns',
      'campaign',
      'campaignIdFilter',
      { portfolioIdFilter: 'portfolioId' },
      // Only global campaigns allocate a budget across marketplaces; the sandbox has none.
      (b) => [included(b.marketplaceBudgetAllocationFilter).length ? { test: () => false } : null],
    ),
    sp('/sp/adGroups/list', 'adGroups', 'adGroup', 'adGroupIdFilter', { campaignIdFilter: 'campaignId' }, (b) => [
      typeof b.campaignTargetingTypeFilter === 'string'
        ? { test: (e) => campaignOf(e).targetingType === b.campaignTargetingTypeFilter }
        : null,
    ]),
    sp('/sp/productAds/list', 'productAds', 'ad', 'adIdFilter', {
      campaignIdFilter: 'campaignId',
      adGroupIdFilter: 'adGroupId',
    }),
    sp(
      '/sp/keywords/list',
      'keywords',
      'keyword',
      'keywordIdFilter',
      { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId' },
      (b) => [keywordText(b.keywordTextFilter), matchTypes(b.matchTypeFilter as string[] | undefined)],
    ),
    sp(
      '/sp/targets/list',
      'targetingClauses',
      'productTarget',
      'targetIdFilter',
      { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId' },
      (b) => [
        asins(b.asinFilter),
        included(b.expressionTypeFilter).length
          ? { test: (e) => included(b.expressionTypeFilter).includes(e.expressionType ?? '') }
          : null,
      ],
    ),
    sp(
      '/sp/negativeKeywords/list',
      'negativeKeywords',
      'negativeKeyword',
      'negativeKeywordIdFilter',
      { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId' },
      (b) => [keywordText(b.negativeKeywordTextFilter), matchTypes(b.matchTypeFilter as string[] | undefined)],
    ),
    sp(
      '/sp/negativeTargets/list',
      'negativeTargetingClauses',
      'negativeTarget',
      'negativeTargetIdFilter',
      { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId' },
      (b) => [asins(b.asinFilter)],
    ),
    sp(
      '/sp/campaignNegativeKeywords/list',
      'campaignNegativeKeywords',
      'campaignNegativeKeyword',
      'campaignNegativeKeywordIdFilter',
      { campaignIdFilter: 'campaignId' },
      (b) => [keywordText(b.campaignNegativeKeywordTextFilter), matchTypes(b.matchTypeFilter as string[] | undefined)],
    ),
    sp(
      '/sp/campaignNegativeTargets/list',
      'campaignNegativeTargetingClauses',
      'campaignNegativeTarget',
      'campaignNegativeTargetIdFilter',
      { campaignIdFilter: 'campaignId' },
      (b) => [asins(b.asinFilter)],
    ),
    sbV4('/sb/v4/campaigns/list', 'campaigns', 'campaign', 'campaignIdFilter'),
    sbV4('/sb/v4/adGroups/list', 'adGroups', 'adGroup', 'adGroupIdFilter'),
    sbV4('/sb/v4/ads/list', 'ads', 'ad', 'adIdFilter'),
    v2List(state, {
      path: '/sb/keywords',
      product: 'sb',
      kinds: ['keyword'],
      doc: 'SB keywords v3 (GET /sb/keywords)',
      filters: { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId', keywordIdFilter: 'id' },
      more: sbKeywordQuery,
      defaultStates: ['enabled', 'paused'],
      pageSize: 5000,
      render: view.sbV3,
    }),
    v2List(state, {
      path: '/sb/negativeKeywords',
      product: 'sb',
      kinds: ['negativeKeyword'],
      doc: 'SB negative keywords v3 (GET /sb/negativeKeywords)',
      filters: { campaignIdFilter: 'campaignId', adGroupIdFilter: 'adGroupId', keywordIdFilter: 'id' },
      more: sbKeywordQuery,
      defaultStates: ['enabled', 'archived'],
      pageSize: 5000,
      render: view.sbV3,
    }),
    sbTargetList(state, '/sb/targets/list', 'targets', 'productTarget'),
    sbTargetList(state, '/sb/negativeTargets/list', 'negativeTargets', 'negativeTarget'),
    ...sdGet('/sd/campaigns', 'campaign', { campaignIdFilter: 'id', portfolioIdFilter: 'portfolioId' }, sdName),
    ...sdGet('/sd/adGroups', 'adGroup', { campaignIdFilter: 'campaignId', adGroupIdFilter: 'id' }, sdName),
    ...sdGet('/sd/productAds', 'ad', {
      campaignIdFilter: 'campaignId',
      adGroupIdFilter: 'adGroupId',
      adIdFilter: 'id',
    }),
    ...sdGet('/sd/targets', 'productTarget', {
      campaignIdFilter: 'campaignId',
      adGroupIdFilter: 'adGroupId',
      targetIdFilter: 'id',
    }),
    ...sdGet('/sd/negativeTargets', 'negativeTarget', {
      campaignIdFilter: 'campaignId',
      adGroupIdFilter: 'adGroupId',
      targetIdFilter: 'id',
    }),
    v2List(state, {
      path: '/sd/creatives',
      product: 'sd',
      kinds: ['creative'],
      doc: 'Sponsored Display creatives (GET /sd/creatives)',
      filters: { adGroupIdFilter: 'adGroupId', creativeIdFilter: 'id' },
      // Creatives have no state filter.
      defaultStates: null,
      pageSize: 100,
      render: (e) => view.sd(e, false),
    }),
    ...budgetRuleEndpoints(state, 'sp'),
    ...budgetRuleEndpoints(state, 'sb'),
    ...budgetRuleEndpoints(state, 'sd'),
  ];
}
