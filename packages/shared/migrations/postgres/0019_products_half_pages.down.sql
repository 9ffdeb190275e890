alter table imported_products set (fillfactor = 70);
