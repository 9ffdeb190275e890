/**
 * The stock and price jobs in one statement per batch. They only ever change the
 * columns they own on products already imported, so the comparison with the stored
 * row happens in Postgres: no read of the batch's rows back into the service, no
 * second round trip for the upsert, and unchanged products are never written. The same
 * statement queues the updates the changes owe to marketplace listings and hands back
 * the changed products' history as ClickHouse text, so no changed row is read into the
 * service either: on a price job that changes every price, reading them back (100k rows,
 * seven columns) and writing their history was a third of the service's CPU.
 * Same decisions as planChanges (job-changes.ts), which a test holds it to.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { pgArray } from '@adsync/shared/db/array-literal';
import { moneyToMicros } from '@adsync/shared/amazon/currency';
import type { SupplierItem } from './connectors/connector.ts';
import { queueMarketplaceUpdatesSql } from './deliveries.ts';
import { historyLinesSql, type HistoryStamp } from './product-history.ts';

type OwnedJob = 'price_update' | 'inventory_update';

/** Whether a batch can take this path: a price without its currency needs the stored one to convert. */
export function fitsOwnedUpdate(jobType: string, items: SupplierItem[]): jobType is OwnedJob {
  if (jobType === 'inventory_update') return true;
  return jobType === 'price_update' && items.every((i) => i.currency !== undefined);
}

export interface OwnedUpdate {
  /** Products whose job-owned columns moved. */
  changed: number;
  /** Updates queued for the marketplace listings of those products. */
  outbound: number;
  /** Their history points, as TabSeparated text for insertHistory ('' when none). */
  history: string;
}

/**
 * How Postgres is to join a batch to the stored products: by hashing the batch's own rows,
 * found through the primary key (the `= any` on the batch's ids). Left to itself it hashed
 * every product of the supplier for each batch (64 ms a batch of 10,000 among 100,000; this
 * way 28-33 ms). Nested loops are off because with statistics older than the supplier's
 * products (an import that created a few hundred, not yet analysed) the planner believes the
 * supplier has a product or two and loops over the batch once per stored product: 100,000 ×
 * 10,000 comparisons. A hash join stays linear whatever the estimate. Local to the batch's
 * transaction.
 */
export const OWNED_UPDATE_PLAN = `select set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true)`;

/** The batch's statement and its bindings (pure; updateOwnedColumns runs it under OWNED_UPDATE_PLAN). */
export function ownedUpdateStatement(
  supplierId: string,
  jobType: OwnedJob,
  items: SupplierItem[],
  stamp: HistoryStamp,
): { sql: string; bindings: Knex.Value[] } {
  // The last word on a product wins when a page repeats it (Postgres would pick either).
  const byId = new Map(items.map((i) => [i.productId, i]));
  const ids: string[] = [];
  const currency: (string | null)[] = [];
  const wholesale: (number | null)[] = [];
  const retail: (number | null)[] = [];
  const stock: (number | null)[] = [];
  // In key order, so two jobs updating the same products tend to lock them in the same order
  // (the hash join hands rows over in the order of its probing side, most often the batch).
  for (const [id, i] of [...byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    ids.push(id);
    currency.push(i.currency ?? null);
    wholesale.push(i.wholesalePrice === undefined ? null : moneyToMicros(i.wholesalePrice, i.currency!));
    retail.push(i.retailPrice === undefined ? null : moneyToMicros(i.retailPrice, i.currency!));
    stock.push(i.stock === undefined ? null : i.stock);
  }
  // Against `p`, the row as the update sees it: should another job change it meanwhile,
  // Postgres re-reads `p`, so a column this batch does not carry keeps the newer value.
  const col = (c: string, incoming: string) => `coalesce(n.${incoming}, p.${c})`;
  const owned =
    jobType === 'price_update'
      ? ['wholesale_price_micros', 'w0', 'retail_price_micros', 'r0', 'currency', 'c0']
      : ['stock', 's0'];
  const pairs: [string, string][] = [];
  for (let k = 0; k < owned.length; k += 2) pairs.push([owned[k]!, owned[k + 1]!]);
  // A row is returned only when one of the job's own columns moved, so the job type alone says
  // what changed: a price job's prices (its currency is part of the price), a stock job's
  // stock. That spares joining each row to itself for its old values (a third of the
  // statement's time on a job that changes every price).
  const price = jobType === 'price_update';
  const history = historyLinesSql('changed', stamp);
  return {
    sql: `with changed as (
       update imported_products p
          set ${pairs.map(([c, i]) => `${c} = ${col(c, i)}`).join(', ')},
              ${price ? 'price_updated_at' : 'stock_updated_at'} = now(), last_synced_at = now()
         from unnest(?::text[], ?::text[], ?::int8[], ?::int8[], ?::int4[]) as n(id, c0, w0, r0, s0)
        where p.supplier_id = ? and p.supplier_product_id = any(?::text[]) and p.supplier_product_id = n.id
          and (${pairs.map(([c, i]) => `p.${c} is distinct from ${col(c, i)}`).join(' or ')})
       returning p.supplier_id, p.supplier_product_id, p.sku, p.currency, p.wholesale_price_micros,
                 p.retail_price_micros, p.stock
     ), queued as (
       ${queueMarketplaceUpdatesSql('changed', price ? 'price' : 'stock')}
     )
     select (select count(*) from changed)::int as changed,
            (select count(*) from queued)::int as outbound,
            (select ${history.sql} from changed) as history`,
    bindings: [
      pgArray(ids),
      pgArray(currency),
      pgArray(wholesale),
      pgArray(retail),
      pgArray(stock),
      supplierId,
      pgArray(ids),
      ...history.bindings,
    ],
  };
}

export async function updateOwnedColumns(
  tx: Knex.Transaction,
  supplierId: string,
  jobType: OwnedJob,
  items: SupplierItem[],
  stamp: HistoryStamp,
): Promise<OwnedUpdate> {
  const { sql, bindings } = ownedUpdateStatement(supplierId, jobType, items, stamp);
  await tx.raw(OWNED_UPDATE_PLAN);
  const { rows } = await tx.raw(sql, bindings);
  const r = rows[0] as { changed: number; outbound: number; history: string | null };
  return { changed: r.changed, outbound: r.outbound, history: r.history ?? '' };
}
