/** BigBuy: REST with a bearer API key, page/pageSize pagination. */
import { SupplierError, type SupplierConnector, type SupplierItem } from './connector.ts';
import { callJson, type HttpPolicy } from './http.ts';

export interface BigBuyCredentials {
  apiKey: string;
}

const PAGE_SIZE = 1000;

/** A product's stock over all of BigBuy's warehouses. */
const totalStock = (s: { stocks: { quantity: number }[] }) => s.stocks.reduce((t, x) => t + x.quantity, 0);

export function bigbuyConnector(baseUrl: string, creds: BigBuyCredentials, policy: HttpPolicy): SupplierConnector {
  const headers = { authorization: `Bearer ${creds.apiKey}`, accept: 'application/json' };
  async function* pages<T>(path: string, extra = ''): AsyncGenerator<T[]> {
    for (let page = 1; ; page++) {
      const items = (await callJson(
        `${baseUrl}${path}?page=${page}&pageSize=${PAGE_SIZE}${extra}`,
        { method: 'GET', headers },
        policy,
        `BigBuy ${path} page ${page}`,
      )) as T[];
      if (!Array.isArray(items)) throw new SupplierError(`BigBuy ${path} answered a non-array`, false);
      yield items;
      if (items.length < PAGE_SIZE) return;
    }
  }
  return {
    kind: 'bigbuy',
    async *products() {
      // Names and stock live on their own endpoints; join them to the product pages by id.
      const names = new Map<string, string>();
      for await (const page of pages<{ id: number; name: string }>(
        '/rest/catalog/productsinformation.json',
        '&isoCode=en',
      ))
        for (const i of page) names.set(String(i.id), i.name);
      const stock = new Map<string, number>();
      for await (const page of pages<{ id: number; stocks: { quantity: number }[] }>(
        '/rest/catalog/productsstock.json',
      ))
        for (const s of page) stock.set(String(s.id), totalStock(s));
      for await (const page of pages<{ id: number; sku: string; wholesalePrice: number; retailPrice: number }>(
        '/rest/catalog/products.json',
        '&isoCode=en',
      ))
        yield page.map((p): SupplierItem => {
          const id = String(p.id);
          return {
            productId: id,
            sku: p.sku,
            name: names.get(id) ?? null,
            currency: 'EUR',
            wholesalePrice: p.wholesalePrice,
            retailPrice: p.retailPrice,
            stock: stock.get(id) ?? 0,
          };
        });
    },
    async *stock() {
      for await (const page of pages<{ id: number; sku: string; stocks: { quantity: number }[] }>(
        '/rest/catalog/productsstock.json',
      ))
        yield page.map((s) => ({ productId: String(s.id), sku: s.sku, stock: totalStock(s) }));
    },
    async *prices() {
      for await (const page of pages<{ id: number; sku: string; wholesalePrice: number; retailPrice: number }>(
        '/rest/catalog/productprices.json',
      ))
        yield page.map((p) => ({
          productId: String(p.id),
          sku: p.sku,
          wholesalePrice: p.wholesalePrice,
          retailPrice: p.retailPrice,
          currency: 'EUR',
        }));
    },
    async *orders() {
      for await (const page of pages<{ id: number; status: string }>('/rest/order/orders.json'))
        yield page.map((o) => ({ orderId: String(o.id), status: o.status }));
    },
  };
}
