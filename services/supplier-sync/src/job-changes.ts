/**
 * What a job changes, decided purely from the stored rows and the supplier's
 * answer. Each job type owns its columns: a price_update never touches stock or
 * names, an inventory_update never touches prices; only a full import creates
 * products.
 */
import { moneyToMicros } from '@adsync/shared/amazon/currency';
import type { SupplierItem } from './connectors/connector.ts';

export type JobType = 'supplier_api' | 'inventory_update' | 'price_update' | 'order_sync';

export interface StoredProduct {
  supplier_product_id: string;
  sku: string | null;
  name: string | null;
  currency: string;
  wholesale_price_micros: number | null;
  retail_price_micros: number | null;
  stock: number | null;
}

/** The columns of imported_products a StoredProduct carries, for reading one back. */
export const STORED_PRODUCT_COLUMNS: (keyof StoredProduct)[] = [
  'supplier_product_id',
  'sku',
  'name',
  'currency',
  'wholesale_price_micros',
  'retail_price_micros',
  'stock',
];

export interface ProductChange {
  row: StoredProduct;
  created: boolean;
  priceChanged: boolean;
  stockChanged: boolean;
}

export const JOB_COLUMNS: Record<Exclude<JobType, 'order_sync'>, (keyof StoredProduct)[]> = {
  supplier_api: ['sku', 'name', 'currency', 'wholesale_price_micros', 'retail_price_micros', 'stock'],
  inventory_update: ['stock'],
  price_update: ['wholesale_price_micros', 'retail_price_micros', 'currency'],
};

export function planChanges(
  jobType: Exclude<JobType, 'order_sync'>,
  existing: Map<string, StoredProduct>,
  items: SupplierItem[],
): ProductChange[] {
  const out: ProductChange[] = [];
  // The last word on a product wins when a batch repeats it (pages can), and it is planned once:
  // an upsert naming a key twice fails whole ("cannot affect row a second time").
  const last = new Map<string, SupplierItem>();
  for (const item of items) last.set(item.productId, item);
  for (const item of last.values()) {
    const before = existing.get(item.productId);
    if (!before && jobType !== 'supplier_api') continue; // not imported: stock and price jobs leave it alone
    const currency = item.currency ?? before?.currency ?? 'EUR';
    const incoming: StoredProduct = {
      supplier_product_id: item.productId,
      sku: item.sku ?? before?.sku ?? null,
      name: item.name ?? before?.name ?? null,
      currency,
      wholesale_price_micros:
        item.wholesalePrice === undefined
          ? (before?.wholesale_price_micros ?? null)
          : moneyToMicros(item.wholesalePrice, currency),
      retail_price_micros:
        item.retailPrice === undefined
          ? (before?.retail_price_micros ?? null)
          : moneyToMicros(item.retailPrice, currency),
      stock: item.stock === undefined ? (before?.stock ?? null) : item.stock,
    };
    const row: StoredProduct = before ? { ...before } : { ...incoming };
    for (const c of JOB_COLUMNS[jobType]) (row as unknown as Record<string, unknown>)[c] = incoming[c];
    // A listing's price is an amount in a currency, so a new currency is a new price.
    const priceChanged = !before
      ? row.retail_price_micros !== null
      : row.wholesale_price_micros !== before.wholesale_price_micros ||
        row.retail_price_micros !== before.retail_price_micros ||
        row.currency !== before.currency;
    const stockChanged = !before ? row.stock !== null : row.stock !== before.stock;
    const otherChanged = before ? JOB_COLUMNS[jobType].some((c) => row[c] !== before[c]) : true;
    if (!before || priceChanged || stockChanged || otherChanged)
      out.push({ row, created: !before, priceChanged, stockChanged });
  }
  return out;
}

/**
 * ai_score, 0–100, from the last 30 days of a product's history:
 *   40 × availability (share of observations with stock > 0)
 * + 30 × price stability (1 − coefficient of variation of the retail price, floored at 0)
 * + 30 × margin ((retail − wholesale) / retail, clamped to 0..1, current prices)
 * A product that is always in stock, never changes price and sells at twice its
 * cost scores 40 + 30 + 15 = 85.
 */
export function aiScore(input: {
  availability: number;
  priceMean: number;
  priceStdDev: number;
  retail: number | null;
  wholesale: number | null;
}): number {
  const availability = Math.min(1, Math.max(0, input.availability));
  const stability = input.priceMean > 0 ? Math.max(0, 1 - input.priceStdDev / input.priceMean) : 0;
  const margin =
    input.retail && input.retail > 0 && input.wholesale !== null
      ? Math.min(1, Math.max(0, (input.retail - input.wholesale) / input.retail))
      : 0;
  return Math.round((40 * availability + 30 * stability + 30 * margin) * 100) / 100;
}
