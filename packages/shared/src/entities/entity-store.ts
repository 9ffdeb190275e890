/**
 * The module that owns the `entity_*` tables: the campaigns, ad groups, ads, targets,
 * negative targets, creatives, portfolios and budget rules entity-sync mirrors from Amazon,
 * one row per entity, keyed by profile and Amazon's id. entity-sync writes them (through
 * ENTITY_UPSERTS), report-poller reads what can deliver, and the recent metrics land here.
 */
import type { Knex } from '../db/postgres.ts';
import { bulkUpsert, type UpsertSpec } from '../db/bulk-upsert.ts';

export type EntityType =
  'portfolios' | 'campaigns' | 'ad_groups' | 'ads' | 'targets' | 'negative_targets' | 'creatives' | 'budget_rules';
/**
 * In sync order: campaigns before what they contain, ad groups before the ads and targets that
 * name them. Portfolios and budget rules depend on none of these and run alongside them
 * (entity-sync's sync-runner.ts, ALONGSIDE).
 */
export const ENTITY_TYPES: EntityType[] = [
  'portfolios',
  'campaigns',
  'ad_groups',
  'ads',
  'targets',
  'negative_targets',
  'creatives',
  'budget_rules',
];

/** What every entity row carries: when Amazon last changed it (the incremental watermark). */
export type EntityRow = { amazon_updated_at: string | null };

const TS = 'timestamptz';
const common = { amazon_created_at: TS, amazon_updated_at: TS };

function spec(table: string, key: string[], columns: Record<string, string>): UpsertSpec<EntityRow> {
  const cols = Object.keys(columns);
  return {
    table,
    key,
    columns,
    // SB keyword and target lists carry no timestamps while the exports do: an
    // incremental list read must not erase what the last full export recorded.
    keepWhenNull: ['amazon_created_at', 'amazon_updated_at'],
    alwaysSet: { synced_at: 'now()' },
    // A full sync whose export was read before a change Marketing Stream has already written
    // leaves the newer row alone (Amazon's update times only grow).
    ...('amazon_updated_at' in columns ? { onlyIfNotOlder: 'amazon_updated_at' } : {}),
    row: (r) => cols.map((c) => (r as unknown as Record<string, unknown>)[c]),
  };
}

/** How each entity type's rows are written (bulk-upsert.ts): table, natural key, columns in order. */
export const ENTITY_UPSERTS: Record<EntityType, UpsertSpec<EntityRow>> = {
  portfolios: spec('entity_portfolios', ['profile_id', 'portfolio_id'], {
    profile_id: 'text',
    portfolio_id: 'text',
    name: 'text',
    state: 'text',
    in_budget: 'bool',
    budget: 'jsonb',
    ...common,
  }),
  campaigns: spec('entity_campaigns', ['profile_id', 'campaign_id'], {
    profile_id: 'text',
    campaign_id: 'text',
    ad_product: 'text',
    name: 'text',
    state: 'text',
    targeting_type: 'text',
    budget_micros: 'int8',
    budget_type: 'text',
    bidding: 'jsonb',
    start_date: 'date',
    end_date: 'date',
    portfolio_id: 'text',
    ...common,
  }),
  ad_groups: spec('entity_ad_groups', ['profile_id', 'ad_group_id'], {
    profile_id: 'text',
    ad_group_id: 'text',
    campaign_id: 'text',
    ad_product: 'text',
    name: 'text',
    state: 'text',
    default_bid_micros: 'int8',
    ...common,
  }),
  ads: spec('entity_ads', ['profile_id', 'ad_id'], {
    profile_id: 'text',
    ad_id: 'text',
    ad_group_id: 'text',
    campaign_id: 'text',
    ad_product: 'text',
    asin: 'text',
    sku: 'text',
    creative: 'jsonb',
    state: 'text',
    ...common,
  }),
  targets: spec('entity_targets', ['profile_id', 'target_id'], {
    profile_id: 'text',
    target_id: 'text',
    ad_group_id: 'text',
    campaign_id: 'text',
    ad_product: 'text',
    target_type: 'text',
    expression: 'jsonb',
    expression_text: 'text',
    match_type: 'text',
    bid_micros: 'int8',
    state: 'text',
    ...common,
  }),
  negative_targets: spec('entity_negative_targets', ['profile_id', 'negative_id'], {
    profile_id: 'text',
    negative_id: 'text',
    ad_product: 'text',
    level: 'text',
    campaign_id: 'text',
    ad_group_id: 'text',
    target_type: 'text',
    expression: 'jsonb',
    expression_text: 'text',
    match_type: 'text',
    state: 'text',
    ...common,
  }),
  creatives: spec('entity_creatives', ['profile_id', 'creative_id'], {
    profile_id: 'text',
    creative_id: 'text',
    ad_group_id: 'text',
    ad_product: 'text',
    creative_type: 'text',
    properties: 'jsonb',
    moderation_status: 'text',
    amazon_updated_at: TS,
  }),
  budget_rules: spec('entity_budget_rules', ['profile_id', 'rule_id'], {
    profile_id: 'text',
    rule_id: 'text',
    ad_product: 'text',
    name: 'text',
    rule_type: 'text',
    state: 'text',
    status: 'text',
    details: 'jsonb',
    ...common,
  }),
};

/** The entity types Marketing Stream's campaign management datasets announce. */
export type StreamedEntityType = 'campaigns' | 'ad_groups' | 'ads' | 'targets';

/**
 * Fields a record always states, where absent means none (sponsored-ads-campaign-management.md):
 * a campaign's end and portfolio, a target's bid ("a null bid … means the target is inheriting
 * from the ad group default bid").
 */
const STATED: Record<StreamedEntityType, string[]> = {
  campaigns: ['end_date', 'portfolio_id'],
  ad_groups: [],
  ads: [],
  targets: ['bid_micros'],
};

/**
 * Rows Marketing Stream announced (a snapshot of an object after each change), written between
 * full syncs. A row is written only if it is not older than the stored one (amazon_updated_at:
 * records arrive at least once and in no order); a column it leaves null keeps the stored value
 * (a record carries less than an export: a campaign's cost type, an SB ad's creative, a product
 * target's expression), and a campaign's bidding is merged into the stored one for the same
 * reason. Of several records of one object in a batch, the newest is written. Returns the rows
 * written (older ones are not).
 */
export async function applyStreamedEntities(
  db: Knex,
  type: StreamedEntityType,
  rows: (EntityRow & Record<string, unknown>)[],
): Promise<number> {
  const base = ENTITY_UPSERTS[type];
  const id = base.key[1]!;
  const newest = new Map<string, EntityRow & Record<string, unknown>>();
  for (const r of rows) {
    const k = `${String(r.profile_id)}|${String(r[id])}`;
    const had = newest.get(k);
    if (!had || (r.amazon_updated_at ?? '') >= (had.amazon_updated_at ?? '')) newest.set(k, r);
  }
  // A row without what its table requires (a product target's expression, which a record gives
  // only as text) changes the stored row and creates none: a new one arrives with the next sync.
  const required = type === 'targets' ? ['target_type', 'expression'] : [];
  const whole = [...newest.values()].filter((r) => required.every((c) => r[c] !== null && r[c] !== undefined));
  const partial = [...newest.values()].filter((r) => !whole.includes(r));
  // Fields a record always states, where absent means none: written even when null.
  const stated = STATED[type];
  let written = 0;
  for (const r of partial) {
    const set = Object.fromEntries(
      Object.entries(r).filter(
        ([c, v]) =>
          (stated.includes(c) || (v !== null && v !== undefined)) && !base.key.includes(c) && c in base.columns,
      ),
    );
    written += await db(base.table)
      .where({ profile_id: r.profile_id, [id]: r[id] })
      .andWhere((q) => q.whereNull('amazon_updated_at').orWhere('amazon_updated_at', '<=', r.amazon_updated_at!))
      .update({ ...set, synced_at: db.fn.now() });
  }
  const columns = Object.keys(base.columns);
  const merged = type === 'campaigns' ? ['bidding'] : [];
  const spec: UpsertSpec<EntityRow> = {
    ...base,
    update: columns.filter((c) => !base.key.includes(c) && !merged.includes(c)),
    keepWhenNull: columns.filter((c) => !stated.includes(c)),
    alwaysSet: {
      ...base.alwaysSet,
      ...(merged.length
        ? { bidding: `coalesce("${base.table}"."bidding", '{}'::jsonb) || coalesce(excluded."bidding", '{}'::jsonb)` }
        : {}),
    },
    onlyIfNotOlder: 'amazon_updated_at',
  };
  return written + (await bulkUpsert(db, spec, whole));
}

/** The id column of an entity type's rows (the key after profile_id). */
const idColumn = (t: EntityType): string => ENTITY_UPSERTS[t].key[1]!;

/** Entity types whose rows name an ad group but may lack its campaign (exports name only the ad group). */
const CAMPAIGN_BACKFILL: Record<EntityType, EntityType[]> = {
  portfolios: [],
  campaigns: [],
  ad_groups: ['ads', 'targets', 'negative_targets'],
  ads: ['ads'],
  targets: ['targets'],
  negative_targets: ['negative_targets'],
  creatives: [],
  budget_rules: [],
};

/** The campaign of each of a profile's ad groups, as stored (ad groups sync before ads and targets). */
export async function campaignsOfAdGroups(db: Knex, profileId: string): Promise<(adGroupId: string) => string | null> {
  const rows: { ad_group_id: string; campaign_id: string }[] = await db('entity_ad_groups')
    .where({ profile_id: profileId })
    .select('ad_group_id', 'campaign_id');
  const map = new Map(rows.map((r) => [r.ad_group_id, r.campaign_id]));
  return (adGroupId) => map.get(adGroupId) ?? null;
}

/** After an entity type synced: fills in the campaign of rows whose ad group arrived since. */
export async function backfillCampaignIds(db: Knex, profileId: string, synced: EntityType): Promise<void> {
  for (const t of CAMPAIGN_BACKFILL[synced])
    await db.raw(
      `update ?? e set campaign_id = g.campaign_id from entity_ad_groups g
        where e.profile_id = ? and e.campaign_id is null and g.profile_id = e.profile_id and g.ad_group_id = e.ad_group_id`,
      [ENTITY_UPSERTS[t].table, profileId],
    );
}

export function budgetRulesOf(db: Knex, profileId: string): Promise<{ rule_id: string; ad_product: string }[]> {
  return db('entity_budget_rules').where({ profile_id: profileId }).select('rule_id', 'ad_product');
}

/** Replaces each budget rule's campaign links, in one short transaction (the reads happened before it). */
export async function replaceBudgetRuleLinks(db: Knex, profileId: string, links: Map<string, object[]>): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [ruleId, rows] of links) {
      await tx('entity_budget_rule_campaigns').where({ profile_id: profileId, rule_id: ruleId }).delete();
      if (rows.length)
        await tx('entity_budget_rule_campaigns').insert(rows.map((x) => ({ ...x, synced_at: tx.fn.now() })));
    }
  });
}

/** A profile's enabled campaigns of one ad product, id → name. */
export async function enabledCampaigns(
  db: Knex,
  profileId: string,
  adProduct: string,
): Promise<Map<string, string | null>> {
  const rows: { campaign_id: string; name: string | null }[] = await db('entity_campaigns')
    .where({ profile_id: profileId, ad_product: adProduct, state: 'ENABLED' })
    .select('campaign_id', 'name');
  return new Map(rows.map((c) => [c.campaign_id, c.name]));
}

/**
 * `adProduct|level` for each level at which the profile has something that can deliver:
 * enabled itself, in an enabled ad group and an enabled campaign. A campaign report
 * is empty, not short, when every ad group under an enabled campaign is paused, so
 * only a deliverable entity makes an empty report a gap.
 */
export async function deliveringLevels(db: Knex, profileId: string): Promise<Set<string>> {
  const rows: { ad_product: string; level: string }[] = (
    await db.raw(
      `with live_groups as (
         select g.ad_product, g.ad_group_id
         from entity_ad_groups g
         join entity_campaigns c on c.profile_id = g.profile_id and c.campaign_id = g.campaign_id
         where g.profile_id = ? and g.state = 'ENABLED' and c.state = 'ENABLED'
       )
       select distinct ad_product, 'campaign' as level from live_groups
       union select distinct ad_product, 'ad_group' from live_groups
       union select distinct a.ad_product, 'ad' from entity_ads a
         join live_groups g on g.ad_group_id = a.ad_group_id
         where a.profile_id = ? and a.state = 'ENABLED'
       union select distinct t.ad_product, 'target' from entity_targets t
         join live_groups g on g.ad_group_id = t.ad_group_id
         where t.profile_id = ? and t.state = 'ENABLED'`,
      [profileId, profileId, profileId],
    )
  ).rows;
  return new Set(rows.map((r) => `${r.ad_product}|${r.level}`));
}

/** Stores the last 7 and 30 days of metrics on entity rows (id → metrics); returns how many rows changed. */
export async function setRecentMetrics(
  db: Knex,
  entityType: EntityType,
  profileId: string,
  metrics: { id: string; metrics: Record<string, number> }[],
): Promise<number> {
  const res = await db.raw(
    `update ?? e set recent_metrics = x.metrics, recent_metrics_at = now()
     from jsonb_to_recordset(?::jsonb) as x(id text, metrics jsonb)
     where e.profile_id = ? and e.?? = x.id`,
    [ENTITY_UPSERTS[entityType].table, JSON.stringify(metrics), profileId, idColumn(entityType)],
  );
  return (res as { rowCount?: number }).rowCount ?? 0;
}
