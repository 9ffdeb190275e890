/** The registry of supplier connectors: one entry per supplier kind. */
import type { SupplierConnector } from './connector.ts';
import type { HttpPolicy } from './http.ts';
import { bigbuyConnector, type BigBuyCredentials } from './bigbuy.ts';
import { aliexpressConnector, type AliExpressCredentials } from './aliexpress.ts';

export const CONNECTORS: Record<
  string,
  (baseUrl: string, credentials: Record<string, unknown>, policy: HttpPolicy) => SupplierConnector
> = {
  bigbuy: (b, c, p) => bigbuyConnector(b, c as unknown as BigBuyCredentials, p),
  aliexpress: (b, c, p) => aliexpressConnector(b, c as unknown as AliExpressCredentials, p),
};

export const SUPPLIER_KINDS = Object.keys(CONNECTORS);
