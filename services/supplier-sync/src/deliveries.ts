/**
 * Sending what is owed: signed webhooks when a job ends (webhooks.ts keeps them) and the
 * marketplace updates supplier changes owe (marketplaces.ts). Both are rows first, so
 * nothing is lost when a receiver is down. A sender claims due rows with a lease (the
 * work-queue primitive) before posting, so with several senders each row is posted by one
 * of them; a failure is retried with backoff and given up after MAX_DELIVERY_ATTEMPTS,
 * with the last error kept.
 */
import { createHmac } from 'node:crypto';
import { OutboundRefusedError, outboundRequest, type OutboundPolicy } from '@adsync/shared/http/outbound';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { nextAttempt } from '@adsync/shared/runtime/work-queue';
import type { Attempt } from './delivery-rows.ts';
import { findJob } from './job-queue.ts';
import {
  claimDueDeliveries,
  findWebhooks,
  queueDeliveries,
  recordDeliveryAttempt,
  WEBHOOK_QUEUE,
  type DeliveryRow,
} from './webhooks.ts';
import {
  claimDueUpdates,
  integrationEndpoints,
  MARKETPLACE_QUEUE,
  recordUpdateAttempt,
  type OutboundRow,
} from './marketplaces.ts';

export const MAX_DELIVERY_ATTEMPTS = 8;
const BACKOFF = { baseMs: 1000, maxMs: 600_000 };

/** The queues the senders work, by the names the service's queue metrics give them. */
export const DELIVERY_QUEUES = { webhook_deliveries: WEBHOOK_QUEUE, marketplace_updates: MARKETPLACE_QUEUE };

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: receivers recompute it and reject old timestamps. */
export function signWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Queues a finished job's job.finished webhook for each active receiver of its account; how many. */
export async function queueJobWebhooks(db: Knex, jobId: string): Promise<number> {
  const job = await findJob(db, jobId);
  return queueDeliveries(db, job.account_id, job.id, {
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
  });
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

/** What a post came to for its row: sent, due again after a backoff, or given up. Pure. */
function attemptAfter(row: { attempts: number }, r: PostResult): Attempt {
  const attempts = row.attempts + 1;
  if (r.ok) return { attempts, sent: true };
  if (r.final) return { attempts, sent: false, error: r.detail };
  const next = nextAttempt(attempts, MAX_DELIVERY_ATTEMPTS, BACKOFF);
  return 'retryInMs' in next
    ? { attempts, sent: false, error: r.detail, retryAt: new Date(Date.now() + next.retryInMs) }
    : { attempts, sent: false, error: `gave up after ${attempts} attempts: ${r.detail}` };
}

/** A delivery table as a sender sees it: its due rows to claim, and where each post's outcome is recorded. */
interface DueRows<R> {
  claimDue(db: Knex, limit: number, leaseMs: number): Promise<R[]>;
  record(db: Knex, id: string, a: Attempt): Promise<void>;
}

/** Claims due rows a batch at a time and posts each; repeats while batches come back full, so one tick empties the queue. */
async function sendDue<R extends { id: string; attempts: number }>(
  db: Knex,
  rows: DueRows<R>,
  send: (rows: R[]) => Promise<(row: R) => Promise<PostResult>>,
  onFailure: (row: R, outcome: 'retry' | 'failed', detail: string) => void,
): Promise<{ sent: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  for (;;) {
    const claimed = await rows.claimDue(db, CLAIM_BATCH, CLAIM_LEASE_MS);
    const post = await send(claimed);
    for (const row of claimed) {
      const r = await post(row);
      const a = attemptAfter(row, r);
      await rows.record(db, row.id, a);
      if (a.sent) ok++;
      else {
        if (!a.retryAt) failed++;
        onFailure(row, a.retryAt ? 'retry' : 'failed', r.detail);
      }
    }
    if (claimed.length < CLAIM_BATCH) return { sent: ok, failed };
  }
}

export async function deliverWebhooks(
  db: Knex,
  box: SecretBox,
  log: Logger,
  destinations: Destinations,
): Promise<{ delivered: number; failed: number }> {
  const r = await sendDue<DeliveryRow>(
    db,
    { claimDue: claimDueDeliveries, record: recordDeliveryAttempt },
    async (rows) => {
      const hooks = await findWebhooks(db, [...new Set(rows.map((d) => d.webhook_id))]);
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

export async function deliverMarketplaceUpdates(
  db: Knex,
  log: Logger,
  destinations: Destinations,
): Promise<{ sent: number; failed: number }> {
  return sendDue<OutboundRow>(
    db,
    { claimDue: claimDueUpdates, record: recordUpdateAttempt },
    async (rows) => {
      const endpoints = await integrationEndpoints(db, [...new Set(rows.map((o) => o.integration_id))]);
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
