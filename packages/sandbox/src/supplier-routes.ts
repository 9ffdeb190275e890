/**
 * BigBuy (REST, bearer API key, page/pageSize) and AliExpress dropshipping (the
 * Open Platform's signed `/sync` gateway: method, app_key, timestamp, sign_method
 * sha256, HMAC-SHA256 sign) — products, stock, prices and orders, paginated, from
 * the same seeded catalogue. Stock and prices drift with `supplierRound`, so a sync
 * sees changes.
 */
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { route, send, type Req, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import { intBetween, pick, unit } from './hash-random.ts';

export const BIGBUY_API_KEY = 'bigbuy-sandbox-key';
export const ALIEXPRESS_APP_KEY = '500001';
export const ALIEXPRESS_APP_SECRET = 'aliexpress-sandbox-secret';
export const ALIEXPRESS_ACCESS_TOKEN = 'aliexpress-sandbox-token';

const NAMES = [
  'Wireless earbuds',
  'Yoga mat',
  'LED desk lamp',
  'Phone stand',
  'Water bottle',
  'Laptop sleeve',
  'Resistance bands',
  'Coffee grinder',
  'Pet brush',
  'Garden gloves',
];
const ORDER_STATUSES_BB = ['Pending', 'Processing', 'Shipped', 'Delivered', 'Cancelled'];
const ORDER_STATUSES_AE = [
  'PLACE_ORDER_SUCCESS',
  'WAIT_SELLER_SEND_GOODS',
  'SELLER_PART_SEND_GOODS',
  'WAIT_BUYER_ACCEPT_GOODS',
  'FINISH',
];

export interface SupplierProduct {
  id: number;
  sku: string;
  ean: string;
  name: string;
  wholesalePrice: number;
  retailPrice: number;
  stock: number;
  category: number;
}

/** The catalogue of a supplier at the current round; prices and stock move every round. */
export function supplierProduct(state: SandboxState, supplier: 'bigbuy' | 'aliexpress', i: number): SupplierProduct {
  const seed = state.dataset.seed ^ (supplier === 'bigbuy' ? 0xb16b : 0xa11e);
  const round = state.supplierRound;
  const base = 3 + unit(seed, `p${i}:price`) * 80;
  // The price set in the last round that moved it (a round may move only some prices).
  let moved = round;
  while (moved > 0 && unit(seed, `p${i}:moves${moved}`) >= (state.supplierPriceShares.get(moved) ?? 1)) moved--;
  const drift = moved === 0 ? 1 : 1 + (unit(seed, `p${i}:drift${moved}`) - 0.5) * 0.2;
  const wholesale = Math.round(base * drift * 100) / 100;
  const stock =
    round === 0
      ? intBetween(seed, `p${i}:stock`, 0, 500)
      : Math.max(0, intBetween(seed, `p${i}:stock`, 0, 500) - intBetween(seed, `p${i}:sold${round}`, 0, 120));
  return {
    id: (supplier === 'bigbuy' ? 10_000 : 1_005_000_000_000) + i,
    sku: `${supplier === 'bigbuy' ? 'BB' : 'AE'}-${String(i).padStart(6, '0')}`,
    ean: String(8_400_000_000_000 + i * 7),
    name: `${pick(seed, `p${i}:name`, NAMES)} ${i}`,
    wholesalePrice: wholesale,
    retailPrice: Math.round(wholesale * 1.8 * 100) / 100,
    stock,
    category: 2000 + (i % 25),
  };
}

export function supplierOrder(state: SandboxState, supplier: 'bigbuy' | 'aliexpress', i: number) {
  const seed = state.dataset.seed ^ 0x07de;
  const statuses = supplier === 'bigbuy' ? ORDER_STATUSES_BB : ORDER_STATUSES_AE;
  // Orders advance one status per round, never backwards.
  const start = intBetween(seed, `${supplier}o${i}`, 0, 2);
  return {
    id: (supplier === 'bigbuy' ? 700_000 : 8_100_000_000_000) + i,
    status: statuses[Math.min(statuses.length - 1, start + state.supplierRound)]!,
    product: supplierProduct(state, supplier, i % state.supplierScale.products),
  };
}

function page(req: Req, res: ServerResponse, max: number): { start: number; size: number } | null {
  const p = Number(req.query.get('page') ?? 1);
  const size = Number(req.query.get('pageSize') ?? 100);
  if (!Number.isInteger(p) || p < 1 || !Number.isInteger(size) || size < 1 || size > max) {
    send(res, 400, { code: 400, message: `page must be >= 1 and pageSize between 1 and ${max}` });
    return null;
  }
  return { start: (p - 1) * size, size };
}

function bigbuyAuth(req: Req, res: ServerResponse): boolean {
  if (req.headers.authorization !== `Bearer ${BIGBUY_API_KEY}`) {
    send(res, 401, { code: 401, message: 'Invalid API key' });
    return false;
  }
  return true;
}

/** AliExpress Open Platform signature: HMAC-SHA256 of the sorted key+value pairs, upper-case hex. */
export function aliexpressSign(params: Record<string, string>, secret: string): string {
  const text = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join('');
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex').toUpperCase();
}

export function supplierRoutes(state: SandboxState): Route[] {
  const n = () => state.supplierScale.products;
  const orders = () => state.supplierScale.orders;
  const list =
    <T>(count: number, at: (i: number) => T) =>
    (req: Req, res: ServerResponse) => {
      if (!bigbuyAuth(req, res)) return;
      const pg = page(req, res, 1000);
      if (!pg) return;
      const out: T[] = [];
      for (let i = pg.start; i < Math.min(count, pg.start + pg.size); i++) out.push(at(i));
      send(res, 200, out);
    };
  return [
    route('GET', '/rest/catalog/products.json', (req, res) =>
      list(n(), (i) => {
        const p = supplierProduct(state, 'bigbuy', i);
        return {
          id: p.id,
          sku: p.sku,
          ean13: p.ean,
          category: p.category,
          wholesalePrice: p.wholesalePrice,
          retailPrice: p.retailPrice,
          inShopsPrice: p.retailPrice,
          active: 1,
          dateUpd: new Date(state.dataset.epochMs).toISOString(),
        };
      })(req, res),
    ),
    route('GET', '/rest/catalog/productsinformation.json', (req, res) =>
      list(n(), (i) => {
        const p = supplierProduct(state, 'bigbuy', i);
        return {
          id: p.id,
          sku: p.sku,
          name: p.name,
          description: `<p>${p.name}</p>`,
          isoCode: req.query.get('isoCode') ?? 'en',
        };
      })(req, res),
    ),
    route('GET', '/rest/catalog/productsstock.json', (req, res) =>
      list(n(), (i) => {
        const p = supplierProduct(state, 'bigbuy', i);
        return {
          id: p.id,
          sku: p.sku,
          stocks: [{ quantity: p.stock, minHandlingDays: 1, maxHandlingDays: 3, warehouse: 1 }],
        };
      })(req, res),
    ),
    route('GET', '/rest/catalog/productprices.json', (req, res) =>
      list(n(), (i) => {
        const p = supplierProduct(state, 'bigbuy', i);
        return { id: p.id, sku: p.sku, wholesalePrice: p.wholesalePrice, retailPrice: p.retailPrice };
      })(req, res),
    ),
    route('GET', '/rest/order/orders.json', (req, res) =>
      list(orders(), (i) => {
        const o = supplierOrder(state, 'bigbuy', i);
        return { id: o.id, status: o.status, products: [{ reference: o.product.sku, quantity: 1 }] };
      })(req, res),
    ),
    route('GET', '/rest/order/{id}.json', (req, res) => {
      if (!bigbuyAuth(req, res)) return;
      const i = Number(req.params.id) - 700_000;
      if (!Number.isInteger(i) || i < 0 || i >= orders())
        return send(res, 404, { code: 404, message: 'Order not found' });
      const o = supplierOrder(state, 'bigbuy', i);
      send(res, 200, { id: o.id, status: o.status, products: [{ reference: o.product.sku, quantity: 1 }] });
    }),

    // A marketplace the user sells on: it receives stock and price updates for its listings.
    route('POST', '/marketplace/listings/{listingId}/{kind}', (req, res) => {
      if (req.params.kind !== 'stock' && req.params.kind !== 'price')
        return send(res, 404, { error: 'unknown update kind' });
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        return send(res, 400, { error: 'body is not JSON' });
      }
      state.marketplaceUpdates.push({ listingId: req.params.listingId!, kind: req.params.kind, body, at: Date.now() });
      send(res, 200, { accepted: true });
    }),
    route('POST', '/sync', (req, res) => {
      const params = Object.fromEntries(new URLSearchParams(req.body.toString('utf8')));
      for (const [k, v] of req.query) params[k] = v;
      const err = (code: string, msg: string) =>
        send(res, 200, { error_response: { code, msg, request_id: res.getHeader('x-amz-request-id') } });
      if (params.app_key !== ALIEXPRESS_APP_KEY) return err('InvalidAppKey', 'The app key is invalid');
      if (params.sign_method !== 'sha256' || !params.sign || !params.timestamp)
        return err('MissingParameter', 'sign, sign_method=sha256 and timestamp are required');
      if (params.sign !== aliexpressSign(params, ALIEXPRESS_APP_SECRET))
        return err('IncompleteSignature', 'The request signature does not conform to platform standards');
      if (params.access_token !== ALIEXPRESS_ACCESS_TOKEN)
        return err('IllegalAccessToken', 'The specified access token is invalid or expired');
      const method = params.method;
      const wrap = (name: string, result: unknown) =>
        send(res, 200, {
          [`${name.replaceAll('.', '_')}_response`]: { result, rsp_code: 200, rsp_msg: 'Call succeeds' },
          request_id: res.getHeader('x-amz-request-id'),
        });
      if (method === 'aliexpress.ds.recommend.feed.get') {
        const pageNo = Number(params.page_no ?? 1);
        const size = Number(params.page_size ?? 50);
        if (!(pageNo >= 1) || !(size >= 1 && size <= 60))
          return err('isv.InvalidParameter', 'page_no must be >= 1 and page_size between 1 and 60');
        const start = (pageNo - 1) * size;
        const items = [];
        for (let i = start; i < Math.min(n(), start + size); i++) {
          const p = supplierProduct(state, 'aliexpress', i);
          items.push({
            product_id: p.id,
            product_title: p.name,
            target_sale_price: p.retailPrice.toFixed(2),
            target_original_price: p.wholesalePrice.toFixed(2),
            target_sale_price_currency: 'USD',
            sku_id: p.sku,
            lastest_volume: p.stock,
          });
        }
        return wrap(method, {
          current_page_no: pageNo,
          current_record_count: items.length,
          total_record_count: n(),
          products: { traffic_product_d_t_o: items },
        });
      }
      if (method === 'aliexpress.ds.product.get') {
        const i = Number(params.product_id) - 1_005_000_000_000;
        if (!Number.isInteger(i) || i < 0 || i >= n())
          return err('isv.ProductNotFound', `product ${params.product_id} not found`);
        const p = supplierProduct(state, 'aliexpress', i);
        return wrap(method, {
          ae_item_base_info_dto: { product_id: p.id, subject: p.name, currency_code: 'USD' },
          ae_item_sku_info_dtos: {
            ae_item_sku_info_d_t_o: [
              {
                sku_id: p.sku,
                offer_sale_price: p.retailPrice.toFixed(2),
                sku_price: p.wholesalePrice.toFixed(2),
                sku_available_stock: p.stock,
                currency_code: 'USD',
              },
            ],
          },
        });
      }
      if (method === 'aliexpress.trade.ds.order.get') {
        let q: { order_id?: number | string };
        try {
          q = JSON.parse(params.single_order_query ?? '{}');
        } catch {
          return err('isv.InvalidParameter', 'single_order_query is not JSON');
        }
        const i = Number(q.order_id) - 8_100_000_000_000;
        if (!Number.isInteger(i) || i < 0 || i >= orders())
          return err('isv.OrderNotFound', `order ${String(q.order_id)} not found`);
        const o = supplierOrder(state, 'aliexpress', i);
        return wrap(method, {
          order_status: o.status,
          order_amount: { amount: o.product.retailPrice.toFixed(2), currency_code: 'USD' },
          child_order_list: { aeop_child_order_info: [{ product_id: o.product.id, product_count: 1 }] },
        });
      }
      return err('InvalidMethod', `method ${method} is not supported by the sandbox`);
    }),
  ];
}
