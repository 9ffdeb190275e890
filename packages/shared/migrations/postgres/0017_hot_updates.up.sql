-- Stock and price jobs rewrite a few columns of most supplier products, over and over, and
-- none of those columns is indexed. With room left on each page Postgres updates such rows
-- in place (HOT: no new index entries, no index bloat); full pages force every update to
-- write a new index entry too. Applies to pages written from now on.
alter table imported_products set (fillfactor = 70);
