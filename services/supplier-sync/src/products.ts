/**
 * The module that owns `imported_products` and `orders`: what the supplier jobs import.
 * Each job type writes only the columns it owns (job-changes.ts): a full import reads the
 * stored rows back, plans in the service and upserts what changed; a stock or price job
 * changes its columns in one statement (below); an order sync upserts orders. Maintenance
 * rescores every product.
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { pgArray } from '@adsync/shared/db/array-literal';
import { bulkUpsert, type UpsertSpec } from '@adsync/shared/db/bulk-upsert';
import { moneyToMicros } from '@adsync/shared/amazon/currency';
import type { SupplierItem } from './connectors/connector.ts';
import { JOB_COLUMNS, STORED_PRODUCT_COLUMNS, type JobType, type StoredProduct } from './job-changes.ts';
import { queueMarketplaceUpdatesSql } from './marketplaces.ts';
import { historyLinesSql, type HistoryStamp } from './product-history.ts';

/** Records an order as the supplier has it now; whether it is new. */
export async function upsertOrder(
  db: Knex,
  o: { supplierId: string; orderId: string; accountId: string; status: string },
): Promise<{ inserted: boolean }> {
  const res = await db.raw(
    `insert into orders (supplier_id, supplier_order_id, account_id, status) values (?, ?, ?, ?)
         on conflict (supplier_id, supplier_order_id) do update set status = excluded.status, synced_at = now(),
           status_changed_at = case when orders.status is distinct from excluded.status then now() else orders.status_changed_at end
         returning (xmax = 0) as inserted, status`,
    [o.supplierId, o.orderId, o.accountId, o.status],
  );
  return { inserted: Boolean(res.rows[0]?.inserted) };
}

/** The stored rows of these products of a supplier, by product id (those never imported are absent). */
export async function storedProducts(
  db: Knex | Knex.Transaction,
  supplierId: string,
  productIds: string[],
): Promise<Map<string, StoredProduct>> {
  const rows = await db('imported_products')
    .where({ supplier_id: supplierId })
    .whereRaw('supplier_product_id = any(?::text[])', [pgArray(productIds)])
    .select(STORED_PRODUCT_COLUMNS);
  return new Map(rows.map((r: StoredProduct) => [r.supplier_product_id, r]));
}

const PRODUCT_COLUMNS: Record<string, string> = {
  supplier_id: 'uuid',
  supplier_product_id: 'text',
  account_id: 'uuid',
  sku: 'text',
  name: 'text',
  currency: 'text',
  wholesale_price_micros: 'int8',
  retail_price_micros: 'int8',
  stock: 'int4',
};

/** Writes planned rows of a supplier (planChanges), setting only the columns the job type owns. */
export async function upsertProducts(
  db: Knex | Knex.Transaction,
  owner: { supplierId: string; accountId: string },
  jobType: Exclude<JobType, 'order_sync'>,
  rows: StoredProduct[],
): Promise<void> {
  const spec: UpsertSpec<StoredProduct> = {
    table: 'imported_products',
    columns: PRODUCT_COLUMNS,
    key: ['supplier_id', 'supplier_product_id'],
    update: JOB_COLUMNS[jobType] as string[],
    alwaysSet: {
      last_synced_at: 'now()',
      ...(jobType !== 'inventory_update' ? { price_updated_at: 'now()' } : {}),
      ...(jobType !== 'price_update' ? { stock_updated_at: 'now()' } : {}),
    },
    row: (r) => [
      owner.supplierId,
      r.supplier_product_id,
      owner.accountId,
      r.sku,
      r.name,
      r.currency,
      r.wholesale_price_micros,
      r.retail_price_micros,
      r.stock,
    ],
  };
  await bulkUpsert(db, spec, rows);
}

/** Fresh planner statistics, after an import created many products (see runJob). */
export async function analyzeProducts(db: Knex): Promise<void> {
  await db.raw('analyze imported_products');
}

export interface ProductToScore {
  supplier_id: string;
  supplier_product_id: string;
  stock: number | null;
  retail_price_micros: number | null;
  wholesale_price_micros: number | null;
}

/** Every product, with what its ai_score needs besides its history. */
export async function productsToScore(db: Knex): Promise<ProductToScore[]> {
  return db('imported_products').select(
    'supplier_id',
    'supplier_product_id',
    'stock',
    'retail_price_micros',
    'wholesale_price_micros',
  );
}

const SCORES_PER_UPDATE = 5000;

/** Stores products' new ai_score; how many. */
export async function setAiScores(
  db: Knex,
  scores: { supplier_id: string; supplier_product_id: string; score: number }[],
): Promise<number> {
  for (let i = 0; i < scores.length; i += SCORES_PER_UPDATE)
    await db.raw(
      `update imported_products p set ai_score = x.score, ai_score_at = now()
       from jsonb_to_recordset(?::jsonb) as x(supplier_id uuid, supplier_product_id text, score numeric)
       where p.supplier_id = x.supplier_id and p.supplier_product_id = x.supplier_product_id`,
      [JSON.stringify(scores.slice(i, i + SCORES_PER_UPDATE))],
    );
  return scores.length;
}

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
