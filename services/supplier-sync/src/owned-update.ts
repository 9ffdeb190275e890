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
import { pgArray, type Knex } from '@adsync/shared/db/postgres';
import { moneyToMicros } from '@adsync/shared/amazon/currency';
import type { SupplierItem } from './connectors/connector.ts';
import { queueMarketplaceUpdatesSql } from './deliveries.ts';
import { historyLinesSql, historySqlBindings, type HistoryStamp } from './product-history.ts';

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

export async function updateOwnedColumns(
  tx: Knex.Transaction,
  supplierId: string,
  jobType: OwnedJob,
  items: SupplierItem[],
  stamp: HistoryStamp,
): Promise<OwnedUpdate> {
  // The last word on a product wins when a page repeats it (Postgres would pick either).
  const byId = new Map(items.map((i) => [i.productId, i]));
  const ids: string[] = [];
  const currency: (string | null)[] = [];
  const wholesale: (number | null)[] = [];
  const retail: (number | null)[] = [];
  const stock: (number | null)[] = [];
  // In key order, so two jobs updating the same products lock them in the same order and
  // never deadlock (a batch now holds its rows until its history is written).
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
  // Each key finds at most one row through the primary key, so a lookup per key is the plan.
  // Postgres prefers hashing (or merge-scanning) every product of the supplier for a batch of
  // 10,000 keys from 100,000: 64 ms instead of 40 ms per batch in EXPLAIN ANALYZE, the whole
  // difference being the scan. Local to this batch's transaction.
  await tx.raw(`select set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`);
  const { rows } = await tx.raw(
    `with changed as (
       update imported_products p
          set ${pairs.map(([c, i]) => `${c} = ${col(c, i)}`).join(', ')},
              ${price ? 'price_updated_at' : 'stock_updated_at'} = now(), last_synced_at = now()
         from unnest(?::text[], ?::text[], ?::int8[], ?::int8[], ?::int4[]) as n(id, c0, w0, r0, s0)
        where p.supplier_id = ? and p.supplier_product_id = n.id
          and (${pairs.map(([c, i]) => `p.${c} is distinct from ${col(c, i)}`).join(' or ')})
       returning p.supplier_product_id, p.sku, p.currency, p.wholesale_price_micros, p.retail_price_micros, p.stock
     ), queued as (
       ${queueMarketplaceUpdatesSql('changed', price ? 'price' : 'stock')}
     )
     select (select count(*) from changed)::int as changed,
            (select count(*) from queued)::int as outbound,
            (select ${historyLinesSql('changed')} from changed) as history`,
    [
      pgArray(ids),
      pgArray(currency),
      pgArray(wholesale),
      pgArray(retail),
      pgArray(stock),
      supplierId,
      supplierId,
      ...historySqlBindings(stamp),
    ],
  );
  const r = rows[0] as { changed: number; outbound: number; history: string | null };
  return { changed: r.changed, outbound: r.outbound, history: r.history ?? '' };
}
