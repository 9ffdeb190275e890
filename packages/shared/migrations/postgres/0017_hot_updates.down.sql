alter table imported_products reset (fillfactor);
