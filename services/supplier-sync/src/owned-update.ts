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
  // Postgres re-reads `p` (not `o`), so a column this batch does not carry keeps the newer value.
  const col = (c: string, incoming: string) => `coalesce(n.${incoming}, p.${c})`;
  const owned =
    jobType === 'price_update'
      ? ['wholesale_price_micros', 'w0', 'retail_price_micros', 'r0', 'currency', 'c0']
      : ['stock', 's0'];
  const pairs: [string, string][] = [];
  for (let k = 0; k < owned.length; k += 2) pairs.push([owned[k]!, owned[k + 1]!]);
  // `o` is the row as this statement found it, so the returned flags compare before with after.
  const { rows } = await db.raw(
    `update imported_products p
        set ${pairs.map(([c, i]) => `${c} = ${col(c, i)}`).join(', ')},
            ${jobType === 'price_update' ? 'price_updated_at' : 'stock_updated_at'} = now(), last_synced_at = now()
       from unnest(?::text[], ?::text[], ?::int8[], ?::int8[], ?::int4[]) as n(id, c0, w0, r0, s0)
       join imported_products o on o.supplier_id = ? and o.supplier_product_id = n.id
      where p.supplier_id = o.supplier_id and p.supplier_product_id = o.supplier_product_id
        and (${pairs.map(([c, i]) => `p.${c} is distinct from ${col(c, i)}`).join(' or ')})
     returning ${STORED_PRODUCT_COLUMNS.map((c) => `p.${c}`).join(', ')},
               (o.wholesale_price_micros is distinct from p.wholesale_price_micros
                 or o.retail_price_micros is distinct from p.retail_price_micros) as price_changed,
               (o.stock is distinct from p.stock) as stock_changed`,
    [array(ids), array(currency), array(wholesale), array(retail), array(stock), supplierId] as never,
  );
  return (rows as (StoredProduct & { price_changed: boolean; stock_changed: boolean })[]).map(
    ({ price_changed, stock_changed, ...row }) => ({
      row,
      created: false,
      priceChanged: price_changed,
      stockChanged: stock_changed,
    }),
  );
}
