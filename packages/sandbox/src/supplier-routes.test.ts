import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from './server.ts';
import {
  ALIEXPRESS_ACCESS_TOKEN,
  ALIEXPRESS_APP_KEY,
  ALIEXPRESS_APP_SECRET,
  BIGBUY_API_KEY,
  aliexpressSign,
  supplierProduct,
} from './supplier-routes.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({ seed: 4 });
  sandbox.state.supplierScale = { products: 230, orders: 12 };
});
after(() => sandbox.close());

const bb = (path: string, key = BIGBUY_API_KEY) =>
  fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
const ae = (params: Record<string, string>, secret = ALIEXPRESS_APP_SECRET) => {
  const all = {
    app_key: ALIEXPRESS_APP_KEY,
    timestamp: String(Date.now()),
    sign_method: 'sha256',
    access_token: ALIEXPRESS_ACCESS_TOKEN,
    ...params,
  };
  return fetch(`${sandbox.url}/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams({ ...all, sign: aliexpressSign(all, secret) }),
  });
};

test('BigBuy pages through every product exactly once; a wrong key is a 401', async () => {
  const ids: number[] = [];
  for (let page = 1; ; page++) {
    const res = await bb(`/rest/catalog/products.json?isoCode=en&page=${page}&pageSize=100`);
    assert.equal(res.status, 200);
    const items = (await res.json()) as { id: number }[];
    ids.push(...items.map((i) => i.id));
    if (items.length < 100) break;
  }
  assert.equal(ids.length, 230);
  assert.equal(new Set(ids).size, 230);
  assert.equal((await bb('/rest/catalog/products.json', 'nope')).status, 401);
  assert.equal((await bb('/rest/catalog/products.json?pageSize=5000')).status, 400);
});

test('BigBuy stock and prices move when the sandbox advances a round; orders advance status', async () => {
  const stock0 = (await (await bb('/rest/catalog/productsstock.json?page=1&pageSize=50')).json()) as {
    stocks: { quantity: number }[];
  }[];
  const order0 = (await (await bb('/rest/order/700003.json')).json()) as { status: string };
  await fetch(`${sandbox.url}/_sandbox/suppliers/advance`, { method: 'POST' });
  const stock1 = (await (await bb('/rest/catalog/productsstock.json?page=1&pageSize=50')).json()) as {
    stocks: { quantity: number }[];
  }[];
  assert.ok(stock1.some((s, i) => s.stocks[0]!.quantity !== stock0[i]!.stocks[0]!.quantity));
  const order1 = (await (await bb('/rest/order/700003.json')).json()) as { status: string };
  assert.ok(
    ['Pending', 'Processing', 'Shipped', 'Delivered', 'Cancelled'].indexOf(order1.status) >=
      ['Pending', 'Processing', 'Shipped', 'Delivered', 'Cancelled'].indexOf(order0.status),
  );
});

test('a round can move only a share of prices; the rest keep the price their last move gave them', async () => {
  const prices = async () => {
    const out = new Map<number, number>();
    for (let page = 1; ; page++) {
      const items = (await (await bb(`/rest/catalog/productprices.json?page=${page}&pageSize=100`)).json()) as {
        id: number;
        wholesalePrice: number;
      }[];
      for (const i of items) out.set(i.id, i.wholesalePrice);
      if (items.length < 100) return out;
    }
  };
  const advance = (body: unknown) =>
    fetch(`${sandbox.url}/_sandbox/suppliers/advance`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await advance({ priceShare: 1.5 })).status, 400);
  assert.equal((await advance({ priceShare: '0.1' })).status, 400);
  assert.equal((await advance([0.1])).status, 400);
  assert.equal((await advance({ priceShare: 1 })).status, 200);
  const before = await prices();
  const res = await advance({ priceShare: 0.1 });
  assert.equal(res.status, 200);
  const after = await prices();
  const moved = [...after].filter(([id, p]) => p !== before.get(id)).length;
  assert.ok(moved > 0 && moved < after.size * 0.25, `${moved} of ${after.size} prices moved`);
  // A round that moves nothing leaves every price as it was.
  assert.equal((await advance({ priceShare: 0 })).status, 200);
  assert.deepEqual(await prices(), after);
});

test('AliExpress: signed calls page the feed and read a product; a bad signature is refused', async () => {
  const first = (await (
    await ae({ method: 'aliexpress.ds.recommend.feed.get', page_no: '1', page_size: '60' })
  ).json()) as Record<
    string,
    { result: { total_record_count: number; products: { traffic_product_d_t_o: { product_id: number }[] } } }
  >;
  const r = first.aliexpress_ds_recommend_feed_get_response!.result;
  assert.equal(r.total_record_count, 230);
  assert.equal(r.products.traffic_product_d_t_o.length, 60);
  const one = (await (
    await ae({
      method: 'aliexpress.ds.product.get',
      product_id: String(r.products.traffic_product_d_t_o[0]!.product_id),
    })
  ).json()) as Record<
    string,
    { result: { ae_item_sku_info_dtos: { ae_item_sku_info_d_t_o: { sku_available_stock: number }[] } } }
  >;
  assert.equal(
    one.aliexpress_ds_product_get_response!.result.ae_item_sku_info_dtos.ae_item_sku_info_d_t_o[0]!.sku_available_stock,
    supplierProduct(sandbox.state, 'aliexpress', 0).stock,
  );
  const bad = (await (await ae({ method: 'aliexpress.ds.product.get', product_id: '1' }, 'wrong-secret')).json()) as {
    error_response: { code: string };
  };
  assert.equal(bad.error_response.code, 'IncompleteSignature');
});
