/**
 * Outbound deliveries with retries: signed webhooks when a job ends, and the
 * marketplace updates supplier changes owe. Both are rows first, so nothing is
 * lost when a receiver is down; a tick delivers what is due with backoff.
 */
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { backoffDelay } from '@adsync/shared/backoff';

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
    event: 'job.finished', jobId: job.id, supplierId: job.supplier_id, jobType: job.job_type, status: job.status, attempt: job.attempt, counts: job.counts, error: job.error,
    startedAt: job.started_at, finishedAt: job.finished_at,
  };
  await db('webhook_deliveries').insert(hooks.map((h: { id: string }) => ({ webhook_id: h.id, job_id: job.id, payload: JSON.stringify(payload) }))).onConflict(['webhook_id', 'job_id']).ignore();
  return hooks.length;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.dump();
    return { ok: res.statusCode >= 200 && res.statusCode < 300, detail: `HTTP ${res.statusCode}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export async function deliverWebhooks(db: Knex, box: SecretBox, log: Logger): Promise<{ delivered: number; failed: number }> {
  const due = await db('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').where('d.status', 'pending').where('d.next_attempt_at', '<=', db.fn.now())
    .orderBy('d.id').limit(100).select('d.id', 'd.payload', 'd.attempts', 'w.url', 'w.secret_sealed');
  let delivered = 0;
  let failed = 0;
  for (const d of due) {
    const body = JSON.stringify(d.payload);
    const t = Math.floor(Date.now() / 1000);
    const r = await post(d.url, body, { 'x-adsync-event': 'job.finished', 'x-adsync-delivery': String(d.id), 'x-adsync-signature': signWebhook(box.open(d.secret_sealed), body, t) });
    const attempts = d.attempts + 1;
    if (r.ok) {
      await db('webhook_deliveries').where({ id: d.id }).update({ status: 'delivered', attempts, delivered_at: db.fn.now(), last_error: null });
      delivered++;
    } else {
      const give = attempts >= MAX_DELIVERY_ATTEMPTS;
      await db('webhook_deliveries').where({ id: d.id }).update({ status: give ? 'failed' : 'pending', attempts, last_error: r.detail, next_attempt_at: new Date(Date.now() + backoffDelay(attempts, BACKOFF, () => 1)) });
      if (give) failed++;
      log.warn({ deliveryId: d.id, url: d.url, attempts, detail: r.detail }, give ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
    }
  }
  return { delivered, failed };
}

export async function deliverMarketplaceUpdates(db: Knex, log: Logger): Promise<{ sent: number; failed: number }> {
  const due = await db('marketplace_outbound as o').join('marketplace_integrations as m', 'm.id', 'o.integration_id').where('o.status', 'pending').where('o.next_attempt_at', '<=', db.fn.now())
    .orderBy('o.id').limit(500).select('o.id', 'o.listing_id', 'o.kind', 'o.payload', 'o.attempts', 'm.endpoint_url');
  let sent = 0;
  let failed = 0;
  for (const o of due) {
    const r = await post(`${o.endpoint_url.replace(/\/$/, '')}/listings/${encodeURIComponent(o.listing_id)}/${o.kind}`, JSON.stringify(o.payload), {});
    const attempts = o.attempts + 1;
    if (r.ok) {
      await db('marketplace_outbound').where({ id: o.id }).update({ status: 'sent', attempts, sent_at: db.fn.now() });
      sent++;
    } else {
      const give = attempts >= MAX_DELIVERY_ATTEMPTS;
      await db('marketplace_outbound').where({ id: o.id }).update({ status: give ? 'failed' : 'pending', attempts, last_error: r.detail, next_attempt_at: new Date(Date.now() + backoffDelay(attempts, BACKOFF, () => 1)) });
      if (give) failed++;
      log.warn({ outboundId: o.id, attempts, detail: r.detail }, 'marketplace update failed');
    }
  }
  return { sent, failed };
}
