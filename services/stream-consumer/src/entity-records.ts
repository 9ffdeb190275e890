/**
 * Marketing Stream's sponsored-ads campaign management datasets (datasets/sponsored-ads-campaign-
 * management.md: `campaigns`, `adgroups`, `ads`, `targets`) → rows of the Postgres entity tables,
 * between full syncs. Pure.
 *
 * A record is a snapshot of one object after a change. Each column is written exactly as the
 * full sync (the Exports API's common model) writes it, so that the next full sync finds nothing
 * to change: ids as strings, money in micros, states and budget types upper case, dates as
 * YYYY-MM-DD. What a record does not carry is null, and null never erases what the full sync
 * stored (the apply keeps the stored value): a campaign's cost type, an SB ad's creative and
 * ASINs, a product target's type and expression (the record gives only its clause as text: such
 * a target's bid and state change, and a new one arrives with the next sync). A record applies
 * only if it is not older than the row (audit.lastUpdatedDateTime).
 */
import type { EntityType } from '@adsync/shared/entities/entity-store';

export const ENTITY_STREAM_DATASETS = ['campaigns', 'adgroups', 'ads', 'targets'] as const;
export type EntityStreamDataset = (typeof ENTITY_STREAM_DATASETS)[number];
export const isEntityDataset = (d: string): d is EntityStreamDataset =>
  (ENTITY_STREAM_DATASETS as readonly string[]).includes(d);

type Json = Record<string, unknown>;
export type EntityValues = Record<string, unknown>;

const PRODUCTS = new Set(['SPONSORED_PRODUCTS', 'SPONSORED_BRANDS', 'SPONSORED_DISPLAY']);
const str = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));
const upper = (v: unknown): string | null => (str(v) === null ? null : String(v).toUpperCase());
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const date = (v: unknown): string | null =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : null;

/** A number where the schema says double: a present value that is not one is refused, not guessed. */
function micros(v: unknown, field: string): number | null | { invalid: string } {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(n) || n < 0)
    return { invalid: `${field} must be a non-negative number, not ${JSON.stringify(v)}` };
  return Math.round(n * 1e6);
}

/** An ISO 8601 instant, or why not. */
function instant(v: unknown, field: string): string | null | { invalid: string } {
  if (v === null || v === undefined || v === '') return null;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) return { invalid: `${field} is not an ISO 8601 time: ${JSON.stringify(v)}` };
  return new Date(ms).toISOString();
}

const bad = (x: unknown): x is { invalid: string } => x !== null && typeof x === 'object' && 'invalid' in x;

/** Keyword match types the record may give in either spelling. */
const KEYWORD_MATCH = new Set(['EXACT', 'PHRASE', 'BROAD']);

/** A record of a campaign management dataset as the row of its entity table, or why it cannot be one. */
export function entityRow(
  dataset: EntityStreamDataset,
  r: Json,
  profileId: string,
): { entity: EntityType; values: EntityValues } | { invalid: string } | { ignored: string } {
  const id = { campaigns: 'campaignId', adgroups: 'adGroupId', ads: 'adId', targets: 'targetId' }[dataset];
  if (!str(r[id])) return { invalid: `a ${dataset} record without ${id}` };
  const adProduct = str(r.adProduct);
  if (!adProduct || !PRODUCTS.has(adProduct))
    return {
      invalid: `${dataset} ${String(r[id])}: adProduct ${JSON.stringify(r.adProduct)} is not a sponsored-ads product`,
    };
  const audit = obj(r.audit);
  const created = instant(audit.creationDateTime, 'audit.creationDateTime');
  const updated = instant(audit.lastUpdatedDateTime, 'audit.lastUpdatedDateTime');
  if (bad(created)) return created;
  if (bad(updated)) return updated;
  // The order of changes: without its update time a record cannot be placed among them.
  if (updated === null) return { invalid: `${dataset} ${String(r[id])} without audit.lastUpdatedDateTime` };
  const times = { amazon_created_at: created, amazon_updated_at: updated };
  const common = { profile_id: profileId, ad_product: adProduct, state: upper(r.state) };

  switch (dataset) {
    case 'campaigns': {
      // The schema puts bidSetting beside budget; its sample payload nests it inside: both are read.
      const budget = obj(r.budget);
      const cap = obj(budget.budgetCap);
      const amount = micros(obj(cap.monetaryBudget).amount, 'budget.budgetCap.monetaryBudget.amount');
      if (bad(amount)) return amount;
      const bid = obj(r.bidSetting ?? budget.bidSetting);
      const sp = adProduct === 'SPONSORED_PRODUCTS';
      // The full sync keeps SP's strategy and placement adjustments only; a campaign's cost type
      // is not in the record, so the bidding written is merged into what is stored.
      const placements = Array.isArray(bid.placementBidAdjustment) ? (bid.placementBidAdjustment as Json[]) : [];
      if (placements.some((p) => typeof p.percentage !== 'number' || !str(p.placement)))
        return {
          invalid: `campaign ${String(r.campaignId)}: a placement bid adjustment without placement or percentage`,
        };
      return {
        entity: 'campaigns',
        values: {
          ...common,
          campaign_id: String(r.campaignId),
          name: str(r.name),
          targeting_type: str(r.targetingSettings),
          budget_micros: amount,
          budget_type: upper(obj(cap.recurrence).recurrenceType),
          // Only what the record states: a record without them leaves the stored strategy and adjustments.
          bidding:
            sp && (bid.bidStrategy !== undefined || Array.isArray(bid.placementBidAdjustment))
              ? {
                  ...(bid.bidStrategy !== undefined ? { strategy: str(bid.bidStrategy) } : {}),
                  ...(Array.isArray(bid.placementBidAdjustment)
                    ? {
                        placements: placements.map((p) => ({
                          placement: String(p.placement),
                          percentage: Number(p.percentage),
                        })),
                      }
                    : {}),
                }
              : null,
          start_date: date(r.startDateTime),
          end_date: date(r.endDateTime),
          portfolio_id: str(r.portfolioId),
          ...times,
        },
      };
    }
    case 'adgroups': {
      if (!str(r.campaignId)) return { invalid: `ad group ${String(r.adGroupId)} without campaignId` };
      const bidValue = micros(obj(obj(r.bidValue).defaultBid).value, 'bidValue.defaultBid.value');
      if (bad(bidValue)) return bidValue;
      return {
        entity: 'ad_groups',
        values: {
          ...common,
          ad_group_id: String(r.adGroupId),
          campaign_id: String(r.campaignId),
          name: str(r.name),
          default_bid_micros: bidValue,
          ...times,
        },
      };
    }
    case 'ads':
      return {
        entity: 'ads',
        values: {
          ...common,
          ad_id: String(r.adId),
          ad_group_id: str(r.adGroupId),
          campaign_id: str(r.campaignId),
          asin: str(r.asin),
          sku: str(r.sku),
          creative: null,
          ...times,
        },
      };
    case 'targets': {
      // Negative targets have a table of their own, which the full sync keeps: not applied here.
      if (r.negative === true) return { ignored: `target ${String(r.targetId)} is negative` };
      const bid = micros(r.bid, 'bid');
      if (bad(bid)) return bid;
      const keyword = obj(r.keywordTarget);
      const isKeyword = upper(r.targetType) === 'KEYWORD' || str(keyword.keyword) !== null;
      const values: EntityValues = {
        ...common,
        target_id: String(r.targetId),
        ad_group_id: str(r.adGroupId),
        campaign_id: str(r.campaignId),
        bid_micros: bid,
        target_type: null,
        expression: null,
        expression_text: null,
        match_type: null,
        ...times,
      };
      if (isKeyword) {
        const text = str(keyword.keyword);
        const matchType = upper(keyword.matchType);
        if (!text) return { invalid: `keyword target ${String(r.targetId)} without keywordTarget.keyword` };
        if (matchType !== null && !KEYWORD_MATCH.has(matchType))
          return {
            invalid: `keyword target ${String(r.targetId)}: match type ${matchType} is not EXACT, PHRASE or BROAD`,
          };
        // As the full sync writes a keyword (one target shape for keywords and product targets).
        Object.assign(values, {
          target_type: 'KEYWORD',
          expression: { type: 'KEYWORD', text, matchType },
          expression_text: text,
          match_type: matchType,
        });
      }
      return { entity: 'targets', values };
    }
  }
}
