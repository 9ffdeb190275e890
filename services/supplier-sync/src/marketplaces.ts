/**
 * The module that owns `marketplace_integrations`, `marketplace_listings` and
 * `marketplace_outbound`: the marketplaces an account sells on, which of its listings is
 * which supplier product, and the stock and price updates those listings are owed, rows
 * first so nothing is lost while a marketplace is down. A job queues the updates its
 * changes owe; deliveries.ts posts the due rows; how each post went is recorded here
 * (delivery-rows.ts says in which columns).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { pgArray } from '@adsync/shared/db/array-literal';
import { claim, type QueueSpec } from '@adsync/shared/runtime/work-queue';
import type { StoredProduct } from './job-changes.ts';
import { attemptColumns, DELIVERY_QUEUE, type Attempt } from './delivery-rows.ts';

export const MARKETPLACE_QUEUE: QueueSpec = {
  ...DELIVERY_QUEUE,
  table: 'marketplace_outbound',
  ageColumn: 'created_at',
};

/** A marketplace integration to register: where its updates go, and its listings (each a supplier product). */
export interface NewIntegration {
  accountId: string;
  marketplace: string;
  endpointUrl: string;
  listings: { listingId: string; supplierId: string; supplierProductId: string }[];
}

export async function createIntegration(db: Knex, m: NewIntegration): Promise<{ id: string }> {
  const [row] = await db('marketplace_integrations')
    .insert({ account_id: m.accountId, marketplace: m.marketplace, endpoint_url: m.endpointUrl })
    .returning(['id']);
  if (m.listings.length)
    await db('marketplace_listings').insert(
      m.listings.map((l) => ({
        integration_id: row.id,
        listing_id: l.listingId,
        supplier_id: l.supplierId,
        supplier_product_id: l.supplierProductId,
      })),
    );
  return row;
}

const OUTBOUND_ROWS_PER_INSERT = 5000;

/** What a listing is told: its new quantity, or its new price as an amount and a currency. */
const outboundPayload = {
  stock: (p: StoredProduct) => ({ quantity: p.stock ?? 0 }),
  price: (p: StoredProduct) => ({ amount_micros: p.retail_price_micros, currency: p.currency }),
};

/** A changed stock or price of a product that is listed on a marketplace owes that listing an update. */
export async function queueMarketplaceUpdates(
  db: Knex,
  supplierId: string,
  changes: { row: StoredProduct; priceChanged: boolean; stockChanged: boolean }[],
): Promise<number> {
  const changed = changes.filter((c) => c.priceChanged || c.stockChanged);
  if (changed.length === 0) return 0;
  const listings = await db('marketplace_listings as l')
    .join('marketplace_integrations as m', 'm.id', 'l.integration_id')
    .where('m.active', true)
    .where('l.supplier_id', supplierId)
    // One array parameter, not one per product (knex's whereIn): see pgArray.
    .whereRaw('l.supplier_product_id = any(?::text[])', [pgArray(changed.map((c) => c.row.supplier_product_id))])
    .select('l.integration_id', 'l.listing_id', 'l.supplier_product_id');
  if (listings.length === 0) return 0;
  const byProduct = new Map(changed.map((c) => [c.row.supplier_product_id, c]));
  const rows = listings.flatMap((l: { integration_id: string; listing_id: string; supplier_product_id: string }) => {
    const c = byProduct.get(l.supplier_product_id)!;
    const out = [];
    for (const kind of ['stock', 'price'] as const)
      if (kind === 'stock' ? c.stockChanged : c.priceChanged)
        out.push({
          integration_id: l.integration_id,
          listing_id: l.listing_id,
          kind,
          payload: JSON.stringify(outboundPayload[kind](c.row)),
        });
    return out;
  });
  // In parts: a batch of thousands of products with several listings each would pass
  // Postgres's 65,535 parameters per statement in one insert (four per row).
  for (let i = 0; i < rows.length; i += OUTBOUND_ROWS_PER_INSERT)
    await db('marketplace_outbound').insert(rows.slice(i, i + OUTBOUND_ROWS_PER_INSERT));
  return rows.length;
}

/**
 * queueMarketplaceUpdates as a data-modifying CTE over `changed`, a CTE of changed
 * imported_products rows (supplier_id, supplier_product_id, stock, retail_price_micros,
 * currency) whose every row changed in `kind`: lets a stock or price update queue what it
 * owes in the statement that makes the change. No bindings. The payloads are
 * outboundPayload's, which a test holds it to.
 */
export function queueMarketplaceUpdatesSql(changed: string, kind: 'stock' | 'price'): string {
  const payload =
    kind === 'stock'
      ? `jsonb_build_object('quantity', coalesce(c.stock, 0))`
      : `jsonb_build_object('amount_micros', c.retail_price_micros, 'currency', c.currency)`;
  return `insert into marketplace_outbound (integration_id, listing_id, kind, payload)
    select l.integration_id, l.listing_id, '${kind}', ${payload}
      from ${changed} c
      join marketplace_listings l on l.supplier_id = c.supplier_id and l.supplier_product_id = c.supplier_product_id
      join marketplace_integrations m on m.id = l.integration_id and m.active
    returning 1`;
}

export type OutboundRow = {
  id: string;
  integration_id: string;
  listing_id: string;
  kind: string;
  payload: unknown;
  attempts: number;
};

/** Claims up to `limit` due updates, leased for `leaseMs`. */
export const claimDueUpdates = (db: Knex, limit: number, leaseMs: number): Promise<OutboundRow[]> =>
  claim<OutboundRow>(db, MARKETPLACE_QUEUE, { limit, leaseMs });

/** The endpoints of these integrations, by id (a removed one is absent). */
export async function integrationEndpoints(db: Knex, ids: string[]): Promise<Map<string, string>> {
  const rows = await db('marketplace_integrations').whereIn('id', ids).select('id', 'endpoint_url');
  return new Map(rows.map((m: { id: string; endpoint_url: string }) => [m.id, m.endpoint_url]));
}

/** Records how a post of an update went. */
export async function recordUpdateAttempt(db: Knex, id: string, a: Attempt): Promise<void> {
  await db('marketplace_outbound')
    .where({ id })
    .update(attemptColumns(db, a, { status: 'sent', column: 'sent_at' }));
}
