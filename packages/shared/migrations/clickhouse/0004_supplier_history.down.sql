DROP TABLE IF EXISTS supplier_product_history
