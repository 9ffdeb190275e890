/** After each cycle: prune finished jobs older than a week, and recompute every product's ai_score (see job-changes.ts). */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { aiScore } from './job-changes.ts';
import { pruneFinishedJobs } from './job-queue.ts';
import { productsToScore, setAiScores } from './products.ts';
import { historyStatistics } from './product-history.ts';

export async function maintenance(db: Knex, ch: ClickHouse): Promise<{ jobsDeleted: number; scored: number }> {
  const jobsDeleted = await pruneFinishedJobs(db);
  const hist = new Map((await historyStatistics(ch)).map((h) => [`${h.supplier_id}|${h.supplier_product_id}`, h]));
  const scores = (await productsToScore(db)).map((p) => {
    const h = hist.get(`${p.supplier_id}|${p.supplier_product_id}`);
    return {
      supplier_id: p.supplier_id,
      supplier_product_id: p.supplier_product_id,
      score: aiScore({
        availability: h ? Number(h.availability) : (p.stock ?? 0) > 0 ? 1 : 0,
        priceMean: h ? Number(h.mean) : (p.retail_price_micros ?? 0),
        priceStdDev: h ? Number(h.sd) : 0,
        retail: p.retail_price_micros,
        wholesale: p.wholesale_price_micros,
      }),
    };
  });
  const scored = await setAiScores(db, scores);
  return { jobsDeleted, scored };
}
