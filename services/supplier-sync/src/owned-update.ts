/**
 * The stock and price jobs in one statement per batch. They only ever change the
 * columns they own on products already imported, so the comparison with the stored
 * row happens in Postgres: no read of the batch's rows back into the service, no
 * second round trip for the upsert, and unchanged products are never written.
 * Same decisions as planChanges (job-changes.ts), which a test holds it to.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { moneyToMicros } from '@adsync/shared/amazon/currency';
import type { SupplierItem } from './connectors/connector.ts';
import { STORED_PRODUCT_COLUMNS, type ProductChange, type StoredProduct } from './job-changes.ts';

type OwnedJob = 'price_update' | 'inventory_update';

/** Whether a batch can take this path: a price without its currency needs the stored one to convert. */
export function fitsOwnedUpdate(jobType: string, items: SupplierItem[]): jobType is OwnedJob {
  if (jobType === 'inventory_update') return true;
  return jobType === 'price_update' && items.every((i) => i.currency !== undefined);
}

const array = (a: unknown[]) => ({ toPostgres: (prepare: (v: unknown) => unknown) => prepare(a) });

export async function updateOwnedColumns(
  db: Knex,
  supplierId: string,
  jobType: OwnedJob,
  items: SupplierItem[],
): Promise<ProductChange[]> {
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
  // which flag it raises: a price job's prices (its currency is part of the price), a stock
  // job's stock. That spares joining each row to itself for its old values (a third of the
  // statement's time on a job that changes every price).
  const { rows } = await db.raw(
    `update imported_products p
        set ${pairs.map(([c, i]) => `${c} = ${col(c, i)}`).join(', ')},
            ${jobType === 'price_update' ? 'price_updated_at' : 'stock_updated_at'} = now(), last_synced_at = now()
       from unnest(?::text[], ?::text[], ?::int8[], ?::int8[], ?::int4[]) as n(id, c0, w0, r0, s0)
      where p.supplier_id = ? and p.supplier_product_id = n.id
        and (${pairs.map(([c, i]) => `p.${c} is distinct from ${col(c, i)}`).join(' or ')})
     returning ${STORED_PRODUCT_COLUMNS.map((c) => `p.${c}`).join(', ')}`,
    [array(ids), array(currency), array(wholesale), array(retail), array(stock), supplierId] as never,
  );
  const price = jobType === 'price_update';
  return (rows as StoredProduct[]).map((row) => ({ row, created: false, priceChanged: price, stockChanged: !price }));
}
