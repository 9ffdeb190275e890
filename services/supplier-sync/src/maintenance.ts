/** After each cycle: prune finished jobs older than a week, and recompute every product's ai_score (see job-changes.ts). */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import { aiScore } from './job-changes.ts';

export async function maintenance(db: Knex, ch: ClickHouse): Promise<{ jobsDeleted: number; scored: number }> {
  const jobsDeleted = await db('import_jobs')
    .whereIn('status', ['completed', 'failed'])
    .where('finished_at', '<', db.raw(`now() - interval '7 days'`))
    .delete();
  const rs = await ch.client.query({
    query: `SELECT supplier_id, supplier_product_id, avg(stock > 0) AS availability, avg(retail_price_micros) AS mean, stddevPop(retail_price_micros) AS sd
            FROM supplier_product_history WHERE at >= now() - 30 * 86400 GROUP BY supplier_id, supplier_product_id`,
    format: 'JSONEachRow',
  });
  const hist = new Map(
    (
      await rs.json<{
        supplier_id: string;
        supplier_product_id: string;
        availability: number;
        mean: number;
        sd: number;
      }>()
    ).map((h) => [`${h.supplier_id}|${h.supplier_product_id}`, h]),
  );
  let scored = 0;
  const products = await db('imported_products').select(
    'supplier_id',
    'supplier_product_id',
    'stock',
    'retail_price_micros',
    'wholesale_price_micros',
  );
  const updates = products.map(
    (p: {
      supplier_id: string;
      supplier_product_id: string;
      stock: number | null;
      retail_price_micros: number | null;
      wholesale_price_micros: number | null;
    }) => {
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
    },
  );
  for (let i = 0; i < updates.length; i += 5000) {
    const chunk = updates.slice(i, i + 5000);
    await db.raw(
      `update imported_products p set ai_score = x.score, ai_score_at = now()
       from jsonb_to_recordset(?::jsonb) as x(supplier_id uuid, supplier_product_id text, score numeric)
       where p.supplier_id = x.supplier_id and p.supplier_product_id = x.supplier_product_id`,
      [JSON.stringify(chunk)],
    );
    scored += chunk.length;
  }
  return { jobsDeleted, scored };
}

/** The seed's 7-day statistics: per job type, count, successes, failures, success rate, durations. */
export async function jobStatistics(db: Knex, accountId?: string) {
  let q = db('import_jobs').where('created_at', '>=', db.raw(`now() - interval '7 days'`));
  if (accountId) q = q.where({ account_id: accountId });
  return q
    .groupBy('job_type')
    .orderBy('job_type')
    .select(
      'job_type',
      db.raw('count(*)::int as total'),
      db.raw(`count(*) filter (where status = 'completed')::int as completed`),
      db.raw(`count(*) filter (where status = 'failed')::int as failed`),
      db.raw(`count(*) filter (where status in ('pending', 'running'))::int as in_progress`),
      db.raw(
        `round(100.0 * count(*) filter (where status = 'completed') / nullif(count(*) filter (where status in ('completed', 'failed')), 0), 1)::float as success_rate_pct`,
      ),
      db.raw(
        `round(avg(extract(epoch from finished_at - started_at)) filter (where status = 'completed')::numeric, 2)::float as avg_duration_s`,
      ),
      db.raw(
        `round((percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at)) filter (where status = 'completed'))::numeric, 2)::float as p95_duration_s`,
      ),
    );
}
