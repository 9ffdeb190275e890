/**
 * The module that owns `webhook_deliveries` and `marketplace_outbound`: signed
 * webhooks when a job ends, and the marketplace updates supplier changes owe. Both
 * are rows first, so nothing is lost when a receiver is down. A sender claims due
 * rows with a lease (the work-queue primitive) before posting, so with several
 * senders each row is posted by one of them; a failure is retried with backoff and
 * given up after MAX_DELIVERY_ATTEMPTS, with the last error kept.
 */
import { createHmac } from 'node:crypto';
import { OutboundRefusedError, outboundRequest, type OutboundPolicy } from '@adsync/shared/http/outbound';
import type { Knex } from '@adsync/shared/db/postgres';
import { pgArray } from '@adsync/shared/db/array-literal';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { claim, nextAttempt, type QueueSpec } from '@adsync/shared/runtime/work-queue';
import type { StoredProduct } from './job-changes.ts';

export const MAX_DELIVERY_ATTEMPTS = 8;
const BACKOFF = { baseMs: 1000, maxMs: 600_000 };

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: receivers recompute it and reject old timestamps. */
export function signWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export async function queueJobWebhooks(db: Knex, jobId: string): Promise<number> {
  const job = await db('import_jobs').where({ id: jobId }).first();
  const hooks = await db('webhooks').where({ account_id: job.account_id, active: true }).select('id');
  if (hooks.length === 0) return 0;
  const payload = {
    event: 'job.finished',
    jobId: job.id,
    supplierId: job.supplier_id,
    jobType: job.job_type,
    status: job.status,
    attempt: job.attempt,
    counts: job.counts,
    error: job.error,
    startedAt: job.started_at,
    finishedAt: job.finished_at,
  };
  await db('webhook_deliveries')
    .insert(hooks.map((h: { id: string }) => ({ webhook_id: h.id, job_id: job.id, payload: JSON.stringify(payload) })))
    .onConflict(['webhook_id', 'job_id'])
    .ignore();
  return hooks.length;
}

/**
 * Where webhooks and marketplace updates may go: any public https host the account registered
 * (they are the account's own receivers), never a loopback, private or metadata address, and
 * never a redirect; the origins the deployment trusts (the local sandbox) as they are.
 */
export interface Destinations {
  webhook: OutboundPolicy;
  marketplace: OutboundPolicy;
}

export const destinationPolicies = (trustedOrigins: string[]): Destinations => ({
  webhook: { purpose: 'webhook URL', hosts: null, trustedOrigins },
  marketplace: { purpose: 'marketplace endpoint', hosts: null, trustedOrigins },
});

/** One post's outcome; `final` when no retry can help (the destination was removed or is refused). */
type PostResult = { ok: boolean; detail: string; final?: boolean };

const DESTINATION_GONE: PostResult = {
  ok: false,
  detail: 'its destination was removed before it could be sent',
  final: true,
};

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: OutboundPolicy,
): Promise<PostResult> {
  try {
    const res = await outboundRequest(url, policy, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      timeoutMs: POST_TIMEOUT_MS,
    });
    await res.body.dump();
    return { ok: res.statusCode >= 200 && res.statusCode < 300, detail: `HTTP ${res.statusCode}` };
  } catch (err) {
    // A destination the guard refuses stays refused: given up at once, the reason kept.
    return { ok: false, detail: (err as Error).message, final: err instanceof OutboundRefusedError };
  }
}

/**
 * A sender posts what it claimed one by one, each post bounded by POST_TIMEOUT_MS for
 * headers and again for the body; the lease outlasts the whole batch, so another
 * sender never takes a row this one is still about to post.
 */
const POST_TIMEOUT_MS = 10_000;
const CLAIM_BATCH = 20;
const CLAIM_LEASE_MS = CLAIM_BATCH * 2 * POST_TIMEOUT_MS + 60_000;

const OUTBOUND_ROWS_PER_INSERT = 5000;

/** What a listing is told: its new quantity, or its new price as an amount and a currency. */
const outboundPayload = {
  stock: (p: StoredProduct) => ({ quantity: p.stock ?? 0 }),
  price: (p: StoredProduct) => ({ amount_micros: p.retail_price_micros, currency: p.currency }),
};

/** A changed stock or price of a product that is listed on a marketplace owes that listing an update. */
export async function queueMarketplaceUpdates(
  db: Knex,
  supplierId: string,
  changes: { row: StoredProduct; priceChanged: boolean; stockChanged: boolean }[],
): Promise<number> {
  const changed = changes.filter((c) => c.priceChanged || c.stockChanged);
  if (changed.length === 0) return 0;
  const listings = await db('marketplace_listings as l')
    .join('marketplace_integrations as m', 'm.id', 'l.integration_id')
    .where('m.active', true)
    .where('l.supplier_id', supplierId)
    // One array parameter, not one per product (knex's whereIn): see pgArray.
    .whereRaw('l.supplier_product_id = any(?::text[])', [pgArray(changed.map((c) => c.row.supplier_product_id))])
    .select('l.integration_id', 'l.listing_id', 'l.supplier_product_id');
  if (listings.length === 0) return 0;
  const byProduct = new Map(changed.map((c) => [c.row.supplier_product_id, c]));
  const rows = listings.flatMap((l: { integration_id: string; listing_id: string; supplier_product_id: string }) => {
    const c = byProduct.get(l.supplier_product_id)!;
    const out = [];
    for (const kind of ['stock', 'price'] as const)
      if (kind === 'stock' ? c.stockChanged : c.priceChanged)
        out.push({
          integration_id: l.integration_id,
          listing_id: l.listing_id,
          kind,
          payload: JSON.stringify(outboundPayload[kind](c.row)),
        });
    return out;
  });
  // In parts: a batch of thousands of products with several listings each would pass
  // Postgres's 65,535 parameters per statement in one insert (four per row).
  for (let i = 0; i < rows.length; i += OUTBOUND_ROWS_PER_INSERT)
    await db('marketplace_outbound').insert(rows.slice(i, i + OUTBOUND_ROWS_PER_INSERT));
  return rows.length;
}

/**
 * queueMarketplaceUpdates as a data-modifying CTE over `changed`, a CTE of changed
 * imported_products rows (supplier_id, supplier_product_id, stock, retail_price_micros,
 * currency) whose every row changed in `kind`: lets a stock or price update queue what it
 * owes in the statement that makes the change. No bindings. The payloads are
 * outboundPayload's, which a test holds it to.
 */
export function queueMarketplaceUpdatesSql(changed: string, kind: 'stock' | 'price'): string {
  const payload =
    kind === 'stock'
      ? `jsonb_build_object('quantity', coalesce(c.stock, 0))`
      : `jsonb_build_object('amount_micros', c.retail_price_micros, 'currency', c.currency)`;
  return `insert into marketplace_outbound (integration_id, listing_id, kind, payload)
    select l.integration_id, l.listing_id, '${kind}', ${payload}
      from ${changed} c
      join marketplace_listings l on l.supplier_id = c.supplier_id and l.supplier_product_id = c.supplier_product_id
      join marketplace_integrations m on m.id = l.integration_id and m.active
    returning 1`;
}

export const WEBHOOK_QUEUE: QueueSpec = {
  table: 'webhook_deliveries',
  claimable: `status = 'pending' and next_attempt_at <= now()`,
  order: 'id',
  claim: `next_attempt_at = now() + (:lease * interval '1 millisecond')`,
  waiting: `status = 'pending'`,
  ageColumn: 'next_attempt_at',
};

export const MARKETPLACE_QUEUE: QueueSpec = {
  ...WEBHOOK_QUEUE,
  table: 'marketplace_outbound',
  ageColumn: 'created_at',
};

/** The outcome of one post: delivered, or when to try again, or given up. */
async function settle(
  db: Knex,
  table: string,
  row: { id: string | number; attempts: number },
  r: PostResult,
  sentColumn: string,
  sentStatus: string,
): Promise<'sent' | 'retry' | 'failed'> {
  const attempts = row.attempts + 1;
  if (r.ok) {
    await db(table)
      .where({ id: row.id })
      .update({ status: sentStatus, attempts, [sentColumn]: db.fn.now(), last_error: null });
    return 'sent';
  }
  if (r.final) {
    await db(table).where({ id: row.id }).update({ status: 'failed', attempts, last_error: r.detail });
    return 'failed';
  }
  const next = nextAttempt(attempts, MAX_DELIVERY_ATTEMPTS, BACKOFF);
  await db(table)
    .where({ id: row.id })
    .update(
      'retryInMs' in next
        ? { status: 'pending', attempts, last_error: r.detail, next_attempt_at: new Date(Date.now() + next.retryInMs) }
        : { status: 'failed', attempts, last_error: `gave up after ${attempts} attempts: ${r.detail}` },
    );
  return 'retryInMs' in next ? 'retry' : 'failed';
}

/** Claims due rows a batch at a time and posts each; repeats while batches come back full, so one tick empties the queue. */
async function sendDue<R extends { id: string | number; attempts: number }>(
  db: Knex,
  queue: QueueSpec,
  sent: { column: string; status: string },
  send: (rows: R[]) => Promise<(row: R) => Promise<PostResult>>,
  onFailure: (row: R, outcome: 'retry' | 'failed', detail: string) => void,
): Promise<{ sent: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  for (;;) {
    const claimed = await claim<R>(db, queue, { limit: CLAIM_BATCH, leaseMs: CLAIM_LEASE_MS });
    const post = await send(claimed);
    for (const row of claimed) {
      const r = await post(row);
      const outcome = await settle(db, queue.table, row, r, sent.column, sent.status);
      if (outcome === 'sent') ok++;
      else {
        if (outcome === 'failed') failed++;
        onFailure(row, outcome, r.detail);
      }
    }
    if (claimed.length < CLAIM_BATCH) return { sent: ok, failed };
  }
}

type DeliveryRow = { id: string; webhook_id: string; payload: unknown; attempts: number };

export async function deliverWebhooks(
  db: Knex,
  box: SecretBox,
  log: Logger,
  destinations: Destinations,
): Promise<{ delivered: number; failed: number }> {
  const r = await sendDue<DeliveryRow>(
    db,
    WEBHOOK_QUEUE,
    { column: 'delivered_at', status: 'delivered' },
    async (rows) => {
      const hooks = new Map(
        (
          await db('webhooks')
            .whereIn('id', [...new Set(rows.map((d) => d.webhook_id))])
            .select('id', 'url', 'secret_sealed')
        ).map((h: { id: string; url: string; secret_sealed: string }) => [h.id, h]),
      );
      return async (d) => {
        const hook = hooks.get(d.webhook_id);
        if (!hook) return DESTINATION_GONE;
        const body = JSON.stringify(d.payload);
        const t = Math.floor(Date.now() / 1000);
        return post(
          hook.url,
          body,
          {
            'x-adsync-event': 'job.finished',
            'x-adsync-delivery': String(d.id),
            'x-adsync-signature': signWebhook(box.open(hook.secret_sealed), body, t),
          },
          destinations.webhook,
        );
      };
    },
    (d, outcome, detail) =>
      log.warn(
        { deliveryId: d.id, webhookId: d.webhook_id, attempts: d.attempts + 1, detail },
        outcome === 'failed' ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
      ),
  );
  return { delivered: r.sent, failed: r.failed };
}

type OutboundRow = {
  id: string;
  integration_id: string;
  listing_id: string;
  kind: string;
  payload: unknown;
  attempts: number;
};

export async function deliverMarketplaceUpdates(
  db: Knex,
  log: Logger,
  destinations: Destinations,
): Promise<{ sent: number; failed: number }> {
  return sendDue<OutboundRow>(
    db,
    MARKETPLACE_QUEUE,
    { column: 'sent_at', status: 'sent' },
    async (rows) => {
      const endpoints = new Map(
        (
          await db('marketplace_integrations')
            .whereIn('id', [...new Set(rows.map((o) => o.integration_id))])
            .select('id', 'endpoint_url')
        ).map((m: { id: string; endpoint_url: string }) => [m.id, m.endpoint_url]),
      );
      return async (o) => {
        const endpoint = endpoints.get(o.integration_id);
        if (!endpoint) return DESTINATION_GONE;
        return post(
          `${endpoint.replace(/\/$/, '')}/listings/${encodeURIComponent(o.listing_id)}/${o.kind}`,
          JSON.stringify(o.payload),
          {},
          destinations.marketplace,
        );
      };
    },
    (o, outcome, detail) =>
      log.warn(
        { outboundId: o.id, integrationId: o.integration_id, attempts: o.attempts + 1, detail },
        outcome === 'failed' ? 'marketplace update failed for good' : 'marketplace update failed; will retry',
      ),
  );
}
