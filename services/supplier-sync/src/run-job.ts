/** Executes one claimed job against its supplier, writing only what the job type owns. */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { SecretBox } from '@adsync/shared/crypto/secret-box';
import { writeWindow } from '@adsync/shared/runtime/write-window';
import { chDateTime } from '@adsync/shared/db/clickhouse';
import { CONNECTORS } from './connectors/index.ts';
import type { HttpPolicy } from './connectors/http.ts';
import type { SupplierItem } from './connectors/connector.ts';
import { planChanges } from './job-changes.ts';
import type { JobRow } from './job-queue.ts';
import { findSupplier } from './suppliers.ts';
import {
  analyzeProducts,
  fitsOwnedUpdate,
  storedProducts,
  updateOwnedColumns,
  upsertOrder,
  upsertProducts,
} from './products.ts';
import { insertHistory, recordHistory } from './product-history.ts';
import { queueMarketplaceUpdates } from './marketplaces.ts';

export interface RunDeps {
  db: Knex;
  ch: ClickHouse;
  box: SecretBox;
  log: Logger;
  supplierBaseUrl: (kind: string) => string;
  policy: HttpPolicy;
  batchSize?: number;
  /** Called between batches, so a long job keeps its lease. */
  heartbeat?: () => Promise<void>;
}

export async function runJob(deps: RunDeps, job: JobRow): Promise<Record<string, number>> {
  const { db } = deps;
  const supplier = await findSupplier(db, job.supplier_id);
  if (!supplier) throw Object.assign(new Error(`supplier ${job.supplier_id} no longer exists`), { retriable: false });
  const make = CONNECTORS[supplier.kind];
  if (!make) throw Object.assign(new Error(`no connector for supplier kind ${supplier.kind}`), { retriable: false });
  const connector = make(
    deps.supplierBaseUrl(supplier.kind),
    JSON.parse(deps.box.open(supplier.credentials_sealed)) as Record<string, unknown>,
    deps.policy,
  );
  const counts = { fetched: 0, changed: 0, created: 0, unchanged: 0, outbound: 0 };
  const log = deps.log.child({ jobId: job.id, supplierId: supplier.id, jobType: job.job_type });

  if (job.job_type === 'order_sync') {
    for await (const page of connector.orders())
      for (const o of page) {
        counts.fetched++;
        const { inserted } = await upsertOrder(db, {
          supplierId: supplier.id,
          orderId: o.orderId,
          accountId: job.account_id,
          status: o.status,
        });
        if (inserted) counts.created++;
        counts.changed++;
      }
    return counts;
  }

  const jobType = job.job_type;
  const source: AsyncIterable<SupplierItem[]> =
    jobType === 'supplier_api'
      ? connector.products()
      : jobType === 'price_update'
        ? connector.prices()
        : connector.stock();
  // Large enough that ClickHouse's fixed cost per insert (a new part, a few ms) stops
  // mattering: 2,000-row batches spent about as long on 50 history inserts as on the updates,
  // and on 100k changed prices 10,000-row batches cost ClickHouse 0.24 CPU-s, 20,000 0.15
  // (bench/supplier-price-update.ts: 0.72 s → 0.67 s; memory 64 → 77 MB more heap).
  const batchSize = deps.batchSize ?? 20_000;
  let batch: SupplierItem[] = [];
  /** The full import's path: read the stored rows, decide in planChanges, upsert what changed. */
  const upsertPlanned = async (tx: Knex.Transaction, items: SupplierItem[]) => {
    const existing = await storedProducts(
      tx,
      supplier.id,
      items.map((i) => i.productId),
    );
    const changes = planChanges(jobType, existing, items);
    if (changes.length)
      await upsertProducts(
        tx,
        { supplierId: supplier.id, accountId: job.account_id },
        jobType,
        changes.map((c) => c.row),
      );
    return changes;
  };
  /**
   * One batch, whole or not at all: the products' new values, their price and stock history
   * in ClickHouse and the updates owed to marketplace listings, in one Postgres transaction
   * that commits last. A failure anywhere (ClickHouse down, say) rolls the products back, so a
   * retry finds them still changed and records them then: nothing is changed unrecorded. A
   * commit that fails after the history was written leaves a duplicate history point at worst.
   */
  const apply = (items: SupplierItem[]) =>
    db.transaction(async (tx) => {
      const stamp = { accountId: job.account_id, supplierId: supplier.id, jobId: job.id, at: chDateTime(new Date()) };
      if (fitsOwnedUpdate(jobType, items)) {
        const { changed, outbound, history } = await updateOwnedColumns(tx, supplier.id, jobType, items, stamp);
        await insertHistory(deps.ch, history);
        return { changed, created: 0, outbound };
      }
      const changes = await upsertPlanned(tx, items);
      let outbound = 0;
      if (changes.length) {
        outbound = await queueMarketplaceUpdates(
          tx,
          supplier.id,
          changes.filter((c) => !c.created),
        );
        // Last before the commit, as the stock and price statement does: a failure before it
        // leaves no history point for a change rolled back.
        await recordHistory(
          deps.ch,
          stamp,
          changes.map((c) => c.row),
        );
      }
      return { changed: changes.length, created: changes.filter((c) => c.created).length, outbound };
    });
  // The next pages are fetched while batches are applied, two at a time on their own
  // connections: with one, Postgres rewriting a batch's rows was most of a price job's time.
  // Each batch is whole on its own (above), so overlapping them loses nothing on a failure,
  // and a batch naming a product a running batch also names waits for it (a page can repeat
  // a product: its last word must land last).
  const window = writeWindow(BATCHES_IN_FLIGHT);
  const submit = (items: SupplierItem[]) =>
    window.submit(
      items.map((i) => i.productId),
      async () => {
        const { changed, created, outbound } = await apply(items);
        counts.fetched += items.length;
        counts.unchanged += items.length - changed;
        counts.changed += changed;
        counts.created += created;
        counts.outbound += outbound;
        await deps.heartbeat?.();
      },
    );
  try {
    for await (const page of source)
      for (const item of page) {
        batch.push(item);
        if (batch.length < batchSize) continue;
        const items = batch;
        batch = [];
        await submit(items);
      }
    if (batch.length) await submit(batch);
    await window.settle();
  } finally {
    // Whatever ended the job, nothing of it keeps running once it reports (a retry would overlap).
    await window.drain();
  }
  // Autovacuum analyses a grown table only after a while; until then the planner believes the
  // supplier has a handful of products and plans the next job's batches for that.
  // A stock or price batch's one statement (products.ts) stays linear either way; fresh
  // statistics let it, and the full import's reads of stored rows, take their fastest plan.
  if (counts.created >= 1000) await analyzeProducts(db);
  log.info(counts, 'supplier job finished');
  return counts;
}

/** Batches of one job being applied at once. */
const BATCHES_IN_FLIGHT = 2;
