/** AliExpress dropshipping: the Open Platform's signed /sync gateway (HMAC-SHA256), page_no/page_size pagination. */
import { createHmac } from 'node:crypto';
import type { SupplierConnector } from './connector.ts';
import { SupplierError } from './connector.ts';
import { callJson, type HttpPolicy } from './http.ts';

export interface AliExpressCredentials {
  appKey: string;
  appSecret: string;
  accessToken: string;
  /** Order ids to follow (AliExpress has no "list my DS orders" call in this API). */
  orderIds?: string[];
}

export function signAliExpress(params: Record<string, string>, secret: string): string {
  const text = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join('');
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex').toUpperCase();
}

const PAGE_SIZE = 60;

export function aliexpressConnector(
  baseUrl: string,
  creds: AliExpressCredentials,
  policy: HttpPolicy,
): SupplierConnector {
  const call = async (method: string, params: Record<string, string>) => {
    const all: Record<string, string> = {
      method,
      app_key: creds.appKey,
      access_token: creds.accessToken,
      timestamp: String(Date.now()),
      sign_method: 'sha256',
      ...params,
    };
    all.sign = signAliExpress(all, creds.appSecret);
    const body = (await callJson(
      `${baseUrl}/sync`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams(all).toString(),
      },
      policy,
      `AliExpress ${method}`,
    )) as Record<string, { result?: unknown; code?: string; msg?: string }>;
    if (body.error_response) {
      const code = String(body.error_response.code);
      throw new SupplierError(
        `AliExpress ${method}: ${code} ${body.error_response.msg ?? ''}`,
        /ApiCallLimit|ServiceUnavailable|isp\./i.test(code),
      );
    }
    return body[`${method.replaceAll('.', '_')}_response`]?.result as Record<string, unknown>;
  };
  async function* feed() {
    for (let page = 1; ; page++) {
      const r = (await call('aliexpress.ds.recommend.feed.get', {
        page_no: String(page),
        page_size: String(PAGE_SIZE),
      })) as { current_record_count: number; products: { traffic_product_d_t_o: Record<string, string | number>[] } };
      const items = r.products?.traffic_product_d_t_o ?? [];
      yield items;
      if (items.length < PAGE_SIZE) return;
    }
  }
  return {
    kind: 'aliexpress',
    async *products() {
      for await (const page of feed())
        yield page.map((p) => ({
          productId: String(p.product_id),
          sku: String(p.sku_id),
          name: String(p.product_title),
          currency: String(p.target_sale_price_currency ?? 'USD'),
          wholesalePrice: Number(p.target_original_price),
          retailPrice: Number(p.target_sale_price),
          stock: Number(p.lastest_volume),
        }));
    },
    async *stock() {
      for await (const page of feed())
        yield page.map((p) => ({
          productId: String(p.product_id),
          sku: String(p.sku_id),
          stock: Number(p.lastest_volume),
        }));
    },
    async *prices() {
      for await (const page of feed())
        yield page.map((p) => ({
          productId: String(p.product_id),
          sku: String(p.sku_id),
          wholesalePrice: Number(p.target_original_price),
          retailPrice: Number(p.target_sale_price),
          currency: String(p.target_sale_price_currency ?? 'USD'),
        }));
    },
    async *orders() {
      for (const id of creds.orderIds ?? []) {
        const r = (await call('aliexpress.trade.ds.order.get', {
          single_order_query: JSON.stringify({ order_id: id }),
        })) as { order_status: string };
        yield [{ orderId: id, status: r.order_status }];
      }
    },
  };
}
