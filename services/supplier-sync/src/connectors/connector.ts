import { AppError } from '@adsync/shared/runtime/errors';

/**
 * What a supplier connector offers. Adding a supplier means adding one module that
 * implements this and registering it in connectors/index.ts.
 */
export interface SupplierItem {
  productId: string;
  sku: string | null;
  name?: string | null;
  currency?: string;
  wholesalePrice?: number;
  retailPrice?: number;
  stock?: number;
}

export interface SupplierOrderStatus {
  orderId: string;
  status: string;
}

/**
 * Each method yields the supplier's answers a page at a time, as it pages through them: a
 * job handles 100,000 products, and an async iteration per product (a promise and a
 * microtask each) was a tenth of a price job's CPU in the service.
 */
export interface SupplierConnector {
  readonly kind: string;
  /** Full product data: names, prices and stock. */
  products(): AsyncIterable<SupplierItem[]>;
  /** Stock only (cheaper endpoints where the supplier has them). */
  stock(): AsyncIterable<Pick<SupplierItem, 'productId' | 'sku' | 'stock'>[]>;
  /** Prices only. */
  prices(): AsyncIterable<Pick<SupplierItem, 'productId' | 'sku' | 'wholesalePrice' | 'retailPrice' | 'currency'>[]>;
  orders(): AsyncIterable<SupplierOrderStatus[]>;
}

/** A supplier API failed: throttled and 5xx answers and network trouble are retriable, the rest is not. */
export class SupplierError extends AppError {
  readonly status: number | null;
  constructor(message: string, retriable: boolean, status: number | null = null, retryAfterMs: number | null = null) {
    super(retriable ? 'SUPPLIER_UNAVAILABLE' : 'SUPPLIER_REFUSED', message, { retriable, retryAfterMs });
    this.name = 'SupplierError';
    this.status = status;
  }
}
