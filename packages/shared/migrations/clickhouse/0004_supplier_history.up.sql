-- Price and stock history per supplier product, one row per observed change, for dashboards and ai_score.
CREATE TABLE IF NOT EXISTS supplier_product_history
(
    account_id String,
    supplier_id String,
    supplier_product_id String,
    sku String,
    at DateTime,
    wholesale_price_micros Int64,
    retail_price_micros Int64,
    stock Int64,
    job_id String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (supplier_id, supplier_product_id, at)
